"""Bot bodies (SPEC R13.1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rolodex.schemas import InputModel, OutputModel


class Activation(StrEnum):
    """When a bot holds a conversation: every new one on its channels, or when handed one."""

    INCEPTION = "inception"
    DELEGATION = "delegation"


class Handoff(StrEnum):
    """Where `complete: HANDOVER` sends the conversation."""

    NEW_QUEUE = "new_queue"
    PREVIOUS_AGENT = "previous_agent"


class OnError(StrEnum):
    """What happens to a conversation when the bot cannot be reached."""

    NEW = "new"
    RESOLVED = "resolved"


BotName = Annotated[str, Field(min_length=1, max_length=100)]
Url = Annotated[str, Field(min_length=1, max_length=2000)]
Timeout = Annotated[int, Field(ge=1, le=3600)]
ChannelIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=100)
]


class BotCreate(InputModel):
    """A new bot; its signing secret is made now."""

    name: BotName
    webhook_url: Url
    activation: Activation
    channel_ids: ChannelIds = []
    handoff: Handoff = Handoff.NEW_QUEUE
    response_timeout_seconds: Timeout = 300
    on_error: OnError = OnError.NEW


class BotUpdate(InputModel):
    """Change any of a bot's settings."""

    name: BotName | None = None
    webhook_url: Url | None = None
    activation: Activation | None = None
    channel_ids: ChannelIds | None = None
    handoff: Handoff | None = None
    response_timeout_seconds: Timeout | None = None
    on_error: OnError | None = None


class BotRead(OutputModel):
    """A bot, with its hex signing secret (admins only see bots)."""

    id: str
    name: str
    display_name: str  # as agents see it: "<Name> VA"
    webhook_url: str
    activation: Activation
    channel_ids: list[str]
    handoff: Handoff
    response_timeout_seconds: int
    on_error: OnError
    secret: str
    created_at: datetime
    updated_at: datetime


class BotCredentials(OutputModel):
    """Client credentials for the bot's REST calls (POST /oauth2/token); shown once."""

    client_id: str
    client_secret: str


class BotDirectoryItem(OutputModel):
    """A bot as agents see it, to hand a conversation to."""

    id: str
    display_name: str
    activation: Activation


class BotLogRead(OutputModel):
    """One line of a bot's log: an event sent to it, or an action it took."""

    id: str
    at: datetime
    direction: Literal["event", "action"]
    type: str  # CONVERSATION_STARTED, …, or sendMessage, complete, …
    conversation_id: str | None
    outcome: Literal["ok", "failed", "ignored"]
    detail: str


class Delegate(InputModel):
    """Hand a conversation to a bot."""

    bot_id: Annotated[str, Field(min_length=1, max_length=40)]


class VirtualAgentModel(BaseModel):
    """A body of the virtual-agent contract: fields a newer bot sends are ignored, and every
    field may be absent or null (older bots send `"sendMessage": null`)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


Text = Annotated[str, Field(max_length=100_000)]
Filename = Annotated[str, Field(max_length=255)]
Name = Annotated[str, Field(max_length=100)]


class OutgoingMessage(VirtualAgentModel):
    """A message from the bot to the contact: text, a file uploaded before by name, or both."""

    text: Text | None = None
    attachment: Filename | None = None


class Note(VirtualAgentModel):
    """An internal note given as an object."""

    text: Text | None = None


class Actions(VirtualAgentModel):
    """What a bot does: its synchronous answer to an event, or a later REST call."""

    indicateTyping: bool | None = None  # noqa: N815 - the contract's name
    sendMessage: OutgoingMessage | None = None  # noqa: N815
    sendMessages: Annotated[list[OutgoingMessage], Field(max_length=20)] | None = None  # noqa: N815
    setContactAttributes: dict[Name, str | int | float | bool | None] | None = None  # noqa: N815
    applyConversationNotes: (  # noqa: N815
        Annotated[list[Text | Note], Field(max_length=20)] | Text | None
    ) = None
    applyTopics: Annotated[list[Name], Field(max_length=50)] | None = None  # noqa: N815
    applyTags: Annotated[list[Name], Field(max_length=50)] | None = None  # noqa: N815
    complete: Literal["HANDOVER", "RESOLVED"] | None = None


class ActionOutcome(OutputModel):
    """What became of one action."""

    action: str
    outcome: Literal["ok", "failed", "ignored"]
    detail: str = ""


class ActionsResult(OutputModel):
    """What Rolodex did with a bot's actions, one line per action."""

    conversation_id: str
    results: list[ActionOutcome]

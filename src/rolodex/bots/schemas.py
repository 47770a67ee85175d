"""Bot bodies (SPEC R13.1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

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

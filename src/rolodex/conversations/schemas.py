"""Conversation and message schemas."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from rolodex.i18n import N_
from rolodex.schemas import InputModel, OutputModel


class Status(StrEnum):
    """A conversation's status, as the Inbox 2.0 product has them."""

    NEW = "new"  # needs the team
    PENDING = "pending"  # waiting for the contact
    RESOLVED = "resolved"


Id = Annotated[str, Field(min_length=1, max_length=40)]


class ConversationUpdate(InputModel):
    """Change status, assignee or team; reason and comment go with a status change."""

    status: Status | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None
    comment: Annotated[str, Field(max_length=5000)] | None = None


class LastMessage(OutputModel):
    """The last message of a conversation as a list shows it."""

    text: str  # its first 200 characters
    direction: str  # inbound | outbound
    at: datetime


class ConversationRead(OutputModel):
    """A conversation with its contact's display name."""

    id: str
    channel_id: str
    contact_id: str
    contact_display_name: str
    status: Status
    team_id: str | None
    assignee_id: str | None
    priority_score: int
    last_message_at: datetime
    created_at: datetime
    # Bumped on every change of status, assignee or team (the ETag; send it as If-Match).
    version: int
    last_message: LastMessage | None = None
    subject: str | None = None  # email: the thread's subject
    # The bot holding it (R13.2; then assignee_id is null), and its name as shown: "<Name> VA".
    bot_id: str | None = None
    bot_name: str | None = None


class ConversationCounts(OutputModel):
    """The caller's badges: `waiting` (new, assigned to them or to no one: the page title's
    count), new ones of theirs, new unassigned ones, their open ones unread."""

    waiting: int
    mine_new: int
    unassigned_new: int
    mine_unread: int


class ConversationEventRead(OutputModel):
    """A change of a conversation: who moved what from what to what, when, and why."""

    id: str
    kind: str
    from_value: str | None
    to_value: str | None
    actor_kind: str
    actor_id: str | None
    reason: str | None
    comment: str | None
    at: datetime


class LabelKind(StrEnum):
    """Topics say what a conversation is about; tags mark it for the team."""

    TOPIC = "topic"
    TAG = "tag"


class LabelCreate(InputModel):
    """A topic or tag of the workspace's catalogue."""

    kind: LabelKind
    name: Annotated[str, Field(min_length=1, max_length=100)]


class LabelRead(OutputModel):
    """A label of the catalogue."""

    id: str
    kind: LabelKind
    name: str


class AppliedLabel(OutputModel):
    """A label applied to a conversation."""

    kind: LabelKind
    name: str


class ConversationDetail(ConversationRead):
    """A conversation with its event log and its labels."""

    events: list[ConversationEventRead]
    labels: list[AppliedLabel] = []


class AttachmentRead(OutputModel):
    """A file of a message (metadata; the bytes are stored by sha256)."""

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    # stored; or, for a platform's file fetched later, pending or failed (with Retry).
    status: str = "stored"


class FileUpload(InputModel):
    """A file sent with a message, base64 encoded."""

    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_type: Annotated[str, Field(min_length=1, max_length=200)] = "application/octet-stream"
    content_base64: str


class MessageCreate(InputModel):
    """An agent's (or bot's) reply: text, files, or both."""

    text: Annotated[str, Field(max_length=100_000)] = ""
    attachments: Annotated[list[FileUpload], Field(max_length=10)] = []

    @model_validator(mode="after")
    def _not_empty(self) -> MessageCreate:
        if not self.text and not self.attachments:
            raise ValueError(N_("Write a message or attach a file."))
        return self


class AuthorKind(StrEnum):
    """Who wrote a message (SPEC R11.5): the contact, an agent (any user), a bot, the system."""

    CONTACT = "contact"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class MessageAuthor(OutputModel):
    """Who wrote a message: its kind, id (contact, user or bot token) and name as shown."""

    kind: AuthorKind
    id: str | None
    name: str


class DeliveryError(OutputModel):
    """Why a platform refused a message: its own code and title."""

    code: str
    title: str


class DeliveryRead(OutputModel):
    """Where an outbound message is on its way to the person (SPEC "Messages")."""

    status: Literal["queued", "sent", "delivered", "read", "failed"]
    error: DeliveryError | None
    provider_message_id: str | None
    updated_at: datetime | None


class ReactionRead(OutputModel):
    """A reaction to a message."""

    emoji: str
    author_kind: AuthorKind
    author_id: str


class MessageRead(OutputModel):
    """A message of a conversation."""

    id: str
    conversation_id: str
    channel_id: str
    direction: str
    # As stored: contact, user, bot (the integration's token) or another integration's kind.
    author_kind: str
    author_id: str | None
    author: MessageAuthor
    external_id: str | None
    text: str
    sent_at: datetime
    created_at: datetime
    attachments: list[AttachmentRead] = []
    # null for inbound messages and for channels not connected to a platform.
    delivery: DeliveryRead | None = None
    reactions: list[ReactionRead] = []
    # An internal note: for the team only, never delivered nor shown to the contact.
    internal: bool = False

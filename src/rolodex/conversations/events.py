"""Events of the conversations domain."""

from __future__ import annotations

from dataclasses import dataclass

from rolodex.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class ConversationStarted(Event):
    """A contact's first message (or first after a resolve) opened a conversation."""

    conversation_id: str
    contact_id: str
    channel_id: str


@dataclass(frozen=True, kw_only=True)
class ConversationStatusChanged(Event):
    """A conversation moved between new, pending and resolved."""

    conversation_id: str
    contact_id: str
    previous: str
    current: str
    actor_kind: str
    actor_id: str | None = None
    reason: str | None = None
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConversationAssigned(Event):
    """A conversation's assignee or team changed."""

    conversation_id: str
    assignee_id: str | None
    team_id: str | None
    previous_assignee_id: str | None
    previous_team_id: str | None
    # Who assigned it, where the emitter knows (the live stream shows it).
    actor_kind: str | None = None
    actor_id: str | None = None
    # The bot holding it (R13.2): taken by a bot, or given back by one.
    bot_id: str | None = None
    previous_bot_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageReceived(Event):
    """A contact's message arrived on a conversation."""

    message_id: str
    conversation_id: str
    contact_id: str
    channel_id: str
    first: bool = False  # it opened the conversation
    # The bot holding the conversation as the message arrived (read with the conversation's
    # upsert, under its row lock): who is told of it, with no read of its own.
    bot_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageSent(Event):
    """An agent, a bot or the system wrote on a conversation (delivery comes after)."""

    message_id: str
    conversation_id: str
    contact_id: str
    channel_id: str
    author_kind: str
    author_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class NoteAdded(Event):
    """An internal note was written on a conversation: agents see it; it is never delivered."""

    message_id: str
    conversation_id: str
    contact_id: str
    channel_id: str


@dataclass(frozen=True, kw_only=True)
class MessageEchoed(Event):
    """The business wrote to the contact from the platform's own app: stored, already sent.

    Not a MessageSent: nothing is delivered for it (the platform has sent it).
    """

    message_id: str
    conversation_id: str
    contact_id: str
    channel_id: str


@dataclass(frozen=True, kw_only=True)
class MessageDeliveryChanged(Event):
    """An outbound message's delivery status changed (queued, sent, delivered, read, failed)."""

    message_id: str
    conversation_id: str
    status: str


@dataclass(frozen=True, kw_only=True)
class MessageChanged(Event):
    """Something shown with a message changed: a reaction, or a file fetched (or not)."""

    message_id: str
    conversation_id: str
    what: str  # "reaction" or "attachment"


@dataclass(frozen=True, kw_only=True)
class LabelsApplied(Event):
    """Topics or tags were applied to a conversation."""

    conversation_id: str
    contact_id: str
    names: tuple[str, ...]

"""Conversations, their status events, messages and attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column, workspace_column

OPEN = text("status != 'resolved'")


class Conversation(Base):
    """A contact's thread on one channel; statuses new (needs the team), pending, resolved."""

    __tablename__ = "conversations"
    __table_args__ = (
        # The queue order. An expression index: `alembic check` on SQLite cannot reflect it
        # and reports a spurious change (PostgreSQL compares it cleanly).
        Index(
            "ix_conversations_queue",
            "workspace_id",
            "status",
            text("priority_score DESC"),
            "created_at",
        ),
        Index("ix_conversations_workspace_id_id", "workspace_id", "id"),
        # At most one open conversation per contact, channel and thread: concurrent first
        # messages all land in one conversation (INSERT … ON CONFLICT on this index).
        Index(
            "uq_conversations_open_thread",
            "contact_id",
            "channel_id",
            "thread_key",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"), index=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    # '' on every channel but email, where it is the Message-ID that opened the thread.
    thread_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    subject: Mapped[str | None] = mapped_column(String(300))  # email: the thread's subject
    status: Mapped[str] = mapped_column(String(20), default="new")
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The bot holding the conversation (R13.2): then no one is its assignee. Not in `version`'s
    # trigger: taking or releasing it always changes the assignee or the status too.
    bot_id: Mapped[str | None] = mapped_column(ForeignKey("bots.id", ondelete="SET NULL"))
    # Who was assigned when a bot took it: `complete: HANDOVER` gives it back (previous_agent).
    previous_assignee_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    priority_score: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime] = created_column()
    # The last message as the list shows it, kept where last_message_at is set (no join).
    last_message_preview: Mapped[str | None] = mapped_column(String(200))
    last_message_direction: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = created_column()
    # Bumped by a database trigger on every change of status, assignee_id or team_id, whoever
    # writes them (routing, a user's deletion, …): the ETag; If-Match compares it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class ConversationReadMark(Base):
    """When a user last read a conversation: it is unread for them if a newer inbound came."""

    __tablename__ = "conversation_reads"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    id: Mapped[str] = id_column()
    # Read per (conversation, user) only: the unique index serves; no index of its own.
    workspace_id: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = created_column()


class ConversationEvent(Base):
    """A change of a conversation: status (from, to, reason, comment), assignment, …"""

    __tablename__ = "conversation_events"

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = workspace_column()
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # status | assignment
    from_value: Mapped[str | None] = mapped_column(String(40))
    to_value: Mapped[str | None] = mapped_column(String(40))
    actor_kind: Mapped[str] = mapped_column(String(20))  # user, bot, crm, contact, system
    actor_id: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = created_column()


class Message(Base):
    """One message; inbound ones carry the platform's id, unique per channel (idempotency)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # Delivery statuses come back by the platform's id of the message sent.
        Index("ix_messages_channel_id_provider_message_id", "channel_id", "provider_message_id"),
    )

    id: Mapped[str] = id_column()
    # Read per conversation only (inbound hot path writes it): no index of its own.
    workspace_id: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"))
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound
    author_kind: Mapped[str] = mapped_column(String(20))  # contact, user, bot
    author_id: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime] = created_column()
    created_at: Mapped[datetime] = created_column()
    # Outbound messages on a connected channel (R11.4): queued, sent, delivered, read, failed
    # (with the platform's code and title); None for inbound and for unconnected channels.
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_error_code: Mapped[str | None] = mapped_column(String(40))
    delivery_error_title: Mapped[str | None] = mapped_column(String(500))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    delivery_updated_at: Mapped[datetime | None]
    # An internal note (a bot's applyConversationNotes): agents read it; never delivered, never
    # shown to the contact.
    internal: Mapped[bool] = mapped_column(default=False, server_default=false())


class MessageReaction(Base):
    """A reaction to a message (an emoji by the contact or an agent): one per author."""

    __tablename__ = "message_reactions"
    __table_args__ = (UniqueConstraint("message_id", "author_kind", "author_id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = workspace_column()
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    author_kind: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[str] = mapped_column(String(40))
    emoji: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = created_column()


class Attachment(Base):
    """A file of a message; the bytes live under data_dir/attachments/<sha[:2]>/<sha>."""

    __tablename__ = "attachments"

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = workspace_column()
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = created_column()
    # stored, or (a platform's file fetched by a job) pending, failed; `source` is the
    # platform's reference to fetch it from, `error` why the last fetch failed.
    status: Mapped[str] = mapped_column(String(20), default="stored", server_default="stored")
    source: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))


class Label(Base):
    """A topic or tag of the workspace's catalogue; bots apply them by name (unknown: ignored)."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "name"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(10))  # topic | tag
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_column()


class ConversationLabel(Base):
    """A label applied to a conversation."""

    __tablename__ = "conversation_labels"
    __table_args__ = (UniqueConstraint("conversation_id", "label_id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    label_id: Mapped[str] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_column()

"""Bots (virtual agents, R13): who they are, where their events go, how they hand over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


class Bot(Base):
    """A virtual agent of a workspace, on the Inbox 2.0 virtual-agent contract."""

    __tablename__ = "bots"

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    webhook_url: Mapped[str] = mapped_column(String(2000))
    activation: Mapped[str] = mapped_column(String(20))  # inception | delegation
    channel_ids: Mapped[list[Any]]
    handoff: Mapped[str] = mapped_column(String(20))  # new_queue | previous_agent
    response_timeout_seconds: Mapped[int] = mapped_column(default=300)
    on_error: Mapped[str] = mapped_column(String(20))  # new | resolved
    # Hex; signs the events (X-Hootsuite-Signature), shown to admins, rotatable.
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = created_column()


class BotLogEntry(Base):
    """One event sent to a bot or one action it took, with its outcome (the bot's page)."""

    __tablename__ = "bot_log"
    __table_args__ = (Index("ix_bot_log_bot_id_id", "bot_id", "id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(String(40))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    at: Mapped[datetime] = created_column()
    direction: Mapped[str] = mapped_column(String(10))  # event | action
    type: Mapped[str] = mapped_column(String(60))
    # No foreign key: a line outlives its conversation; it names no person.
    conversation_id: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))  # ok | failed | ignored
    detail: Mapped[str] = mapped_column(String(500))


class BotUpload(Base):
    """A file a bot uploaded for one conversation, to send in a message by its filename."""

    __tablename__ = "bot_uploads"
    __table_args__ = (UniqueConstraint("conversation_id", "bot_id", "filename"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(String(40))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = created_column()

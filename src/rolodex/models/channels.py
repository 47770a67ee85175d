"""Channels: one account of a medium (a Twitter account, a WhatsApp number, a web chat)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column, workspace_column


class Channel(Base):
    """A channel of a workspace; deleting one only marks it, so its history stays readable."""

    __tablename__ = "channels"
    __table_args__ = (Index("ix_channels_workspace_id_id", "workspace_id", "id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    medium: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    archived: Mapped[bool] = mapped_column(default=False)
    # The platform connection (R11.1): its provider, the fields a read may show, and the
    # secrets as one Fernet token (kit/crypto.py) so a database dump alone hands out nothing.
    provider: Mapped[str | None] = mapped_column(String(30))
    connection: Mapped[dict[str, Any] | None]
    secrets: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_column()
    deleted_at: Mapped[datetime | None]


class WebhookEvent(Base):
    """One delivery a platform posted to a channel's webhook URL, stored before it is processed.

    status: pending (stored, not yet processed), processed, failed (kept with its error until
    retried). `outcome` counts what the delivery carried: messages, statuses, duplicates and
    what was ignored, by reason.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        # The intake takes a channel's pending events in arrival order; lists are per channel.
        Index("ix_webhook_events_channel_status_id", "channel_id", "status", "id"),
        Index("ix_webhook_events_status_received_at", "status", "received_at"),
        # The backlog alone, which a planner prefers whatever its statistics (a burst ANALYZEd
        # while pending would otherwise walk the primary key through every processed one).
        Index(
            "ix_webhook_events_pending",
            "channel_id",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = workspace_column()
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"))
    content_type: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime] = created_column()
    processed_at: Mapped[datetime | None]

"""Public webhooks (B8): a workspace's subscriptions to its contact and conversation events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


class Webhook(Base):
    """One endpoint of a workspace that receives signed events (Standard Webhooks).

    Its deliveries are jobs of kind `webhooks.deliver` whose `ref` is this row's id.
    """

    __tablename__ = "webhooks"
    # Every emitted event asks for the workspace's enabled webhooks: one index look-up.
    __table_args__ = (Index("ix_webhooks_workspace_enabled", "workspace_id", "enabled"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    url: Mapped[str] = mapped_column(String(2000))
    # The event types it receives, e.g. ["contact.created", "message.created"].
    events: Mapped[list[Any]]
    description: Mapped[str] = mapped_column(String(500), default="")
    # "whsec_" + base64 of random bytes; kept in clear: every delivery is signed with it and
    # admins are shown it.
    secret: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Why Rolodex turned it off (deliveries failing for too long); None when an admin did.
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # The first failure of the current unbroken run of failures; any success clears it.
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = created_column()

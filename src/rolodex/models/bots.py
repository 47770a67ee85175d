"""Bots (virtual agents, R13): who they are, where their events go, how they hand over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
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

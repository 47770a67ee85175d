"""Channels: one account of a medium (a Twitter account, a WhatsApp number, a web chat)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


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
    created_at: Mapped[datetime] = created_column()
    deleted_at: Mapped[datetime | None]

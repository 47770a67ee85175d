"""Contacts: one platform identity of a person, unique per (workspace, medium, scope, user id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


class Contact(Base):
    """A person as one platform identity.

    `scope` is the channel id, or the medium name for twitter/instagram (one contact
    across all of the workspace's accounts on that platform, R3.2). It is never NULL:
    unique indexes treat NULLs as distinct, which would let duplicates in.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "medium", "scope", "platform_user_id"),
        Index("ix_contacts_workspace_id_id", "workspace_id", "id"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    medium: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(40))
    platform_user_id: Mapped[str] = mapped_column(String(200))
    # The channel the contact first wrote on (the only one, unless scoped by medium).
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    last_seen_at: Mapped[datetime] = created_column()
    # Bumped on a display name change and (by a database trigger) on any change of one of its
    # attribute values, whoever writes them: the ETag; If-Match compares it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

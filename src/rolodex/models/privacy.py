"""Privacy: the deleted-contacts log and the auto-clear setting (R8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column, workspace_column


class DeletedContact(Base):
    """The record a contact deletion leaves: a hint, the platform, when and by whom (R8.2).

    Nothing else about the person: no contact id, no name, no platform user id. The
    admin is copied as they were at the time, so the record outlives their account.
    """

    __tablename__ = "deleted_contacts"
    __table_args__ = (Index("ix_deleted_contacts_workspace_id_id", "workspace_id", "id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = workspace_column()
    hint: Mapped[str] = mapped_column(String(100))
    medium: Mapped[str] = mapped_column(String(20))
    deleted_at: Mapped[datetime] = created_column()
    deleted_by_id: Mapped[str | None] = mapped_column(String(40))
    deleted_by_name: Mapped[str] = mapped_column(String(200))
    deleted_by_email: Mapped[str] = mapped_column(String(320))


class PrivacySettings(Base):
    """One row per workspace: clear contact attributes N days after a resolve (off: NULL)."""

    __tablename__ = "privacy_settings"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    auto_clear_days: Mapped[int | None]
    updated_at: Mapped[datetime] = created_column()

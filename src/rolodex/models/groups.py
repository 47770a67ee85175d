"""Contact groups (B5), their materialised members, and the routing settings (R4.3, B4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


class ContactGroup(Base):
    """An admin-defined group of contacts: rules over attributes, matched all or any.

    The built-in `vip` group is not stored: its members are the contacts whose `vip`
    value is true (groups/service.py).
    """

    __tablename__ = "contact_groups"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    match: Mapped[str] = mapped_column(String(10))  # all | any
    # [{attribute, definition_id, operator, value}]
    rules: Mapped[list[Any]]
    # Off: the group has no members, so routing, prioritization and filters skip it.
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = created_column()


class ContactGroupMember(Base):
    """A contact being in a group; kept current per contact when its values change."""

    __tablename__ = "contact_group_members"
    __table_args__ = (
        Index("ix_contact_group_members_workspace_id_contact_id", "workspace_id", "contact_id"),
    )

    group_id: Mapped[str] = mapped_column(
        ForeignKey("contact_groups.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[str] = mapped_column(String(40))


class RoutingSettings(Base):
    """A workspace's routing and prioritisation rules (one row, absent until first set)."""

    __tablename__ = "routing_settings"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    vip_team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    fallback_team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL")
    )
    # [{group, group_id, team_id}], [{group, group_id (null for vip), weight}],
    # [{channel_id, weight}]
    group_routes: Mapped[list[Any]]
    prioritized_groups: Mapped[list[Any]]
    prioritized_channels: Mapped[list[Any]]
    updated_at: Mapped[datetime] = created_column()

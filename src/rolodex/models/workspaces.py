"""Workspaces: the tenant, with its plan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


class Workspace(Base):
    """A customer's workspace; every other tenant-owned row points at one."""

    __tablename__ = "workspaces"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20))
    default_phone_region: Mapped[str] = mapped_column(String(2), default="US")
    # The zone times are shown in for people who have not chosen their own (B10).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # R5.1: agents may edit CRM-managed attributes (enterprise; the CRM issue adds its page).
    agents_can_edit_crm_managed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Bumped in the transaction of every configuration change (attribute definitions,
    # mappings, groups, routing, the CRM integration, the plan): what a process keeps in
    # memory is keyed by it (workspaces/config.py).
    config_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    created_at: Mapped[datetime] = created_column()

"""Workspaces: the tenant, with its plan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, false
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
    created_at: Mapped[datetime] = created_column()

"""Workspaces: the tenant, with its plan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


class Workspace(Base):
    """A customer's workspace; every other tenant-owned row points at one."""

    __tablename__ = "workspaces"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20))
    default_phone_region: Mapped[str] = mapped_column(String(2), default="US")
    created_at: Mapped[datetime] = created_column()

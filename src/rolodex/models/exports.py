"""On-demand exports (R7, B6): one row per requested export, its progress and its file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column, workspace_column


class Export(Base):
    """An export: what was asked (type, filters, attributes), how far it got, where its file is."""

    __tablename__ = "exports"
    __table_args__ = (Index("ix_exports_workspace_id_id", "workspace_id", "id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = workspace_column()
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued running done failed
    filters: Mapped[dict[str, Any]]
    attributes: Mapped[list[Any]]
    created_by_id: Mapped[str | None] = mapped_column(String(40))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int | None]
    created_at: Mapped[datetime] = created_column()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]

"""The jobs (outbox) table: background work written in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.kit.clock import utcnow
from rolodex.models.base import Base, created_column, id_column


class Job(Base):
    """One unit of background work; claimed with a lease, retried with backoff, kept if failed."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_run_at", "status", "run_at"),
        Index("ix_jobs_workspace_ref", "workspace_id", "ref"),
        Index("ix_jobs_workspace_contact", "workspace_id", "contact_id"),
    )

    id: Mapped[str] = id_column()
    # Nullable: installation-wide jobs (file clean-up) belong to no workspace.
    workspace_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]]
    # What the job is about (e.g. "contact:ct_…"), so it can be cancelled with its subject.
    ref: Mapped[str | None] = mapped_column(String(120))
    # The contact the job is about, if any: erasing the contact deletes its jobs by this key.
    contact_id: Mapped[str | None] = mapped_column(String(40))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = created_column()
    finished_at: Mapped[datetime | None]

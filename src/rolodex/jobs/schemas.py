"""Job schemas."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from rolodex.schemas import OutputModel

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class DeliveryStatus(StrEnum):
    """Where an outbox delivery (a CRM write-back, a webhook event) stands: its job's status."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobRead(OutputModel):
    """A background job as admins see it."""

    id: str
    kind: str
    status: JobStatus
    attempts: int
    max_attempts: int
    run_at: datetime
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    payload: dict[str, Any]

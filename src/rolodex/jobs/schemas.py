"""Job schemas."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from rolodex.i18n import N_
from rolodex.schemas import OutputModel

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class DeliveryStatus(StrEnum):
    """Where an outbox delivery (a CRM write-back, a webhook event) stands: its job's status."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# What each delivery status is called where people read it (translated where it is shown; the
# pages' scripts use the same words through rolodex.t).
DELIVERY_STATUS_LABELS: dict[DeliveryStatus, str] = {
    DeliveryStatus.QUEUED: N_("Waiting"),
    DeliveryStatus.RUNNING: N_("Sending"),
    DeliveryStatus.DONE: N_("Delivered"),
    DeliveryStatus.FAILED: N_("Failed"),
    DeliveryStatus.CANCELLED: N_("Cancelled"),
}


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

"""Audit schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rolodex.schemas import OutputModel


class AuditEventRead(OutputModel):
    """One audit event: who did what to which object, with the values before and after."""

    id: str
    actor_kind: str
    actor_id: str | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime

"""Workspace schemas."""

from __future__ import annotations

from datetime import datetime

from rolodex.schemas import OutputModel
from rolodex.workspaces.plans import Plan


class WorkspaceRead(OutputModel):
    """A workspace as the API shows it."""

    id: str
    name: str
    plan: Plan
    default_phone_region: str
    created_at: datetime

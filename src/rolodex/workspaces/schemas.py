"""Workspace schemas."""

from __future__ import annotations

from datetime import datetime

from rolodex.auth.principals import Role, TokenKind
from rolodex.plans import Plan
from rolodex.schemas import InputModel, OutputModel
from rolodex.users.schemas import TimeZoneName


class WorkspaceRead(OutputModel):
    """A workspace as the API shows it."""

    id: str
    name: str
    plan: Plan
    default_phone_region: str
    # The zone times are shown in for people who have not chosen their own.
    time_zone: str
    created_at: datetime


class WorkspaceUpdate(InputModel):
    """What an admin may change about the workspace."""

    time_zone: TimeZoneName


class MeRead(OutputModel):
    """The caller: a user, or an integration token, and its workspace."""

    kind: TokenKind
    user_id: str | None
    name: str
    email: str
    role: Role | None
    workspace: WorkspaceRead
    features: dict[str, bool]
    # The person's own language (null: the browser's, from Accept-Language; always null for
    # integrations), and the zone their times are shown in (theirs, else the workspace's).
    locale: str | None
    time_zone: str

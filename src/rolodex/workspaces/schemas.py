"""Workspace schemas."""

from __future__ import annotations

from datetime import datetime

from rolodex.auth.principals import Role, TokenKind
from rolodex.plans import Plan
from rolodex.schemas import OutputModel


class WorkspaceRead(OutputModel):
    """A workspace as the API shows it."""

    id: str
    name: str
    plan: Plan
    default_phone_region: str
    created_at: datetime


class MeRead(OutputModel):
    """The caller: a user, or an integration token, and its workspace."""

    kind: TokenKind
    user_id: str | None
    name: str
    email: str
    role: Role | None
    workspace: WorkspaceRead
    features: dict[str, bool]

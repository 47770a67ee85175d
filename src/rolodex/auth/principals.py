"""The principal: the authenticated caller every service call is made on behalf of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rolodex.errors import Forbidden
from rolodex.i18n import _
from rolodex.plans import Feature, require_feature


class Role(StrEnum):
    """A user's role in their workspace."""

    ADMIN = "admin"
    AGENT = "agent"


class TokenKind(StrEnum):
    """What a bearer credential stands for."""

    USER = "user"  # a user's API token
    SESSION = "session"  # a web page login
    BOT = "bot"  # a virtual agent integration
    CRM = "crm"  # a CRM connector integration


@dataclass(frozen=True)
class WorkspaceFacts:
    """The caller's workspace as `GET /me` shows it, read with the token (no read of its own)."""

    name: str
    default_phone_region: str
    time_zone: str
    created_at: datetime


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user (admin or agent) or an integration of one workspace."""

    workspace_id: str
    plan: str
    kind: TokenKind
    token_id: str
    user_id: str | None = None
    role: Role | None = None
    name: str = ""
    email: str = ""
    # Whether users may edit CRM-managed values here (the workspace flag and the plan, R5.1).
    crm_editing: bool = False
    # The person's language (None: the browser's) and the zone their times are shown in.
    locale: str | None = None
    time_zone: str = "UTC"
    # Set when authenticated by token; every change of these forgets cached principals.
    workspace: WorkspaceFacts | None = None

    @property
    def is_admin(self) -> bool:
        """Whether the caller is a workspace admin."""
        return self.role is Role.ADMIN

    @property
    def is_user(self) -> bool:
        """Whether the caller is a person rather than an integration."""
        return self.user_id is not None

    @property
    def actor_kind(self) -> str:
        """How the audit log names this kind of caller."""
        return "user" if self.is_user else self.kind.value

    @property
    def actor_id(self) -> str:
        """The id the audit log records for this caller."""
        return self.user_id or self.token_id

    def require_admin(self) -> None:
        """Refuse anyone but an admin (403)."""
        if not self.is_admin:
            raise Forbidden(_("Only workspace admins can do this."), code="admin_required")

    def require_user(self) -> None:
        """Refuse integrations where a person must act (403)."""
        if not self.is_user:
            raise Forbidden(_("Only a signed-in person can do this."), code="user_required")

    def require_feature(self, feature: Feature) -> None:
        """Refuse a feature outside the workspace's plan (403 plan_required)."""
        require_feature(self.plan, feature)


def reader(workspace_id: str, plan: str, role: Role, name: str) -> Principal:
    """A principal no person or token holds, for reading as a role would (the stream's
    payloads, a web chat visitor's history); `name` says which part of Rolodex reads."""
    return Principal(
        workspace_id=workspace_id,
        plan=plan,
        kind=TokenKind.USER,
        token_id=name,
        user_id=f"usr_{name}",
        role=role,
        name=name,
    )

"""Creating workspaces (from the command line) and reading them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import i18n
from rolodex.audit import service as audit
from rolodex.auth import service as auth
from rolodex.auth.principals import Principal, Role, TokenKind
from rolodex.errors import NotFound
from rolodex.i18n import _
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.models import Workspace
from rolodex.plans import Feature, Plan
from rolodex.users import service as users
from rolodex.users.schemas import UserCreate
from rolodex.workspaces import config, repository
from rolodex.workspaces.events import WorkspaceCreated


@dataclass
class CreatedWorkspace:
    """What `rolodex workspace create` prints."""

    workspace_id: str
    admin_user_id: str
    token: str


async def create_workspace(
    session: AsyncSession,
    *,
    name: str,
    plan: Plan,
    admin_email: str,
    admin_password: str,
    admin_name: str = "Admin",
    default_phone_region: str = "US",
) -> CreatedWorkspace:
    """A new workspace with its first admin and an API token for that admin."""
    workspace = Workspace(
        id=new_id("ws"), name=name, plan=plan.value, default_phone_region=default_phone_region
    )
    session.add(workspace)
    await session.flush()
    await emit(session, WorkspaceCreated(workspace_id=workspace.id))
    admin = await users.insert_user(
        session,
        workspace.id,
        UserCreate(email=admin_email, name=admin_name, role=Role.ADMIN, password=admin_password),
    )
    _row, token = await auth.issue_token(
        session, workspace_id=workspace.id, kind=TokenKind.USER, user_id=admin.id, name="cli"
    )
    await audit.record(
        session,
        None,
        "workspace.created",
        workspace_id=workspace.id,
        target_type="workspace",
        target_id=workspace.id,
        after={"name": name, "plan": plan.value, "admin_user_id": admin.id},
    )
    return CreatedWorkspace(workspace.id, admin.id, token)


async def _plan(session: AsyncSession, workspace_id: str) -> str:
    return await repository.plan(session, workspace_id) or ""


async def plan_of(session: AsyncSession, workspace_id: str) -> str:
    """The workspace's plan ("" for no such workspace), kept in memory per configuration version.

    Whatever changes a plan must bump the configuration version (`config_changed`) first.
    """
    return await config.cached(session, workspace_id, _plan)


# Per-workspace configuration in memory (workspaces/config.py), for the domains above: each
# keeps its own configuration through `cached_config`, and calls `config_changed` in every
# transaction that changes it, before changing it.
config_changed = config.bump
cached_config = config.cached
note_config_version = config.note
config_version_known = config.known


async def get_workspace(session: AsyncSession, principal: Principal) -> Workspace:
    """The caller's own workspace."""
    workspace = await repository.get(session, principal.workspace_id)
    if workspace is None:
        raise NotFound(_("Workspace not found."))
    return workspace


async def set_agents_can_edit_crm_managed(
    session: AsyncSession, principal: Principal, enabled: bool
) -> Workspace:
    """An admin lets agents edit CRM-managed attributes, or stops them (R5.1, enterprise)."""
    principal.require_admin()
    if enabled:
        principal.require_feature(Feature.CRM_MANAGED_EDITING)
    workspace = await get_workspace(session, principal)
    before = workspace.agents_can_edit_crm_managed
    if before != enabled:
        workspace.agents_can_edit_crm_managed = enabled
        await session.flush()
        auth.forget_principals(session)  # principals carry the flag
        await audit.record(
            session,
            principal,
            "workspace.crm_editing_changed",
            target_type="workspace",
            target_id=workspace.id,
            before={"agents_can_edit_crm_managed": before},
            after={"agents_can_edit_crm_managed": enabled},
        )
    return workspace


async def set_time_zone(session: AsyncSession, principal: Principal, time_zone: str) -> Workspace:
    """An admin sets the workspace's time zone: the default of people without their own."""
    principal.require_admin()
    workspace = await get_workspace(session, principal)
    before = workspace.time_zone
    if before != time_zone:
        workspace.time_zone = time_zone
        await session.flush()
        auth.forget_principals(session)  # principals carry the zone their times are shown in
        await audit.record(
            session,
            principal,
            "workspace.time_zone_changed",
            target_type="workspace",
            target_id=workspace.id,
            before={"time_zone": before},
            after={"time_zone": time_zone},
        )
    return workspace


# The regions of the IANA names people pick from (the rest are aliases such as US/Eastern).
_REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


@cache
def _listed_zones() -> tuple[str, ...]:
    names = [z for z in available_timezones() if z.startswith(_REGIONS)]
    return ("UTC", *sorted(names))


def time_zone_choices(*current: str | None) -> list[str]:
    """The IANA zones a person picks from, with any zone in use (an alias set through the API)."""
    listed = _listed_zones()
    extra = sorted({z for z in current if z and z not in listed and i18n.valid_time_zone(z)})
    return [*extra, *listed]

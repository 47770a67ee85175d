"""Creating workspaces (from the command line) and reading them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.audit import service as audit
from rolodex.auth import service as auth
from rolodex.auth.principals import Principal, Role, TokenKind
from rolodex.errors import NotFound
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.models import Workspace
from rolodex.plans import Feature, Plan
from rolodex.users import service as users
from rolodex.users.schemas import UserCreate
from rolodex.workspaces import repository
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
    _, token = await auth.issue_token(
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


async def get_workspace(session: AsyncSession, principal: Principal) -> Workspace:
    """The caller's own workspace."""
    workspace = await repository.get(session, principal.workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found.")
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
        auth.forget_principals()  # principals carry the flag
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

"""REST routes of the caller and their workspace."""

from __future__ import annotations

from fastapi import APIRouter, Request

from rolodex.auth.deps import AdminPrincipal, CurrentPrincipal
from rolodex.auth.principals import Principal
from rolodex.db import SessionDep, TransactionalRoute, request_session
from rolodex.models import Workspace
from rolodex.plans import Feature, Plan, has_feature
from rolodex.schemas import Serialized
from rolodex.users import service as users
from rolodex.users.schemas import PreferencesUpdate
from rolodex.workspaces import service
from rolodex.workspaces.schemas import MeRead, WorkspaceRead, WorkspaceUpdate

router = APIRouter(prefix="/api/v1", tags=["auth"], route_class=TransactionalRoute)


def _me(
    principal: Principal, workspace: Workspace, locale: str | None, time_zone: str | None
) -> MeRead:
    return _me_of(principal, WorkspaceRead.model_validate(workspace), locale, time_zone)


def _me_of(
    principal: Principal, workspace: WorkspaceRead, locale: str | None, time_zone: str | None
) -> MeRead:
    return MeRead(
        kind=principal.kind,
        user_id=principal.user_id,
        name=principal.name,
        email=principal.email,
        role=principal.role,
        workspace=workspace,
        features={f.value: has_feature(workspace.plan, f) for f in Feature},
        locale=locale,
        time_zone=time_zone or workspace.time_zone,
    )


@router.get("/me", response_model=MeRead)
async def me(request: Request, principal: CurrentPrincipal) -> Serialized:
    """Who the token belongs to, their language and time zone, and their workspace."""
    facts = principal.workspace
    if facts is None:
        workspace = await service.get_workspace(await request_session(request), principal)
        return Serialized(_me(principal, workspace, principal.locale, principal.time_zone))
    # The token's own read carried the workspace: the floor of an authenticated read.
    shown = WorkspaceRead(
        id=principal.workspace_id,
        name=facts.name,
        plan=Plan(principal.plan),
        default_phone_region=facts.default_phone_region,
        time_zone=facts.time_zone,
        created_at=facts.created_at,
    )
    return Serialized(_me_of(principal, shown, principal.locale, principal.time_zone))


@router.patch("/me")
async def update_me(
    data: PreferencesUpdate, session: SessionDep, principal: CurrentPrincipal
) -> MeRead:
    """Set your own language (`en`, `es`) and IANA time zone; null returns to the default.

    The default language is the browser's (`Accept-Language`), the default zone the
    workspace's. The next request is answered in the new language. People only (403 for
    integration tokens).
    """
    user = await users.set_preferences(session, principal, data)
    workspace = await service.get_workspace(session, principal)
    return _me(principal, workspace, user.locale, user.time_zone)


@router.patch("/workspace")
async def update_workspace(
    data: WorkspaceUpdate, session: SessionDep, principal: AdminPrincipal
) -> WorkspaceRead:
    """Set the workspace's time zone, the default of people without their own (admins)."""
    workspace = await service.set_time_zone(session, principal, data.time_zone)
    return WorkspaceRead.model_validate(workspace)

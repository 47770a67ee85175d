"""REST routes of the caller's workspace."""

from __future__ import annotations

from fastapi import APIRouter

from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.plans import Feature, has_feature
from rolodex.workspaces import service
from rolodex.workspaces.schemas import MeRead, WorkspaceRead

router = APIRouter(prefix="/api/v1", tags=["auth"], route_class=TransactionalRoute)


@router.get("/me")
async def me(session: SessionDep, principal: CurrentPrincipal) -> MeRead:
    """Who the token belongs to, and their workspace."""
    workspace = await service.get_workspace(session, principal)
    return MeRead(
        kind=principal.kind,
        user_id=principal.user_id,
        name=principal.name,
        email=principal.email,
        role=principal.role,
        workspace=WorkspaceRead.model_validate(workspace),
        features={f.value: has_feature(workspace.plan, f) for f in Feature},
    )

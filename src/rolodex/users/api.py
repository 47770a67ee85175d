"""REST routes for users and teams."""

from __future__ import annotations

from fastapi import APIRouter, status

from rolodex.auth.deps import AdminPrincipal, CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.schemas import Cursor, Limit, Page
from rolodex.users import service
from rolodex.users.schemas import (
    TeamCreate,
    TeamRead,
    TeamUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["users"], route_class=TransactionalRoute)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(data: UserCreate, session: SessionDep, principal: AdminPrincipal) -> UserRead:
    """Add an admin or agent to the workspace (admins)."""
    return UserRead.model_validate(await service.create_user(session, principal, data))


@router.get("/users")
async def list_users(
    session: SessionDep, principal: AdminPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> Page[UserRead]:
    """The workspace's users (admins)."""
    rows, next_cursor = await service.list_users(session, principal, cursor=cursor, limit=limit)
    return Page(items=[UserRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/users/{user_id}")
async def get_user(user_id: str, session: SessionDep, principal: AdminPrincipal) -> UserRead:
    """One user of the workspace (admins)."""
    return UserRead.model_validate(await service.access_user_by_id(session, principal, user_id))


@router.patch("/users/{user_id}")
async def update_user(
    user_id: str, data: UserUpdate, session: SessionDep, principal: AdminPrincipal
) -> UserRead:
    """Rename a user, change their role, deactivate or reactivate them (admins).

    `active: false` stops their tokens and web sessions at once; their history stays.
    409 `cannot_deactivate_self`, 409 `last_admin` when no active admin would be left.
    """
    return UserRead.model_validate(await service.update_user(session, principal, user_id, data))


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(data: TeamCreate, session: SessionDep, principal: AdminPrincipal) -> TeamRead:
    """Create a team with members (admins)."""
    return await service.create_team(session, principal, data)


@router.get("/teams")
async def list_teams(
    session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> Page[TeamRead]:
    """The workspace's teams and their members."""
    items, next_cursor = await service.list_teams(session, principal, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/teams/{team_id}")
async def get_team(team_id: str, session: SessionDep, principal: CurrentPrincipal) -> TeamRead:
    """One team and its members."""
    return await service.get_team(session, principal, team_id)


@router.patch("/teams/{team_id}")
async def update_team(
    team_id: str, data: TeamUpdate, session: SessionDep, principal: AdminPrincipal
) -> TeamRead:
    """Rename a team or set its members, the whole list (admins)."""
    return await service.update_team(session, principal, team_id, data)

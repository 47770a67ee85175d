"""Managing users and teams (admins), with an audit entry for every change."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.auth.service import hash_password_async
from rolodex.errors import Conflict, InvalidInput, NotFound, field_error
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import Team, TeamMember, User
from rolodex.users import repository
from rolodex.users.schemas import TeamCreate, TeamRead, UserCreate


async def insert_user(session: AsyncSession, workspace_id: str, data: UserCreate) -> User:
    """Store a new user; 409 email_taken if the workspace has the email already (CLI too)."""
    if await repository.email_taken(session, workspace_id, data.email):
        raise Conflict(
            "A user with this email already exists in this workspace.",
            code="email_taken",
            errors=[field_error("email", "already in use", "taken")],
        )
    user = User(
        id=new_id("usr"),
        workspace_id=workspace_id,
        email=data.email,
        name=data.name,
        role=data.role.value,
        password_hash=await hash_password_async(data.password),
    )
    session.add(user)
    await session.flush()
    return user


async def create_user(session: AsyncSession, principal: Principal, data: UserCreate) -> User:
    """An admin adds a user to their workspace."""
    principal.require_admin()
    user = await insert_user(session, principal.workspace_id, data)
    await audit.record(
        session,
        principal,
        "user.created",
        target_type="user",
        target_id=user.id,
        after={"email": user.email, "name": user.name, "role": user.role},
    )
    return user


async def list_users(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[User], str | None]:
    """The workspace's users, oldest first (admins)."""
    principal.require_admin()
    stmt = repository.users_of(principal.workspace_id)
    return await id_page(session, stmt, User.id, cursor=cursor, limit=limit)


async def access_user_by_id(session: AsyncSession, principal: Principal, user_id: str) -> User:
    """A user of the caller's workspace; 404 for missing and foreign alike."""
    user = await repository.get_user(session, principal.workspace_id, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


async def access_team_by_id(session: AsyncSession, principal: Principal, team_id: str) -> Team:
    """A team of the caller's workspace; 404 for missing and foreign alike."""
    team = await repository.get_team(session, principal.workspace_id, team_id)
    if team is None:
        raise NotFound("Team not found.")
    return team


async def create_team(session: AsyncSession, principal: Principal, data: TeamCreate) -> TeamRead:
    """An admin creates a team with members of their workspace."""
    principal.require_admin()
    ws = principal.workspace_id
    member_ids = list(dict.fromkeys(data.member_ids))
    unknown = set(member_ids) - await repository.existing_user_ids(session, ws, member_ids)
    if unknown:
        raise InvalidInput(
            "Some member_ids are not users of this workspace.",
            errors=[field_error("member_ids", f"unknown user id {u}", "unknown") for u in unknown],
        )
    if await repository.team_name_taken(session, ws, data.name):
        raise Conflict(
            "A team with this name already exists.",
            code="team_name_taken",
            errors=[field_error("name", "already in use", "taken")],
        )
    team = Team(id=new_id("team"), workspace_id=ws, name=data.name)
    session.add(team)
    await session.flush()
    if member_ids:
        rows = [{"workspace_id": ws, "team_id": team.id, "user_id": u} for u in member_ids]
        await session.execute(insert(TeamMember), rows)
    await audit.record(
        session,
        principal,
        "team.created",
        target_type="team",
        target_id=team.id,
        after={"name": team.name, "member_ids": member_ids},
    )
    return TeamRead(id=team.id, name=team.name, member_ids=member_ids, created_at=team.created_at)


async def list_teams(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[TeamRead], str | None]:
    """The workspace's teams with their members (any user of the workspace)."""
    stmt = repository.teams_of(principal.workspace_id)
    teams, next_cursor = await id_page(session, stmt, Team.id, cursor=cursor, limit=limit)
    members = await repository.members_by_team(
        session, principal.workspace_id, [t.id for t in teams]
    )
    items = [
        TeamRead(id=t.id, name=t.name, member_ids=members[t.id], created_at=t.created_at)
        for t in teams
    ]
    return items, next_cursor

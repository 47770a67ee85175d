"""User and team rows, always scoped by workspace."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import Team, TeamMember, User


def users_of(workspace_id: str) -> Select[User]:
    """The workspace-scoped statement every user query starts from."""
    return select(User).where(User.workspace_id == workspace_id)


def teams_of(workspace_id: str) -> Select[Team]:
    """The workspace-scoped statement every team query starts from."""
    return select(Team).where(Team.workspace_id == workspace_id)


async def get_user(session: AsyncSession, workspace_id: str, user_id: str) -> User | None:
    """One user of the workspace."""
    stmt = users_of(workspace_id).where(User.id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def existing_user_ids(
    session: AsyncSession, workspace_id: str, user_ids: Sequence[str]
) -> set[str]:
    """Which of these ids are users of the workspace."""
    stmt = select(User.id).where(User.workspace_id == workspace_id, User.id.in_(list(user_ids)))
    return set((await session.execute(stmt)).scalars())


async def email_taken(session: AsyncSession, workspace_id: str, email: str) -> bool:
    """Whether a user of the workspace already has this email."""
    stmt = users_of(workspace_id).with_only_columns(User.id).where(User.email == email).limit(1)
    return (await session.execute(stmt)).first() is not None


async def get_team(session: AsyncSession, workspace_id: str, team_id: str) -> Team | None:
    """One team of the workspace."""
    stmt = teams_of(workspace_id).where(Team.id == team_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def team_name_taken(session: AsyncSession, workspace_id: str, name: str) -> bool:
    """Whether the workspace already has a team of this name."""
    stmt = select(Team.id).where(Team.workspace_id == workspace_id, Team.name == name).limit(1)
    return (await session.execute(stmt)).first() is not None


async def members_by_team(
    session: AsyncSession, workspace_id: str, team_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The member ids of each of these teams, in one query."""
    stmt = select(TeamMember.team_id, TeamMember.user_id).where(
        TeamMember.workspace_id == workspace_id, TeamMember.team_id.in_(list(team_ids))
    )
    out: dict[str, list[str]] = {team_id: [] for team_id in team_ids}
    for team_id, user_id in await session.execute(stmt):
        out[team_id].append(user_id)
    return out

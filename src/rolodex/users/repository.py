"""User and team rows, always scoped by workspace."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, delete, insert, select
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


async def active_admin_ids(session: AsyncSession, workspace_id: str) -> list[str]:
    """The workspace's active admins, locked until the transaction ends (PostgreSQL).

    The lock makes two admins who demote or deactivate each other at once queue, so the
    second sees the first's change and the workspace never loses its last admin.
    """
    stmt = (
        select(User.id)
        .where(User.workspace_id == workspace_id, User.role == "admin", User.active.is_(True))
        .order_by(User.id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def team_name_taken_by_another(
    session: AsyncSession, workspace_id: str, name: str, team_id: str
) -> bool:
    """Whether another team of the workspace has this name."""
    stmt = (
        select(Team.id)
        .where(Team.workspace_id == workspace_id, Team.name == name, Team.id != team_id)
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def replace_members(
    session: AsyncSession, workspace_id: str, team_id: str, user_ids: Sequence[str]
) -> None:
    """Make these users the team's members, and no one else."""
    await session.execute(
        delete(TeamMember).where(
            TeamMember.workspace_id == workspace_id, TeamMember.team_id == team_id
        )
    )
    if user_ids:
        rows = [{"workspace_id": workspace_id, "team_id": team_id, "user_id": u} for u in user_ids]
        await session.execute(insert(TeamMember), rows)

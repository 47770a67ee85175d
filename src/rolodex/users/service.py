"""Managing users and teams (admins), with an audit entry for every change; people's preferences."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.audit import service as audit
from rolodex.auth import service as auth
from rolodex.auth.principals import Principal, Role
from rolodex.auth.service import hash_password_async
from rolodex.errors import Conflict, InvalidInput, NotFound, field_error
from rolodex.i18n import _
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import Team, User
from rolodex.users import repository
from rolodex.users.schemas import (
    PreferencesUpdate,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    UserCreate,
    UserUpdate,
)


async def insert_user(session: AsyncSession, workspace_id: str, data: UserCreate) -> User:
    """Store a new user; 409 email_taken if the workspace has the email already (CLI too)."""
    if await repository.email_taken(session, workspace_id, data.email):
        raise Conflict(
            _("A user with this email already exists in this workspace."),
            code="email_taken",
            errors=[field_error("email", _("This email is already in use here."), "taken")],
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


async def directory(session: AsyncSession, principal: Principal) -> list[tuple[str, str, bool]]:
    """Every user of the workspace as (id, name, active), by name (any signed-in user).

    Agents assign conversations to each other and read who changed what: names, not accounts.
    """
    rows = await session.execute(
        repository.users_of(principal.workspace_id)
        .with_only_columns(User.id, User.name, User.active)
        .order_by(User.name, User.id)
    )
    return [(row.id, row.name, row.active) for row in rows]


async def access_user_by_id(session: AsyncSession, principal: Principal, user_id: str) -> User:
    """A user of the caller's workspace; 404 for missing and foreign alike."""
    user = await repository.get_user(session, principal.workspace_id, user_id)
    if user is None:
        raise NotFound(_("User not found."))
    return user


def _no_nulls(data: Any, fields: tuple[str, ...]) -> None:
    """A field sent as null is refused: leave it out to keep it (422 naming it)."""
    for field in fields:
        if field in data.model_fields_set and getattr(data, field) is None:
            raise InvalidInput.for_field(
                field, _("Give a value, or leave the field out to keep it."), code="null_value"
            )


async def update_user(
    session: AsyncSession, principal: Principal, user_id: str, data: UserUpdate
) -> User:
    """An admin renames a user, changes their role, deactivates or reactivates them.

    Deactivating stops the person's API tokens and web sessions at once (their history,
    conversations and audit entries stay); they can no longer log in until reactivated, and
    then log in afresh. An admin cannot deactivate themself, and the workspace keeps at least
    one active admin (409).
    """
    principal.require_admin()
    _no_nulls(data, ("name", "role", "active"))
    user = await access_user_by_id(session, principal, user_id)
    before = {"name": user.name, "role": user.role, "active": user.active}
    name = data.name if data.name is not None else user.name
    role = data.role.value if data.role is not None else user.role
    active = data.active if data.active is not None else user.active
    if not active and user.active and user.id == principal.user_id:
        raise Conflict(
            _("You cannot deactivate yourself; ask another admin."),
            code="cannot_deactivate_self",
            errors=[field_error("active", _("You cannot deactivate yourself."), "self")],
        )
    stays_admin = role == Role.ADMIN.value and active
    if before["role"] == Role.ADMIN.value and before["active"] and not stays_admin:
        admins = await repository.active_admin_ids(session, principal.workspace_id)
        if not [a for a in admins if a != user.id]:
            field = "active" if not active else "role"
            raise Conflict(
                _(
                    "%(name)s is the workspace's last admin; make someone else an admin first.",
                    name=user.name,
                ),
                code="last_admin",
                errors=[field_error(field, _("The workspace needs an active admin."), "last")],
            )
    user.name, user.role, user.active = name, role, active
    await session.flush()
    after = {"name": name, "role": role, "active": active}
    changed = {k for k in after if after[k] != before[k]}
    if changed - {"active"}:
        await audit.record(
            session,
            principal,
            "user.updated",
            target_type="user",
            target_id=user.id,
            before={k: before[k] for k in changed - {"active"}},
            after={k: after[k] for k in changed - {"active"}},
        )
    if "active" in changed:
        revoked = 0
        if not active:
            revoked = await auth.revoke_user_tokens(session, principal.workspace_id, user.id)
        await audit.record(
            session,
            principal,
            "user.deactivated" if not active else "user.reactivated",
            target_type="user",
            target_id=user.id,
            after={"active": active, **({"tokens_revoked": revoked} if not active else {})},
        )
    if changed:
        auth.forget_principals(session)  # principals carry the name and the role
    return user


async def set_preferences(
    session: AsyncSession, principal: Principal, data: PreferencesUpdate
) -> User:
    """A person sets their own language and time zone (null: back to the default).

    Integrations are not people (403). The next request is served in the new language.
    """
    principal.require_user()
    assert principal.user_id is not None
    user = await access_user_by_id(session, principal, principal.user_id)
    fields = data.model_fields_set
    if "locale" in fields:
        user.locale = data.locale
    if "time_zone" in fields:
        user.time_zone = data.time_zone
    await session.flush()
    auth.forget_principals(session)  # principals carry the language and the zone
    return user


async def access_team_by_id(session: AsyncSession, principal: Principal, team_id: str) -> Team:
    """A team of the caller's workspace; 404 for missing and foreign alike."""
    team = await repository.get_team(session, principal.workspace_id, team_id)
    if team is None:
        raise NotFound(_("Team not found."))
    return team


async def _check_members(session: AsyncSession, workspace_id: str, member_ids: list[str]) -> None:
    unknown = set(member_ids) - await repository.existing_user_ids(
        session, workspace_id, member_ids
    )
    if unknown:
        raise InvalidInput(
            _("Some member_ids are not users of this workspace."),
            errors=[
                field_error("member_ids", _("Unknown user id %(id)s.", id=u), "unknown")
                for u in sorted(unknown)
            ],
        )


def _team_name_taken() -> Conflict:
    return Conflict(
        _("A team with this name already exists."),
        code="team_name_taken",
        errors=[field_error("name", _("Another team already has this name."), "taken")],
    )


async def create_team(session: AsyncSession, principal: Principal, data: TeamCreate) -> TeamRead:
    """An admin creates a team with members of their workspace."""
    principal.require_admin()
    ws = principal.workspace_id
    member_ids = list(dict.fromkeys(data.member_ids))
    await _check_members(session, ws, member_ids)
    if await repository.team_name_taken(session, ws, data.name):
        raise _team_name_taken()
    team = Team(id=new_id("team"), workspace_id=ws, name=data.name)
    session.add(team)
    await session.flush()
    await repository.replace_members(session, ws, team.id, member_ids)
    await audit.record(
        session,
        principal,
        "team.created",
        target_type="team",
        target_id=team.id,
        after={"name": team.name, "member_ids": member_ids},
    )
    return TeamRead(id=team.id, name=team.name, member_ids=member_ids, created_at=team.created_at)


async def get_team(session: AsyncSession, principal: Principal, team_id: str) -> TeamRead:
    """One team of the workspace with its members (any user of the workspace)."""
    team = await access_team_by_id(session, principal, team_id)
    members = await repository.members_by_team(session, principal.workspace_id, [team.id])
    return TeamRead(
        id=team.id, name=team.name, member_ids=members[team.id], created_at=team.created_at
    )


async def update_team(
    session: AsyncSession, principal: Principal, team_id: str, data: TeamUpdate
) -> TeamRead:
    """An admin renames a team or sets its members (the whole list)."""
    principal.require_admin()
    _no_nulls(data, ("name", "member_ids"))
    ws = principal.workspace_id
    team = await access_team_by_id(session, principal, team_id)
    members = (await repository.members_by_team(session, ws, [team.id]))[team.id]
    before: dict[str, Any] = {"name": team.name, "member_ids": members}
    after = dict(before)
    if data.member_ids is not None:
        member_ids = list(dict.fromkeys(data.member_ids))
        await _check_members(session, ws, member_ids)
        after["member_ids"] = member_ids
    if data.name is not None and data.name != team.name:
        if await repository.team_name_taken_by_another(session, ws, data.name, team.id):
            raise _team_name_taken()
        after["name"] = data.name
    changed = [k for k in after if after[k] != before[k]]
    if "name" in changed:
        team.name = after["name"]
        await session.flush()
    if "member_ids" in changed:
        await repository.replace_members(session, ws, team.id, after["member_ids"])
    if changed:
        await audit.record(
            session,
            principal,
            "team.updated",
            target_type="team",
            target_id=team.id,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return TeamRead(
        id=team.id, name=team.name, member_ids=after["member_ids"], created_at=team.created_at
    )


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

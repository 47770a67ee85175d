"""Admin settings > Users & teams: add, edit and deactivate users; create and edit teams.

Plain forms posted to the server (the same service calls as the API), so every change works
without script; a change ends on the Users & teams page with a line saying what was done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.auth.principals import Principal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.errors import AppError
from rolodex.i18n import N_, _
from rolodex.models import User
from rolodex.schemas import Text
from rolodex.users import service
from rolodex.users.schemas import (
    TeamCreate,
    TeamRead,
    TeamUpdate,
    UserCreate,
    UserUpdate,
    form_errors,
)
from rolodex.web import page

T = TypeVar("T")

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

# What the Users & teams page says after a change (`?done=<key>&id=<user or team id>`).
DONE = {
    "user_added": N_("%(name)s was added."),
    "user_saved": N_("Changes to %(name)s are saved."),
    "user_deactivated": N_(
        "%(name)s is deactivated: their sessions and API tokens have stopped. "
        "Their conversations and history stay."
    ),
    "user_reactivated": N_("%(name)s is active again and can log in."),
    "team_created": N_("Team %(name)s was created."),
    "team_saved": N_("Changes to team %(name)s are saved."),
}

Field = Annotated[Text, Form(max_length=254)]


def _problem_errors(exc: AppError) -> dict[str, str]:
    """A service's refusal as messages by field; what names no field goes under `form`."""
    if exc.status == 403:
        raise exc
    out: dict[str, str] = {}
    for error in exc.errors:
        out.setdefault(str(error.get("field", "form")).split(".")[0], str(error["message"]))
    if not out:
        out["form"] = exc.detail
    return out


async def _everyone(session: SessionDep, principal: Principal) -> tuple[list[User], list[TeamRead]]:
    users, _next = await service.list_users(session, principal, cursor=None, limit=200)
    teams, _next = await service.list_teams(session, principal, cursor=None, limit=200)
    return users, teams


def _done(done: str, target: str, users: list[User], teams: list[TeamRead]) -> str:
    names = {u.id: u.name for u in users} | {t.id: t.name for t in teams}
    if done not in DONE or target not in names:
        return ""
    return _(DONE[done], name=names[target])


async def _users_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    users, teams = await _everyone(session, principal)
    names = {u.id: u for u in users}
    team_rows = [(t, [names[m] for m in t.member_ids if m in names]) for t in teams]
    done = _done(
        request.query_params.get("done", ""), request.query_params.get("id", ""), users, teams
    )
    return page(
        request,
        "users/index.html",
        principal,
        section="admin",
        users=users,
        teams=team_rows,
        done=done,
        status_code=status_code,
        **context,
    )


async def _attempt(action: Callable[[], Awaitable[T]]) -> tuple[T | None, dict[str, str], int]:
    """A page form's service call: its result, or its refusal as messages by field and status.

    A 404 is raised as it is (the page's subject is gone), and a 403 by _problem_errors.
    """
    try:
        return await action(), {}, 200
    except ValidationError as exc:
        return None, form_errors(exc), 422
    except AppError as exc:
        if exc.status == 404:
            raise
        return None, _problem_errors(exc), exc.status


def _back(done: str, target: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/users?done={done}&id={target}", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(request: Request, session: SessionDep, principal: SignedIn) -> HTMLResponse:
    """The workspace's users and teams, with forms to add a user and create a team."""
    return await _users_page(request, session, principal)


@router.post("/admin/users")
async def add_user(
    request: Request,
    session: SessionDep,
    principal: SignedInForm,
    email: Field = "",
    name: Annotated[Text, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "agent",
    password: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    """Add a user from the page (the same service call as POST /api/v1/users)."""
    form = {"email": email, "name": name, "role": role}
    user, errors, _ = await _attempt(
        lambda: service.create_user(
            session, principal, UserCreate.model_validate({**form, "password": password})
        )
    )
    if user is not None:
        return _back("user_added", user.id)
    return await _users_page(
        request, session, principal, user_errors=errors, user_form=form, status_code=422
    )


def _user_page(
    request: Request,
    principal: Principal,
    user: User,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    access_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "users/user.html",
        principal,
        section="admin",
        user=user,
        form=form or {"name": user.name, "role": user.role},
        errors=errors or {},
        access_errors=access_errors or {},
        is_self=user.id == principal.user_id,
        status_code=status_code,
    )


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
async def user_page(
    request: Request, user_id: str, session: SessionDep, principal: SignedIn
) -> HTMLResponse:
    """One user: their name and role, and deactivating or reactivating them."""
    principal.require_admin()
    user = await service.access_user_by_id(session, principal, user_id)
    return _user_page(request, principal, user)


@router.post("/admin/users/{user_id}")
async def save_user(
    request: Request,
    user_id: str,
    session: SessionDep,
    principal: SignedInForm,
    name: Annotated[Text, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Save a user's name and role (the same service call as PATCH /api/v1/users/{id})."""
    form = {"name": name, "role": role}
    user, errors, _ = await _attempt(
        lambda: service.update_user(session, principal, user_id, UserUpdate.model_validate(form))
    )
    if user is not None:
        if user.id == principal.user_id and user.role != "admin":
            return RedirectResponse("/", status_code=303)  # no longer an admin: nothing here
        return _back("user_saved", user.id)
    user = await service.access_user_by_id(session, principal, user_id)
    return _user_page(request, principal, user, form=form, errors=errors, status_code=422)


@router.post("/admin/users/{user_id}/access")
async def set_access(
    request: Request,
    user_id: str,
    session: SessionDep,
    principal: SignedInForm,
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Deactivate (`active=false`) or reactivate (`active=true`) a user."""
    data = {"active": active}
    user, errors, status_code = await _attempt(
        lambda: service.update_user(session, principal, user_id, UserUpdate.model_validate(data))
    )
    if user is not None:
        return _back("user_reactivated" if user.active else "user_deactivated", user.id)
    user = await service.access_user_by_id(session, principal, user_id)
    access_errors = {"form": "; ".join(dict.fromkeys(errors.values()))}
    return _user_page(
        request, principal, user, access_errors=access_errors, status_code=status_code
    )


@router.post("/admin/teams")
async def create_team(
    request: Request,
    session: SessionDep,
    principal: SignedInForm,
    name: Annotated[Text, Form(max_length=200)] = "",
    member_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create a team from the page (the same service call as POST /api/v1/teams)."""
    form: dict[str, Any] = {"name": name, "member_ids": member_ids or []}
    team, errors, _ = await _attempt(
        lambda: service.create_team(session, principal, TeamCreate.model_validate(form))
    )
    if team is not None:
        return _back("team_created", team.id)
    return await _users_page(
        request, session, principal, team_errors=errors, team_form=form, status_code=422
    )


def _team_page(
    request: Request,
    principal: Principal,
    team: TeamRead,
    users: list[User],
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    form = form or {"name": team.name, "member_ids": team.member_ids}
    chosen = set(form["member_ids"])
    # Deactivated people are offered only while they are still members.
    people = [u for u in users if u.active or u.id in chosen or u.id in team.member_ids]
    return page(
        request,
        "users/team.html",
        principal,
        section="admin",
        team=team,
        people=people,
        form=form,
        chosen=chosen,
        errors=errors or {},
        status_code=status_code,
    )


@router.get("/admin/teams/{team_id}", response_class=HTMLResponse)
async def team_page(
    request: Request, team_id: str, session: SessionDep, principal: SignedIn
) -> HTMLResponse:
    """One team: its name and members."""
    principal.require_admin()
    team = await service.get_team(session, principal, team_id)
    users, _teams = await _everyone(session, principal)
    return _team_page(request, principal, team, users)


@router.post("/admin/teams/{team_id}")
async def save_team(
    request: Request,
    team_id: str,
    session: SessionDep,
    principal: SignedInForm,
    name: Annotated[Text, Form(max_length=200)] = "",
    member_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Save a team's name and members (the same service call as PATCH /api/v1/teams/{id})."""
    form: dict[str, Any] = {"name": name, "member_ids": member_ids or []}
    saved, errors, _ = await _attempt(
        lambda: service.update_team(session, principal, team_id, TeamUpdate.model_validate(form))
    )
    if saved is not None:
        return _back("team_saved", saved.id)
    team = await service.get_team(session, principal, team_id)
    users, _teams = await _everyone(session, principal)
    return _team_page(request, principal, team, users, form=form, errors=errors, status_code=422)

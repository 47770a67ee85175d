"""Admin settings > Users & teams."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.errors import AppError, field_error
from rolodex.schemas import Text
from rolodex.users import service
from rolodex.users.schemas import UserCreate
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)


async def _users_page(
    request: Request, session: SessionDep, principal: SignedIn, **context: Any
) -> HTMLResponse:
    users, _ = await service.list_users(session, principal, cursor=None, limit=200)
    teams, _ = await service.list_teams(session, principal, cursor=None, limit=200)
    names = {u.id: u.name for u in users}
    team_rows = [(t.name, ", ".join(names.get(m, m) for m in t.member_ids)) for t in teams]
    return page(
        request,
        "users/index.html",
        principal,
        section="admin",
        users=users,
        teams=team_rows,
        **context,
    )


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(request: Request, session: SessionDep, principal: SignedIn) -> HTMLResponse:
    """The workspace's users and teams, with a form to add a user."""
    return await _users_page(request, session, principal)


@router.post("/admin/users")
async def add_user(
    request: Request,
    session: SessionDep,
    principal: SignedInForm,
    email: Annotated[Text, Form(max_length=254)] = "",
    name: Annotated[Text, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "agent",
    password: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    """Add a user from the page (the same service call as POST /api/v1/users)."""
    try:
        data = UserCreate.model_validate(
            {"email": email, "name": name, "role": role, "password": password}
        )
        await service.create_user(session, principal, data)
    except ValidationError as exc:
        errors = [field_error(str(e["loc"][0]), e["msg"]) for e in exc.errors()]
        return await _users_page(
            request,
            session,
            principal,
            errors=errors,
            form={"email": email, "name": name, "role": role},
        )
    except AppError as exc:
        if exc.status == 403:
            raise
        errors = exc.errors or [field_error("form", exc.detail)]
        return await _users_page(
            request,
            session,
            principal,
            errors=errors,
            form={"email": email, "name": name, "role": role},
        )
    return RedirectResponse("/admin/users", status_code=303)

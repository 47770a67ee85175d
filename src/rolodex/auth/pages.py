"""Log in and log out of the web pages."""

from __future__ import annotations

import math
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from rolodex.auth import service
from rolodex.auth.deps import SESSION_COOKIE, PagePrincipal, check_csrf
from rolodex.auth.principals import TokenKind
from rolodex.auth.service import LoginAttempt
from rolodex.auth.throttle import LoginThrottleDep, client_address
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.errors import Forbidden, TooManyRequests, Unauthorized
from rolodex.i18n import _, ngettext
from rolodex.kit.secrets import same
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

LOGIN_CSRF_COOKIE = "rolodex_login_csrf"


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect a person to another site after login.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _login_page(
    request: Request,
    *,
    next_: str,
    email: str = "",
    workspace_id: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "auth/login.html",
        None,
        next=next_,
        email=email,
        workspace_id=workspace_id,
        error=error,
        login_csrf=token,
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=3600,
    )
    return response


def _locked_out(exc: TooManyRequests) -> str:
    seconds = exc.retry_after or 60
    if seconds < 120:
        return ngettext(
            "Too many failed logins from here or for this account. "
            "Please wait %(num)d second and try again.",
            "Too many failed logins from here or for this account. "
            "Please wait %(num)d seconds and try again.",
            seconds,
        )
    return ngettext(
        "Too many failed logins from here or for this account. "
        "Please wait about %(num)d minute and try again.",
        "Too many failed logins from here or for this account. "
        "Please wait about %(num)d minutes and try again.",
        math.ceil(seconds / 60),
    )


@router.get("/login")
async def login_form(request: Request, principal: PagePrincipal, next: str = "/") -> Response:
    """The login page (already signed-in people go straight on)."""
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    throttle: LoginThrottleDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    workspace_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Check the credentials and start a web session (an HttpOnly cookie)."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not same(csrf_token, expected):
        raise Forbidden(
            _("The login form expired; reload the page and try again."), code="csrf_failed"
        )
    days = request.app.state.settings.session_days
    attempt = LoginAttempt(email, password, client_address(request), workspace_id.strip() or None)
    form = {"next_": _safe_next(next), "email": email, "workspace_id": workspace_id}
    try:
        _user, token, _expires = await service.login(
            session, throttle, attempt, kind=TokenKind.SESSION, lifetime=timedelta(days=days)
        )
    except Unauthorized as exc:
        return _login_page(request, **form, error=exc.detail, status_code=401)
    except TooManyRequests as exc:
        refused = _login_page(request, **form, error=_locked_out(exc), status_code=exc.status)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=days * 86400,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(
    request: Request,
    session: SessionDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """End the web session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        check_csrf(request, cookie, csrf_token)
        await service.revoke(session, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response

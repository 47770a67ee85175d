"""FastAPI dependencies that resolve the caller: bearer tokens for clients, cookies for pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rolodex import i18n
from rolodex.auth import scopes, service, throttle
from rolodex.auth.principals import Principal, TokenKind
from rolodex.db import request_session
from rolodex.errors import Forbidden, Unauthorized
from rolodex.i18n import _
from rolodex.kit.secrets import keyed_digest, same

# The domain's public face for routes: what other domains' routes use of the login throttle.
LoginThrottleDep = throttle.LoginThrottleDep
client_address = throttle.client_address

SESSION_COOKIE = "rolodex_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="A Rolodex API token.")


def csrf_token_for(request: Request, session_token: str) -> str:
    """The CSRF token bound to a web session (stateless: an HMAC of the session token)."""
    return keyed_digest(request.app.state.settings.resolved_secret_key(), f"csrf:{session_token}")


def check_csrf(request: Request, session_token: str, submitted: str | None) -> None:
    """Refuse an unsafe request whose CSRF token does not match its session (403)."""
    if not submitted or not same(submitted, csrf_token_for(request, session_token)):
        raise Forbidden(
            _("The form has expired or did not come from this site; reload and try again."),
            code="csrf_failed",
        )


async def _authenticate(request: Request, token: str) -> Principal | None:
    # A principal checked moments ago needs no session: a read answered from memory opens none.
    principal = service.remembered(token)
    if principal is not None:
        return principal
    cache_seconds = request.app.state.settings.auth_cache_seconds
    session = await request_session(request)
    return await service.authenticate(session, token, cache_seconds=cache_seconds)


async def _principal_or_none(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal | None:
    if credentials is not None:
        principal = await _authenticate(request, credentials.credentials)
        if principal is None or principal.kind is TokenKind.SESSION:
            raise Unauthorized(_("The token is invalid, expired or revoked."), code="invalid_token")
        i18n.use(principal.locale, principal.time_zone)
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    principal = await _authenticate(request, cookie)
    if principal is None or principal.kind is not TokenKind.SESSION:
        return None
    i18n.use(principal.locale, principal.time_zone)
    # Pages' scripts may call the API with the session cookie; unsafe calls need the CSRF header.
    if request.method not in _SAFE_METHODS and request.url.path.startswith("/api/"):
        check_csrf(request, cookie, request.headers.get(CSRF_HEADER))
    return principal


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The authenticated caller of an API route; 401 without credentials, 403 out of scope."""
    principal = await _principal_or_none(request, credentials)
    if principal is None:
        raise Unauthorized(_("Send `Authorization: Bearer <token>`."), code="missing_token")
    # Every API route passes here, so a route not in auth/scopes.py is closed to integrations.
    route = request.scope.get("route")
    scopes.require_scope(principal, request.method, getattr(route, "path", None))
    return principal


async def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The caller, who must be a workspace admin (403 otherwise)."""
    principal.require_admin()
    return principal


async def page_principal(request: Request) -> Principal | None:
    """The signed-in person of a page request, or None (pages redirect to the login)."""
    return await _principal_or_none(request, None)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
PagePrincipal = Annotated[Principal | None, Depends(page_principal)]


async def signed_in(request: Request, principal: PagePrincipal) -> Principal:
    """The signed-in person of a page; signed-out visitors are sent to the login page."""
    if principal is None:
        raise Unauthorized(_("Log in to continue."))
    request.state.principal = principal
    return principal


async def signed_in_form(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> Principal:
    """The signed-in person of a page form post, whose CSRF token is checked."""
    form = await request.form()
    submitted = form.get("csrf_token")
    check_csrf(request, request.cookies.get(SESSION_COOKIE, ""), str(submitted or ""))
    return principal


SignedIn = Annotated[Principal, Depends(signed_in)]
SignedInForm = Annotated[Principal, Depends(signed_in_form)]

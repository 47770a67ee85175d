"""REST routes for tokens and the caller."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from rolodex.auth import service
from rolodex.auth.deps import AdminPrincipal
from rolodex.auth.principals import TokenKind
from rolodex.auth.schemas import (
    IntegrationTokenCreate,
    IntegrationTokenCreated,
    IntegrationTokenRead,
    TokenRequest,
    TokenResponse,
)
from rolodex.auth.service import LoginAttempt
from rolodex.auth.throttle import LoginThrottleDep, client_address
from rolodex.db import SessionDep, TransactionalRoute

router = APIRouter(prefix="/api/v1", tags=["auth"], route_class=TransactionalRoute)


@router.post("/auth/token")
async def create_token(
    data: TokenRequest, request: Request, session: SessionDep, throttle: LoginThrottleDep
) -> TokenResponse:
    """Exchange an email and password for a bearer token (429 after too many failures)."""
    days = request.app.state.settings.session_days
    attempt = LoginAttempt(data.email, data.password, client_address(request), data.workspace_id)
    _user, token, expires_at = await service.login(
        session, throttle, attempt, kind=TokenKind.USER, lifetime=timedelta(days=days)
    )
    return TokenResponse(access_token=token, expires_at=expires_at)


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_api_token(
    data: IntegrationTokenCreate, session: SessionDep, principal: AdminPrincipal
) -> IntegrationTokenCreated:
    """Create a bot or CRM integration token, or a personal API token (admins; shown once)."""
    row, token = await service.create_api_token(
        session, principal, kind=TokenKind(data.kind), name=data.name
    )
    return IntegrationTokenCreated(
        **IntegrationTokenRead.model_validate(row).model_dump(), token=token
    )


@router.get("/tokens")
async def list_api_tokens(
    session: SessionDep, principal: AdminPrincipal
) -> list[IntegrationTokenRead]:
    """The workspace's API and integration tokens (admins; never the secret)."""
    rows = await service.list_api_tokens(session, principal)
    return [IntegrationTokenRead.model_validate(r) for r in rows]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_token(
    token_id: str, session: SessionDep, principal: AdminPrincipal
) -> Response:
    """Revoke a token (admins)."""
    await service.revoke_api_token(session, principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

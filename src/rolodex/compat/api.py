"""Inbox 2.0 paths a CRM connector calls (B2): the client-credentials token and the
contact-attributes PUT that delivers a look-up answer later."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Request

from rolodex.auth import service as auth
from rolodex.auth.deps import CurrentPrincipal, LoginThrottleDep, client_address
from rolodex.auth.principals import TokenKind
from rolodex.crm import service as crm
from rolodex.crm.schemas import AnswerResult, CrmAnswer, OAuthToken
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.errors import InvalidInput, Unauthorized
from rolodex.i18n import _

router = APIRouter(route_class=TransactionalRoute, tags=["compatibility"])


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _space, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


Grant = Annotated[str, Form()]
FormText = Annotated[str | None, Form()]


async def _token(
    request: Request,
    session: SessionDep,
    throttle: LoginThrottleDep,
    form: tuple[str, str | None, str | None],
    kinds: frozenset[TokenKind],
) -> OAuthToken:
    grant_type, client_id, client_secret = form
    if grant_type != "client_credentials":
        raise InvalidInput.for_field(
            "grant_type",
            _("Only the client_credentials grant type is supported."),
            code="unsupported_grant_type",
        )
    credentials = _basic(request) or (
        (client_id, client_secret) if client_id and client_secret else None
    )
    if credentials is None:
        raise Unauthorized(
            _("Send the client id and secret, with HTTP Basic authentication or as form fields."),
            code="invalid_client",
        )
    token, lifetime = await auth.client_credentials_token(
        session, throttle, *credentials, address=client_address(request), kinds=kinds
    )
    return OAuthToken(access_token=token, expires_in=lifetime)


@router.post("/oauth2/token")
async def oauth2_token(
    request: Request,
    session: SessionDep,
    throttle: LoginThrottleDep,
    grant_type: Grant,
    client_id: FormText = None,
    client_secret: FormText = None,
    scope: FormText = None,
) -> OAuthToken:
    """A token for a CRM's or a bot's client credentials (HTTP Basic or form; any scope, such
    as `client-read`; 429 after many failures)."""
    form = (grant_type, client_id, client_secret)
    return await _token(request, session, throttle, form, frozenset({TokenKind.CRM, TokenKind.BOT}))


@router.post("/virtual-agent/oauth2/token")
async def virtual_agent_token(
    request: Request,
    session: SessionDep,
    throttle: LoginThrottleDep,
    grant_type: Grant,
    client_id: FormText = None,
    client_secret: FormText = None,
    scope: FormText = None,
) -> OAuthToken:
    """The former path older bots use: a token for a bot's client credentials."""
    form = (grant_type, client_id, client_secret)
    return await _token(request, session, throttle, form, frozenset({TokenKind.BOT}))


@router.put("/inbox/v2/contact/{contact_profile_id}/contact-attributes")
async def put_contact_attributes(
    contact_profile_id: str, answer: CrmAnswer, session: SessionDep, principal: CurrentPrincipal
) -> AnswerResult:
    """The CRM's answer to a look-up, sent later (or any time): same body as the answer."""
    return await crm.receive_answer(session, principal, contact_profile_id, answer)

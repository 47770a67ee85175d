"""Logging in, issuing and checking tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from rolodex.auth import passwords, repository
from rolodex.auth.events import CredentialsChanged
from rolodex.auth.principals import Principal, Role, TokenKind, WorkspaceFacts
from rolodex.auth.throttle import LoginThrottle, account_key, address_key, client_key
from rolodex.db import Database
from rolodex.errors import NotFound, Unauthorized
from rolodex.i18n import _
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.kit.secrets import new_token, same, token_hash
from rolodex.models import ApiToken, OAuthClient, User
from rolodex.plans import Feature, has_feature

# The domain's public face: what other domains use of auth's internals, reached from here.
hash_password_async = passwords.hash_password_async

# Principals checked in the last few seconds, by token hash: every request authenticates, and
# the look-up costs more than most reads. On a revocation or a change of what a principal
# carries, every process forgets them when the change commits: this one directly, the others
# (PostgreSQL) through NOTIFY on FORGET_CHANNEL, which each serving process LISTENs to
# (stream/listener.py). `cache_seconds` only bounds what a lost notification can leave.
_PRINCIPALS: dict[str, tuple[float, datetime | None, Principal]] = {}
_PRINCIPALS_MAX = 10_000
FORGET_CHANNEL = "rolodex_auth"
_FORGET = "rolodex.auth.forget"


def forget_principals(session: AsyncSession | None = None) -> None:
    """Drop every cached principal (a token was revoked or a workspace flag changed): now,
    and again in every process once the session's transaction commits."""
    _PRINCIPALS.clear()
    if session is not None:
        session.sync_session.info[_FORGET] = True


@sa_event.listens_for(Session, "before_commit")
def _notify_forget(session: Session) -> None:
    # NOTIFY is transactional: the other processes hear it only if the change commits.
    if session.in_nested_transaction() or not session.info.get(_FORGET):
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_notify('{FORGET_CHANNEL}', '')"))


@sa_event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    # A request that read the old row while the change was being made may have cached it.
    if not session.in_nested_transaction() and session.info.pop(_FORGET, False):
        _PRINCIPALS.clear()


@sa_event.listens_for(Session, "after_rollback")
def _keep_after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_FORGET, None)


async def issue_token(
    session: AsyncSession,
    *,
    workspace_id: str,
    kind: TokenKind,
    user_id: str | None = None,
    name: str = "",
    expires_in: timedelta | None = None,
) -> tuple[ApiToken, str]:
    """Store a new token's hash and return the row and the token (shown only this once)."""
    token = new_token()
    row = ApiToken(
        id=new_id("tok"),
        workspace_id=workspace_id,
        kind=kind.value,
        user_id=user_id,
        name=name,
        token_hash=token_hash(token),
        expires_at=utcnow() + expires_in if expires_in else None,
    )
    session.add(row)
    await session.flush()
    return row, token


def remembered(token: str) -> Principal | None:
    """The principal this process checked the token for in the last few seconds, if any."""
    return _remembered(token_hash(token))


def _remembered(digest: str) -> Principal | None:
    cached = _PRINCIPALS.get(digest)
    if cached is None:
        return None
    deadline, expires_at, principal = cached
    if time.monotonic() < deadline and (expires_at is None or utcnow() < expires_at):
        return principal
    _PRINCIPALS.pop(digest, None)
    return None


async def authenticate(
    session: AsyncSession, token: str, *, cache_seconds: float = 0.0
) -> Principal | None:
    """The principal a bearer token stands for, or None if it is unknown, expired or revoked."""
    digest = token_hash(token)
    cached = _remembered(digest)
    if cached is not None:
        return cached
    now = utcnow()
    found = await repository.find_token(session, digest)
    if found is None:
        return None
    row, user, workspace = found
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if user is not None and not user.active:
        return None
    principal = Principal(
        workspace_id=workspace.id,
        plan=workspace.plan,
        kind=TokenKind(row.kind),
        token_id=row.id,
        user_id=user.id if user else None,
        role=Role(user.role) if user else None,
        name=user.name if user else row.name,
        email=user.email if user else "",
        crm_editing=workspace.agents_can_edit_crm_managed
        and has_feature(workspace.plan, Feature.CRM_MANAGED_EDITING),
        locale=user.locale if user else None,
        time_zone=(user.time_zone if user else None) or workspace.time_zone,
        workspace=WorkspaceFacts(
            name=workspace.name,
            default_phone_region=workspace.default_phone_region,
            time_zone=workspace.time_zone,
            created_at=workspace.created_at,
        ),
    )
    if cache_seconds > 0:
        if len(_PRINCIPALS) >= _PRINCIPALS_MAX:
            _PRINCIPALS.clear()
        _PRINCIPALS[digest] = (time.monotonic() + cache_seconds, row.expires_at, principal)
    return principal


# Accounts one email may have across workspaces whose passwords a login tries, at most.
MAX_ACCOUNTS_PER_EMAIL = 10


@dataclass(frozen=True)
class LoginAttempt:
    """One try at logging in: credentials, where it came from, and an optional workspace."""

    email: str
    password: str
    address: str
    workspace_id: str | None = None


async def check_password(
    database: Database, email: str, password: str, *, workspace_id: str | None = None
) -> User:
    """The active user with these credentials; 401 that never says which part was wrong.

    An email may have an account in several workspaces: the password is tried against each
    active one, oldest first (at most MAX_ACCOUNTS_PER_EMAIL), and the first that matches is
    the one logged in. So where one password opens two workspaces the oldest account wins,
    unless `workspace_id` names the workspace to log in to.
    """
    # A read of its own, closed before argon2 runs: neither the request's transaction (a write
    # lock on SQLite) nor a pooled connection is held through the verifications.
    async with database.reader() as session:
        users = await repository.find_login_users(
            session, email, workspace_id=workspace_id, limit=MAX_ACCOUNTS_PER_EMAIL
        )
    if not users:
        await passwords.verify_password_async(None, password)  # a miss costs as much time as a hit
    for user in users:
        if await passwords.verify_password_async(user.password_hash, password):
            return user
    raise Unauthorized(_("The email or password is incorrect."), code="invalid_credentials")


async def login(
    session: AsyncSession,
    throttle: LoginThrottle,
    attempt: LoginAttempt,
    *,
    kind: TokenKind,
    lifetime: timedelta,
) -> tuple[User, str, datetime]:
    """Check the credentials and issue a token: (user, token, expiry); 429 while locked out."""
    # Locked out means the account (the email) or the address used up its failures in the
    # window: even the right password is refused then. A success clears the account's count.
    account, address = account_key(attempt.email), address_key(attempt.address)
    await throttle.check(account, address)
    try:
        user = await check_password(
            throttle.database, attempt.email, attempt.password, workspace_id=attempt.workspace_id
        )
    except Unauthorized:
        await throttle.failed(account, address)
        raise
    await throttle.succeeded(account)
    row, token = await issue_token(
        session,
        workspace_id=user.workspace_id,
        kind=kind,
        user_id=user.id,
        name="login" if kind is TokenKind.USER else "web session",
        expires_in=lifetime,
    )
    assert row.expires_at is not None
    return user, token, row.expires_at


async def revoke(session: AsyncSession, token: str) -> None:
    """Revoke a token (logout)."""
    await repository.revoke_by_hash(session, token_hash(token), utcnow())
    forget_principals(session)


async def revoke_user_tokens(session: AsyncSession, workspace_id: str, user_id: str) -> int:
    """Stop every token and web session of a user at once (a deactivation); how many were live.

    This process forgets its cached principals now; other processes within their cache seconds.
    """
    revoked = await repository.revoke_user_tokens(session, workspace_id, user_id, utcnow())
    forget_principals(session)
    return revoked


async def _credentials_changed(
    session: AsyncSession,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: str,
    after: dict[str, Any] | None = None,
) -> None:
    # Audit listens (audit is above auth): token and client changes are recorded there.
    event = CredentialsChanged(
        workspace_id=principal.workspace_id,
        actor=principal,
        action=action,
        target_type=target_type,
        target_id=target_id,
        after=after,
    )
    await emit(session, event)


async def create_api_token(
    session: AsyncSession, principal: Principal, *, kind: TokenKind, name: str
) -> tuple[ApiToken, str]:
    """An admin creates an integration token (bot, crm) or a personal API token for themself."""
    principal.require_admin()
    row, token = await issue_token(
        session,
        workspace_id=principal.workspace_id,
        kind=kind,
        user_id=principal.user_id if kind is TokenKind.USER else None,
        name=name,
    )
    await _credentials_changed(
        session,
        principal,
        "token.created",
        "api_token",
        row.id,
        after={"kind": kind.value, "name": name},
    )
    return row, token


async def list_api_tokens(session: AsyncSession, principal: Principal) -> list[ApiToken]:
    """The workspace's API and integration tokens, web sessions left out (admins)."""
    principal.require_admin()
    return await repository.list_tokens(session, principal.workspace_id)


async def revoke_api_token(session: AsyncSession, principal: Principal, token_id: str) -> None:
    """An admin revokes a token of their workspace; 404 if it is not theirs."""
    principal.require_admin()
    row = await repository.get_token(session, principal.workspace_id, token_id)
    if row is None or row.kind == TokenKind.SESSION.value:
        raise NotFound(_("Token not found."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        forget_principals(session)
        await _credentials_changed(session, principal, "token.revoked", "api_token", row.id)
    await session.flush()


CLIENT_TOKEN_SECONDS = 3600


async def create_oauth_client(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: TokenKind,
    name: str,
    subject_id: str | None = None,
) -> tuple[OAuthClient, str]:
    """An admin creates client credentials for an integration (for one bot: `subject_id`);
    the secret is shown once."""
    principal.require_admin()
    secret = new_token("rdxcs")
    row = OAuthClient(
        id=new_id("cli"),
        workspace_id=principal.workspace_id,
        kind=kind.value,
        name=name,
        secret_hash=token_hash(secret),
        subject_id=subject_id,
    )
    session.add(row)
    await session.flush()
    await _credentials_changed(
        session,
        principal,
        "oauth_client.created",
        "oauth_client",
        row.id,
        after={"kind": kind.value, "name": name},
    )
    return row, secret


async def list_oauth_clients(
    session: AsyncSession, principal: Principal, kind: TokenKind
) -> list[OAuthClient]:
    """The workspace's client credentials of one integration kind (admins)."""
    principal.require_admin()
    return await repository.list_oauth_clients(session, principal.workspace_id, kind.value)


async def revoke_oauth_client(
    session: AsyncSession, principal: Principal, client_id: str, kind: TokenKind
) -> None:
    """An admin revokes client credentials and every token issued to them."""
    principal.require_admin()
    row = await repository.get_oauth_client(session, principal.workspace_id, client_id)
    if row is None or row.kind != kind.value:
        raise NotFound(_("Client not found."))
    if row.revoked_at is None:
        now = utcnow()
        row.revoked_at = now
        await repository.revoke_client_tokens(session, principal.workspace_id, row.id, now)
        forget_principals(session)
        await _credentials_changed(
            session, principal, "oauth_client.revoked", "oauth_client", row.id
        )
    await session.flush()


async def client_credentials_token(
    session: AsyncSession,
    throttle: LoginThrottle,
    client_id: str,
    client_secret: str,
    *,
    address: str,
    kinds: frozenset[TokenKind],
) -> tuple[str, int]:
    """A token for valid client credentials (RFC 6749 4.4); 401 `invalid_client`, 429 throttled."""
    # Throttled like a login: per client id (its "account") and per address.
    keys = (client_key(client_id), address_key(address))
    await throttle.check(*keys)
    # Looked up outside the request's transaction, so a failure can be counted in its own.
    async with throttle.database.reader() as reading:
        row = await repository.find_oauth_client(reading, client_id)
    valid = (
        row is not None
        and row.revoked_at is None
        and TokenKind(row.kind) in kinds
        and same(row.secret_hash, token_hash(client_secret))
    )
    if not valid or row is None:
        await throttle.failed(*keys)
        raise Unauthorized(_("The client credentials are not valid."), code="invalid_client")
    await throttle.succeeded(keys[0])
    token_row, token = await issue_token(
        session,
        workspace_id=row.workspace_id,
        kind=TokenKind(row.kind),
        name=f"oauth2 {row.name}".strip(),
        expires_in=timedelta(seconds=CLIENT_TOKEN_SECONDS),
    )
    token_row.oauth_client_id = row.id
    await session.flush()
    return token, CLIENT_TOKEN_SECONDS


async def token_subject(session: AsyncSession, principal: Principal) -> str | None:
    """The bot a bot's token speaks for (None: another caller, or a token bound to no bot)."""
    if principal.kind is not TokenKind.BOT:
        return None
    return await repository.token_subject(session, principal.workspace_id, principal.token_id)

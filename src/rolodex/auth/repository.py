"""Token and user look-ups for authentication."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import ApiToken, OAuthClient, User, Workspace


async def find_token(
    session: AsyncSession, token_hash: str
) -> tuple[ApiToken, User | None, Workspace] | None:
    """The token with its user and workspace, in one query; None when unknown."""
    row = (await session.execute(_FIND_TOKEN, {"token_hash": token_hash})).first()
    return None if row is None else (row[0], row[1], row[2])


# Built once: every authenticated request runs it, and building it costs more than running it.
_FIND_TOKEN = (
    select(ApiToken, User, Workspace)
    .join(Workspace, Workspace.id == ApiToken.workspace_id)
    .outerjoin(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


async def find_login_users(
    session: AsyncSession, email: str, *, workspace_id: str | None, limit: int
) -> list[User]:
    """The active users with this email (case-insensitive), oldest first, in any workspace.

    Logging in happens before a workspace is known, so this look-up alone is not scoped;
    `workspace_id` narrows it when the caller names one.
    """
    stmt = select(User).where(User.email == email.strip().lower(), User.active.is_(True))
    if workspace_id is not None:
        stmt = stmt.where(User.workspace_id == workspace_id)
    stmt = stmt.order_by(User.created_at, User.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def revoke_by_hash(session: AsyncSession, token_hash: str, at: datetime) -> None:
    """Revoke one token."""
    await session.execute(
        update(ApiToken).where(ApiToken.token_hash == token_hash).values(revoked_at=at)
    )


async def list_tokens(session: AsyncSession, workspace_id: str) -> list[ApiToken]:
    """The workspace's tokens other than web sessions, oldest first."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.workspace_id == workspace_id, ApiToken.kind != "session")
        .order_by(ApiToken.id)
    )
    return list((await session.execute(stmt)).scalars())


async def get_token(session: AsyncSession, workspace_id: str, token_id: str) -> ApiToken | None:
    """One token of the workspace."""
    stmt = select(ApiToken).where(ApiToken.workspace_id == workspace_id, ApiToken.id == token_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_oauth_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    """Client credentials by their client id (the caller proves them with the secret)."""
    return await session.get(OAuthClient, client_id)


async def get_oauth_client(
    session: AsyncSession, workspace_id: str, client_id: str
) -> OAuthClient | None:
    """Client credentials of the workspace."""
    stmt = select(OAuthClient).where(
        OAuthClient.workspace_id == workspace_id, OAuthClient.id == client_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_oauth_clients(
    session: AsyncSession, workspace_id: str, kind: str
) -> list[OAuthClient]:
    """The workspace's client credentials of one kind, newest first."""
    stmt = (
        select(OAuthClient)
        .where(OAuthClient.workspace_id == workspace_id, OAuthClient.kind == kind)
        .order_by(OAuthClient.id.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def revoke_client_tokens(
    session: AsyncSession, workspace_id: str, client_id: str, at: datetime
) -> None:
    """Revoke every token issued to these client credentials."""
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.workspace_id == workspace_id,
            ApiToken.oauth_client_id == client_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )


async def revoke_user_tokens(
    session: AsyncSession, workspace_id: str, user_id: str, at: datetime
) -> int:
    """Revoke every live token of a user (API tokens and web sessions); how many were live."""
    result = await session.execute(
        update(ApiToken)
        .where(
            ApiToken.workspace_id == workspace_id,
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def token_subject(session: AsyncSession, workspace_id: str, token_id: str) -> str | None:
    """What the client credentials a token was issued for speak for (a bot's id), if any."""
    stmt = (
        select(OAuthClient.subject_id)
        .join(ApiToken, ApiToken.oauth_client_id == OAuthClient.id)
        .where(ApiToken.workspace_id == workspace_id, ApiToken.id == token_id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()

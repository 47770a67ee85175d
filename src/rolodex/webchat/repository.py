"""Visitor sessions, found by their token's hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import WebchatSession


async def add(session: AsyncSession, row: WebchatSession) -> None:
    """Store a new session."""
    session.add(row)
    await session.flush()


async def by_token_hash(
    session: AsyncSession, channel_id: str, token_hash: str
) -> WebchatSession | None:
    """The channel's session whose token has this hash."""
    stmt = select(WebchatSession).where(
        WebchatSession.token_hash == token_hash, WebchatSession.channel_id == channel_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def touch(session: AsyncSession, session_id: str, at: datetime) -> None:
    """Record that the visitor came back."""
    await session.execute(
        update(WebchatSession).where(WebchatSession.id == session_id).values(last_seen_at=at)
    )

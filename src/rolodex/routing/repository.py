"""Routing settings rows and the conversation updates routing makes, scoped by workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import Conversation, ConversationEvent, RoutingSettings
from rolodex.models.base import UTCDateTime

_conversations = cast(Table, Conversation.__table__)
_events = cast(Table, ConversationEvent.__table__)
_OPEN = _conversations.c.status != "resolved"


async def get(session: AsyncSession, workspace_id: str) -> RoutingSettings | None:
    """The workspace's routing settings row (None until first set)."""
    return await session.get(RoutingSettings, workspace_id)


async def score(
    session: AsyncSession, workspace_id: str, expression: ColumnElement[int], *where: Any
) -> None:
    """Set the score of the workspace's open conversations that match `where`."""
    await session.execute(
        update(_conversations)
        .where(_conversations.c.workspace_id == workspace_id, _OPEN, *where)
        .values(priority_score=expression)
    )


async def update_one(
    session: AsyncSession, workspace_id: str, conversation_id: str, values: dict[str, Any]
) -> None:
    """Update one conversation's columns (SQL expressions allowed)."""
    await session.execute(
        update(_conversations)
        .where(
            _conversations.c.workspace_id == workspace_id,
            _conversations.c.id == conversation_id,
        )
        .values(**values)
    )


async def insert_routed_event(
    session: AsyncSession,
    workspace_id: str,
    conversation_id: str,
    reason: ColumnElement[str],
    *,
    event_id: str,
    at: datetime,
) -> None:
    """Record a just-routed conversation's team and why, read from its row (if it has a team).

    INSERT … SELECT rather than UPDATE … RETURNING: SQLite's RETURNING cannot name the
    correlated subqueries the reason is computed with.
    """
    c = _conversations.c
    source = select(
        literal(event_id),
        c.workspace_id,
        c.id,
        literal("routing"),
        null(),
        c.team_id,
        literal("system"),
        null(),
        reason,
        null(),
        literal(at, UTCDateTime()),
    ).where(c.workspace_id == workspace_id, c.id == conversation_id, c.team_id.is_not(None))
    names = [
        "id",
        "workspace_id",
        "conversation_id",
        "kind",
        "from_value",
        "to_value",
        "actor_kind",
        "actor_id",
        "reason",
        "comment",
        "at",
    ]
    await session.execute(insert(_events).from_select(names, source))


async def unowned_open(
    session: AsyncSession, workspace_id: str, contact_id: str, team_id: str
) -> list[tuple[str, str | None]]:
    """(id, team) of the contact's open conversations with no assignee, not in the team.

    Locked for the move that follows (PostgreSQL): one assigned or moved meanwhile is
    re-checked and left out, so the move never overwrites an agent's change.
    """
    stmt = (
        select(_conversations.c.id, _conversations.c.team_id)
        .where(
            _conversations.c.workspace_id == workspace_id,
            _conversations.c.contact_id == contact_id,
            _OPEN,
            _conversations.c.assignee_id.is_(None),
            (_conversations.c.team_id.is_(None)) | (_conversations.c.team_id != team_id),
        )
        .with_for_update(key_share=True)
    )
    return [(r[0], r[1]) for r in (await session.execute(stmt)).all()]


async def set_team(
    session: AsyncSession, workspace_id: str, conversation_ids: Sequence[str], team_id: str
) -> None:
    """Move these conversations to a team."""
    await session.execute(
        update(_conversations)
        .where(
            _conversations.c.workspace_id == workspace_id,
            _conversations.c.id.in_(list(conversation_ids)),
        )
        .values(team_id=team_id)
    )


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append conversation events."""
    if rows:
        await session.execute(insert(_events), list(rows))

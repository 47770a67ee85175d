"""Routing settings rows and the conversation updates routing makes, scoped by workspace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Executable,
    String,
    Table,
    bindparam,
    insert,
    literal,
    null,
    select,
    update,
)
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


# The statements below are built once per configuration version (routing/service.py) and
# find their rows by key only: the conversation's id (or the contact's) comes from a
# workspace-scoped statement of the same transaction, and a `workspace_id` term would let a
# planner with stale statistics walk the workspace's queue index instead of the key.
_ONE = _conversations.c.id == bindparam("b_conversation_id")
_OF_CONTACT = _conversations.c.contact_id == bindparam("b_contact_id")


async def run(session: AsyncSession, statement: Executable, params: dict[str, Any]) -> None:
    """Execute one of the statements below (on the session's connection: no ORM work)."""
    await (await session.connection()).execute(statement, params)


def rescore_one_statement(expression: ColumnElement[int]) -> Executable:
    """UPDATE of one open conversation's score; parameter b_conversation_id."""
    return update(_conversations).where(_ONE, _OPEN).values(priority_score=expression)


def rescore_contact_statement(expression: ColumnElement[int]) -> Executable:
    """UPDATE of the score of a contact's open conversations; parameter b_contact_id."""
    return update(_conversations).where(_OF_CONTACT, _OPEN).values(priority_score=expression)


def route_statement(values: dict[str, Any]) -> Executable:
    """UPDATE of a new conversation's score (and team): SQL expressions of its row;
    parameter b_conversation_id."""
    return update(_conversations).where(_ONE).values(**values)


_EVENT_COLUMNS = [
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


def route_and_record_statement(values: dict[str, Any], reason: ColumnElement[str]) -> Executable:
    """PostgreSQL: the UPDATE that routes a new conversation and the INSERT of its routing
    event (when it got a team), in one statement; parameters b_conversation_id, b_event_id
    and b_at.

    A data-modifying CTE: the event reads the team (and the reason, computed from the updated
    row) from the UPDATE's RETURNING, so the decision is made once.
    """
    c = _conversations.c
    routed = (
        update(_conversations)
        .where(_ONE)
        .values(**values)
        .returning(c.workspace_id, c.id, c.team_id, reason.label("reason"))
        .cte("routed")
    )
    source = select(
        bindparam("b_event_id", type_=String()),
        routed.c.workspace_id,
        routed.c.id,
        literal("routing"),
        null(),
        routed.c.team_id,
        literal("system"),
        null(),
        routed.c.reason,
        null(),
        bindparam("b_at", type_=UTCDateTime()),
    ).where(routed.c.team_id.is_not(None))
    return insert(_events).from_select(_EVENT_COLUMNS, source)


def routed_event_statement(reason: ColumnElement[str]) -> Executable:
    """INSERT of a just-routed conversation's routing event (its team and why, read from its
    row, if it has a team); parameters b_conversation_id, b_event_id and b_at.

    INSERT … SELECT rather than UPDATE … RETURNING: SQLite's RETURNING cannot name the
    correlated subqueries the reason is computed with.
    """
    c = _conversations.c
    source = select(
        bindparam("b_event_id", type_=String()),
        c.workspace_id,
        c.id,
        literal("routing"),
        null(),
        c.team_id,
        literal("system"),
        null(),
        reason,
        null(),
        bindparam("b_at", type_=UTCDateTime()),
    ).where(_ONE, c.team_id.is_not(None))
    return insert(_events).from_select(_EVENT_COLUMNS, source)


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

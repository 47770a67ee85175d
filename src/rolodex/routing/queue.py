"""The queue: open `new` conversations by priority score, then oldest first, with breakdowns."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.auth.principals import Principal
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import Status
from rolodex.groups import service as groups
from rolodex.models import Conversation
from rolodex.routing import scoring, service
from rolodex.routing.schemas import PriorityPoints, QueueItem
from rolodex.schemas import assembled
from rolodex.users import service as users


async def queue(
    session: AsyncSession,
    principal: Principal,
    *,
    team_id: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[QueueItem], str | None]:
    """One page of the queue (of a team, or the whole workspace's), each with its breakdown."""
    ws = principal.workspace_id
    # A conversation a bot holds joins the queue when the bot hands it over (R13.2).
    stmt = conversations.conversations_statement(ws).where(
        Conversation.status == Status.NEW, Conversation.bot_id.is_(None)
    )
    if team_id is not None:
        await users.access_team_by_id(session, principal, team_id)
        stmt = stmt.where(Conversation.team_id == team_id)
    rows, next_cursor = await conversations.priority_page(session, stmt, cursor=cursor, limit=limit)
    rules = (await service.configuration(session, ws)).rules
    contact_ids = list(dict.fromkeys(r.contact_id for r in rows))
    member_of = await groups.memberships(session, ws, contact_ids) if rules else {}
    reads = await conversations.read_many(session, principal, rows)
    # A page shares a few breakdowns (the rules a contact's groups and channel match).
    breakdowns: dict[tuple[frozenset[str], str], list[PriorityPoints]] = {}
    items = []
    for read in reads:
        key = (frozenset(member_of.get(read.contact_id, ())), read.channel_id)
        if key not in breakdowns:
            breakdowns[key] = scoring.breakdown(rules, *key)
        # Built from reads the server made itself: no second validation.
        items.append(assembled(QueueItem, {**read.__dict__, "priority_breakdown": breakdowns[key]}))
    return items, next_cursor

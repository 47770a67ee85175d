"""Contact settings, mappings and link look-ups, always scoped by workspace.

A link is never stored: the peers of a contact are the rows of the matching attribute
that share its `normalized` value, one range scan of ix_attribute_values_lookup
(workspace_id, definition_id, normalized).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rolodex.db import dialect_insert
from rolodex.errors import InvalidInput
from rolodex.i18n import _
from rolodex.kit.pagination import decode_cursor, encode_cursor
from rolodex.models import (
    AttributeDefinition,
    AttributeMapping,
    AttributeValue,
    Channel,
    Contact,
    ContactSettings,
    Conversation,
    Message,
)

_settings = cast(Table, ContactSettings.__table__)


async def matching_definition_id(session: AsyncSession, workspace_id: str) -> str | None:
    """The definition id of the workspace's attribute used for matching, if any."""
    stmt = select(ContactSettings.matching_definition_id).where(
        ContactSettings.workspace_id == workspace_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_matching(
    session: AsyncSession, workspace_id: str, definition_id: str | None, at: datetime
) -> None:
    """Store the attribute used for matching (one upsert of the workspace's row)."""
    stmt = dialect_insert(session, _settings).values(
        workspace_id=workspace_id, matching_definition_id=definition_id, updated_at=at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace_id"],
        set_={"matching_definition_id": definition_id, "updated_at": at},
    )
    await session.execute(stmt)


async def mappings(session: AsyncSession, workspace_id: str) -> list[tuple[str, str]]:
    """The workspace's mappings as (from key, to key), in the admin's order."""
    source = aliased(AttributeDefinition)
    target = aliased(AttributeDefinition)
    stmt = (
        select(source.key, target.key)
        .select_from(AttributeMapping)
        .join(source, source.id == AttributeMapping.from_definition_id)
        .join(target, target.id == AttributeMapping.to_definition_id)
        .where(AttributeMapping.workspace_id == workspace_id)
        .order_by(AttributeMapping.position, source.key, target.key)
    )
    return [(f, t) for f, t in await session.execute(stmt)]


async def mapping_exists(
    session: AsyncSession, workspace_id: str, from_id: str, to_id: str
) -> bool:
    """Whether this mapping is (still) one of the workspace's."""
    stmt = select(AttributeMapping.position).where(
        AttributeMapping.workspace_id == workspace_id,
        AttributeMapping.from_definition_id == from_id,
        AttributeMapping.to_definition_id == to_id,
    )
    return (await session.execute(stmt)).first() is not None


async def backfill_batch(
    session: AsyncSession,
    workspace_id: str,
    from_id: str,
    to_id: str,
    after: str | None,
    limit: int,
) -> list[Any]:
    """The next contacts (by id) with a value of `from_id`, each with its `to_id` value and source.

    Walks the primary key of attribute_values (contact_id, definition_id) in contact order.
    """
    source = aliased(AttributeValue)
    target = aliased(AttributeValue)
    stmt = (
        select(
            source.contact_id,
            source.value,
            source.normalized,
            source.actor_kind,
            source.actor_id,
            source.channel_id,
            target.value.label("target_value"),
            target.source.label("target_source"),
        )
        .outerjoin(
            target,
            and_(target.contact_id == source.contact_id, target.definition_id == to_id),
        )
        .where(
            source.workspace_id == workspace_id,
            source.definition_id == from_id,
            source.value.is_not(None),
        )
        .order_by(source.contact_id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(source.contact_id > after)
    return list((await session.execute(stmt)).all())


async def replace_mappings(
    session: AsyncSession, workspace_id: str, pairs: Sequence[tuple[str, str]], at: datetime
) -> None:
    """Make these (from definition id, to definition id) pairs the workspace's mappings."""
    await session.execute(
        delete(AttributeMapping).where(AttributeMapping.workspace_id == workspace_id)
    )
    if pairs:
        await session.execute(
            insert(cast(Table, AttributeMapping.__table__)),
            [
                {
                    "workspace_id": workspace_id,
                    "from_definition_id": f,
                    "to_definition_id": t,
                    "position": n,
                    "created_at": at,
                }
                for n, (f, t) in enumerate(pairs)
            ],
        )


def link_rule(mine: Any, peer: Any) -> list[ColumnElement[bool]]:
    """When a value of the matching attribute links its contact to a peer's (R3, B7).

    Both values are set and valid, and their normalized forms are equal and not empty.
    """
    return [
        peer.normalized == mine.normalized,
        mine.normalized.is_not(None),
        mine.normalized != "",
        mine.value.is_not(None),
        mine.invalid.is_(False),
        peer.value.is_not(None),
        peer.invalid.is_(False),
    ]


def _build_linked() -> Any:
    # (peer contact id, peer value, matching definition key) of a contact's links. Built
    # once with bound parameters: every contact read and Contact tab runs it, and
    # building the aliased join cost more CPU than running it.
    mine = aliased(AttributeValue)
    peer = aliased(AttributeValue)
    workspace_id: Any = bindparam("workspace_id")
    contact_id: Any = bindparam("contact_id")
    return (
        select(peer.contact_id, peer.value, AttributeDefinition.key)
        .select_from(ContactSettings)
        .join(AttributeDefinition, AttributeDefinition.id == ContactSettings.matching_definition_id)
        .join(
            mine,
            and_(
                mine.contact_id == contact_id,
                mine.definition_id == ContactSettings.matching_definition_id,
                mine.workspace_id == workspace_id,
            ),
        )
        .join(
            peer,
            and_(
                peer.workspace_id == workspace_id,
                peer.definition_id == ContactSettings.matching_definition_id,
            ),
        )
        .where(
            ContactSettings.workspace_id == workspace_id,
            *link_rule(mine, peer),
            peer.contact_id != contact_id,
        )
        .order_by(peer.contact_id)
        .limit(bindparam("limit"))
    )


_LINKED = _build_linked()


async def linked(
    session: AsyncSession, workspace_id: str, contact_id: str, *, limit: int
) -> list[tuple[str, str, str]]:
    """(contact id, its value, attribute key) of up to `limit` contacts linked to this one."""
    params = {"workspace_id": workspace_id, "contact_id": contact_id, "limit": limit}
    # On the session's connection: Core rows, without the ORM's per-statement work.
    rows = await (await session.connection()).execute(_LINKED, params)
    return [(str(c), str(v), str(k)) for c, v, k in rows]


async def link_details(
    session: AsyncSession, workspace_id: str, contact_ids: Sequence[str]
) -> dict[str, tuple[str, str, str]]:
    """(medium, channel id, display name) of these contacts, by id."""
    if not contact_ids:
        return {}
    stmt = select(Contact.id, Contact.medium, Contact.channel_id, Contact.display_name).where(
        Contact.workspace_id == workspace_id, Contact.id.in_(list(contact_ids))
    )
    return {i: (m, c, n) for i, m, c, n in await session.execute(stmt)}


def _last_message(column: Any) -> Any:
    # A column of the newest message (not an internal note) of each conversation: one probe
    # of ix_messages_conversation_id_id.
    return (
        select(column)
        .where(
            Message.workspace_id == bindparam("workspace_id"),
            Message.conversation_id == Conversation.id,
            Message.internal.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _build_history(*, after: bool) -> Any:
    stmt = (
        select(
            Conversation.id,
            Conversation.contact_id,
            Conversation.channel_id,
            Conversation.status,
            Conversation.last_message_at,
            Conversation.created_at,
            Channel.name.label("channel_name"),
            Channel.medium,
            Contact.display_name,
            _last_message(Message.text).label("last_text"),
            # Who wrote it (R11.5): the card names its real author, not always the contact.
            _last_message(Message.author_kind).label("last_author_kind"),
            _last_message(Message.author_id).label("last_author_id"),
        )
        .join(Channel, Channel.id == Conversation.channel_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(
            Conversation.workspace_id == bindparam("workspace_id"),
            Conversation.contact_id.in_(bindparam("contact_ids", expanding=True)),
            Channel.workspace_id == bindparam("workspace_id"),
        )
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(bindparam("limit"))
    )
    if after:
        at: Any = bindparam("after_at")
        last_id: Any = bindparam("after_id")
        stmt = stmt.where(
            or_(
                Conversation.last_message_at < at,
                and_(Conversation.last_message_at == at, Conversation.id < last_id),
            )
        )
    return stmt


# Built once: the history is read whenever an agent opens a conversation.
_HISTORY = _build_history(after=False)
_HISTORY_AFTER = _build_history(after=True)


async def history_page(
    session: AsyncSession,
    workspace_id: str,
    contact_ids: Sequence[str],
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """The conversations of these contacts, newest message first, keyset on (time, id)."""
    params: dict[str, Any] = {
        "workspace_id": workspace_id,
        "contact_ids": list(contact_ids),
        "limit": limit + 1,
    }
    stmt = _HISTORY
    if cursor:
        at, last_id = decode_cursor(cursor, 2)
        try:
            params["after_at"] = datetime.fromisoformat(str(at))
        except ValueError as exc:
            raise InvalidInput.for_field("query.cursor", _("Malformed cursor.")) from exc
        params["after_id"] = str(last_id)
        stmt = _HISTORY_AFTER
    # On the session's connection: Core rows, without the ORM's per-statement work.
    rows = list((await (await session.connection()).execute(stmt, params)).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([last.last_message_at.isoformat(), last.id])

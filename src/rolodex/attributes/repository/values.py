"""Attribute value and history rows, always scoped by workspace."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.db import insert_for, prepared
from rolodex.errors import InvalidInput
from rolodex.i18n import _
from rolodex.kit.pagination import decode_cursor, encode_cursor
from rolodex.models import (
    AttributeChannelDisabled,
    AttributeDefinition,
    AttributeHistory,
    AttributeValue,
    Contact,
    Conversation,
    Workspace,
)

_values = cast(Table, AttributeValue.__table__)


async def lock_contact(session: AsyncSession, workspace_id: str, contact_id: str) -> None:
    """Hold the contact's row until commit: its value writes then read what they replace.

    The contact row, not the value rows, because a first write has no value row to lock;
    inbound messages take the same lock (their identity upsert), so they queue here too.
    FOR NO KEY UPDATE leaves inserts that reference the contact (history, messages) free.
    SQLite needs no statement: BEGIN IMMEDIATE already serialises writers.
    """
    if _dialect(session) == "sqlite":
        return
    stmt = (
        select(Contact.id)
        .where(Contact.workspace_id == workspace_id, Contact.id == contact_id)
        .with_for_update(key_share=True)
    )
    await session.execute(stmt)


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


async def current_values(
    session: AsyncSession, workspace_id: str, contact_id: str, definition_ids: Iterable[str]
) -> dict[str, str | None]:
    """A contact's current values of these definitions, by definition id."""
    stmt = select(AttributeValue.definition_id, AttributeValue.value).where(
        AttributeValue.workspace_id == workspace_id,
        AttributeValue.contact_id == contact_id,
        AttributeValue.definition_id.in_(list(definition_ids)),
    )
    return dict((await session.execute(stmt)).all())


async def current_with_sources(
    session: AsyncSession, contact_id: str, definition_ids: Iterable[str]
) -> dict[str, tuple[str | None, str]]:
    """A contact's current (value, source) of these definitions of its workspace, by
    definition id: one probe of the primary key (contact, definition) per definition.

    No workspace condition: contact and definitions are the workspace's own, and with one
    both SQLite and a PostgreSQL with stale statistics may walk ix_attribute_values_lookup
    (workspace, definition): every contact's values instead of this one's.
    """
    params = {"contact_id": contact_id, "ids": list(definition_ids)}
    rows = await (await session.connection()).execute(_CURRENT_WITH_SOURCES, params)
    return {d: (v, s) for d, v, s in rows}


# Built once: the inbound hot path runs it for every returning sender.
_CURRENT_WITH_SOURCES = select(
    AttributeValue.definition_id, AttributeValue.value, AttributeValue.source
).where(
    AttributeValue.contact_id == bindparam("contact_id"),
    AttributeValue.definition_id.in_(bindparam("ids", expanding=True)),
)


async def upsert_values(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write values with their provenance, replacing the contact's current ones (one statement)."""
    await session.execute(_upsert_values(session), list(rows))


@prepared
def _upsert_values(dialect: str) -> Any:
    stmt = insert_for(dialect, _values)
    replaced = (
        "value",
        "normalized",
        "source",
        "actor_kind",
        "actor_id",
        "channel_id",
        "updated_at",
        "invalid",
    )
    return stmt.on_conflict_do_update(
        index_elements=["contact_id", "definition_id"],
        set_={name: stmt.excluded[name] for name in replaced},
    )


async def upsert_platform_values(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write inbound values (one statement), never over a set value of another source.

    Platform attributes only ever hold platform values; custom ones filled by an admin's
    mapping keep an agent's, bot's or CRM's value, even one written concurrently.
    """
    await (await session.connection()).execute(_upsert_platform_values(session), list(rows))


@prepared
def _upsert_platform_values(dialect: str) -> Any:
    stmt = insert_for(dialect, _values)
    replaced = ("value", "normalized", "source", "actor_kind", "actor_id", "channel_id")
    return stmt.on_conflict_do_update(
        index_elements=["contact_id", "definition_id"],
        set_={name: stmt.excluded[name] for name in (*replaced, "updated_at", "invalid")},
        where=or_(_values.c.source == "platform", _values.c.value.is_(None)),
    )


async def insert_history(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append change-history rows."""
    await (await session.connection()).execute(_INSERT_HISTORY, list(rows))


_INSERT_HISTORY = insert(cast(Table, AttributeHistory.__table__))  # built once: hot path


async def values_by_contact(
    session: AsyncSession, workspace_id: str, contact_ids: Sequence[str]
) -> dict[str, dict[str, str]]:
    """The set values of these contacts as {contact_id: {key: value}}, in one query."""
    out: dict[str, dict[str, str]] = {c: {} for c in contact_ids}
    if not contact_ids:
        return out
    stmt = (
        select(AttributeValue.contact_id, AttributeDefinition.key, AttributeValue.value)
        .join(AttributeDefinition, AttributeDefinition.id == AttributeValue.definition_id)
        .where(
            AttributeValue.workspace_id == workspace_id,
            AttributeValue.contact_id.in_(list(contact_ids)),
            AttributeValue.value.is_not(None),
        )
        .order_by(AttributeDefinition.position, AttributeDefinition.key)
    )
    for contact_id, key, value in await session.execute(stmt):
        if value is not None:
            out[contact_id][key] = value
    return out


async def history_page(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    *,
    key: str | None,
    cursor: str | None,
    limit: int,
    exclude: Collection[str] = (),
) -> tuple[list[tuple[AttributeHistory, str]], str | None]:
    """One page of a contact's change history with each definition's key, newest first.

    `exclude`: definition ids left out (those hidden from the caller).

    Keyset on (at, id), which the (contact_id, at) index serves.
    """
    stmt = (
        select(AttributeHistory, AttributeDefinition.key)
        .join(AttributeDefinition, AttributeDefinition.id == AttributeHistory.definition_id)
        .where(
            AttributeHistory.workspace_id == workspace_id,
            AttributeHistory.contact_id == contact_id,
        )
    )
    if key is not None:
        stmt = stmt.where(AttributeDefinition.key == key)
    if exclude:
        stmt = stmt.where(AttributeHistory.definition_id.not_in(list(exclude)))
    if cursor:
        at, last_id = decode_cursor(cursor, 2)
        try:
            after = datetime.fromisoformat(str(at))
        except ValueError as exc:
            raise InvalidInput.for_field("query.cursor", _("Malformed cursor.")) from exc
        stmt = stmt.where(
            or_(
                AttributeHistory.at < after,
                and_(AttributeHistory.at == after, AttributeHistory.id < str(last_id)),
            )
        )
    stmt = stmt.order_by(AttributeHistory.at.desc(), AttributeHistory.id.desc()).limit(limit + 1)
    rows = [(row, k) for row, k in await session.execute(stmt)]
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1][0]
    return rows, encode_cursor([last.at.isoformat(), last.id])


def _of_definition(workspace_id: str, definition_id: str) -> list[ColumnElement[bool]]:
    return [
        AttributeValue.workspace_id == workspace_id,
        AttributeValue.definition_id == definition_id,
    ]


async def count_with_normalized(
    session: AsyncSession, workspace_id: str, definition_id: str, normalized: Sequence[str]
) -> int:
    """How many contacts hold one of these (normalised) values of a definition."""
    stmt = select(func.count()).where(
        *_of_definition(workspace_id, definition_id), AttributeValue.normalized.in_(normalized)
    )
    return int((await session.execute(stmt)).scalar_one())


async def values_with_normalized(
    session: AsyncSession,
    workspace_id: str,
    definition_id: str,
    normalized: Sequence[str],
    *,
    limit: int,
) -> list[tuple[str, str | None]]:
    """(contact id, value) of up to `limit` contacts holding one of these values, locked.

    The rows are locked (PostgreSQL) for the caller to overwrite: a value written meanwhile
    is returned as it now is, or not at all once it no longer matches.
    """
    stmt = (
        select(AttributeValue.contact_id, AttributeValue.value)
        .where(
            *_of_definition(workspace_id, definition_id),
            AttributeValue.normalized.in_(normalized),
        )
        .order_by(AttributeValue.contact_id)
        .limit(limit)
        .with_for_update(key_share=True)
    )
    return [(c, v) for c, v in await session.execute(stmt)]


async def value_batch(
    session: AsyncSession,
    workspace_id: str,
    definition_id: str,
    after: tuple[str, str] | None,
    limit: int,
) -> list[tuple[str, str, str, bool, str]]:
    """(normalized, contact id, value, invalid, source) of set values, in keyset order.

    Ordered by the lookup index (workspace, definition, normalized), so a batch is an
    index range scan however large the workspace.
    """
    stmt = select(
        AttributeValue.normalized,
        AttributeValue.contact_id,
        AttributeValue.value,
        AttributeValue.invalid,
        AttributeValue.source,
    ).where(
        *_of_definition(workspace_id, definition_id),
        AttributeValue.normalized.is_not(None),
        AttributeValue.value.is_not(None),
    )
    if after is not None:
        stmt = stmt.where(
            tuple_(AttributeValue.normalized, AttributeValue.contact_id) > tuple_(*after)
        )
    stmt = stmt.order_by(AttributeValue.normalized, AttributeValue.contact_id).limit(limit)
    return [(str(n), c, str(v), bool(i), s) for n, c, v, i, s in await session.execute(stmt)]


async def update_value_if(
    session: AsyncSession,
    workspace_id: str,
    definition_id: str,
    contact_id: str,
    *,
    old_value: str,
    changes: dict[str, Any],
) -> bool:
    """Change one value's columns if it still holds `old_value` (a concurrent write wins)."""
    table = _values
    stmt = (
        update(table)
        .where(
            table.c.workspace_id == workspace_id,
            table.c.definition_id == definition_id,
            table.c.contact_id == contact_id,
            table.c.value == old_value,
        )
        .values(**changes)
    )
    result = await session.execute(stmt)
    return int(result.rowcount) > 0  # type: ignore[attr-defined]


async def count_invalid(session: AsyncSession, workspace_id: str, definition_id: str) -> int:
    """How many of a definition's values a format change left invalid (partial index)."""
    stmt = select(func.count()).where(
        AttributeValue.definition_id == definition_id,
        AttributeValue.invalid,  # as the partial index states it, so PostgreSQL uses it
        AttributeValue.workspace_id == workspace_id,
    )
    return int((await session.execute(stmt)).scalar_one())


async def invalid_samples(
    session: AsyncSession, workspace_id: str, definition_id: str, limit: int
) -> list[tuple[str, str | None]]:
    """(contact id, value) of some invalid values of a definition."""
    stmt = (
        select(AttributeValue.contact_id, AttributeValue.value)
        .where(
            AttributeValue.definition_id == definition_id,
            AttributeValue.invalid,  # as the partial index states it, so PostgreSQL uses it
            AttributeValue.workspace_id == workspace_id,
        )
        .order_by(AttributeValue.contact_id)
        .limit(limit)
    )
    return [(c, v) for c, v in await session.execute(stmt)]


async def current_rows(
    session: AsyncSession, workspace_id: str, contact_id: str, definition_ids: Iterable[str]
) -> dict[str, AttributeValue]:
    """A contact's value rows of these definitions, by definition id."""
    stmt = select(AttributeValue).where(
        AttributeValue.workspace_id == workspace_id,
        AttributeValue.contact_id == contact_id,
        AttributeValue.definition_id.in_(list(definition_ids)),
    )
    return {v.definition_id: v for v in (await session.execute(stmt)).scalars()}


def _build_contact_tab() -> Any:
    # The conversation, its contact, every definition that can hold the contact's values
    # (custom, standard, platform of its medium) and each value: primary-key and index
    # probes only. `shown` says whether the Contact tab lists it on the conversation's channel.
    conv, contact = Conversation, Contact
    hidden = exists().where(
        AttributeChannelDisabled.definition_id == AttributeDefinition.id,
        AttributeChannelDisabled.channel_id == conv.channel_id,
    )
    return (
        select(
            contact.id.label("contact_id"),
            contact.medium,
            contact.channel_id,
            contact.platform_user_id,
            contact.display_name,
            contact.created_at,
            contact.version,
            conv.version.label("conversation_version"),
            # Carried along so that what is kept per configuration version costs no read.
            Workspace.config_version,
            AttributeDefinition.key,
            AttributeDefinition.label,
            AttributeDefinition.kind,
            AttributeDefinition.type,
            AttributeDefinition.format,
            AttributeDefinition.options,
            AttributeDefinition.crm_managed,
            AttributeDefinition.lookup,
            and_(AttributeDefinition.enabled.is_(True), ~hidden).label("shown"),
            AttributeValue.value,
            AttributeValue.source,
            AttributeValue.updated_at,
            AttributeValue.pending_value,
        )
        .select_from(conv)
        .join(
            contact, and_(contact.workspace_id == conv.workspace_id, contact.id == conv.contact_id)
        )
        .join(Workspace, Workspace.id == conv.workspace_id)
        .outerjoin(
            AttributeDefinition,
            and_(
                AttributeDefinition.workspace_id == conv.workspace_id,
                or_(
                    AttributeDefinition.medium.is_(None),
                    AttributeDefinition.medium == contact.medium,
                ),
            ),
        )
        .outerjoin(
            AttributeValue,
            and_(
                AttributeValue.workspace_id == conv.workspace_id,
                AttributeValue.contact_id == contact.id,
                AttributeValue.definition_id == AttributeDefinition.id,
            ),
        )
        .where(
            conv.workspace_id == bindparam("workspace_id"), conv.id == bindparam("conversation_id")
        )
        .order_by(AttributeDefinition.position, AttributeDefinition.key)
    )


# Built once: the Contact tab is read on every conversation an agent opens.
_CONTACT_TAB = _build_contact_tab()


async def contact_tab_rows(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> Sequence[Row[Any]]:
    """The conversation's contact with every definition it may have a value of, in order.

    No rows: no such conversation in the workspace. One row with a NULL key: no definitions.
    """
    params = {"workspace_id": workspace_id, "conversation_id": conversation_id}
    # On the session's connection: Core rows, without the ORM's per-statement work.
    return (await (await session.connection()).execute(_CONTACT_TAB, params)).all()

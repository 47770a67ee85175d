"""Attribute definition and value rows, always scoped by workspace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.db import dialect_insert
from rolodex.models import AttributeDefinition, AttributeHistory, AttributeValue

_values = cast(Table, AttributeValue.__table__)


async def next_position(session: AsyncSession, workspace_id: str) -> int:
    """The position after the workspace's last attribute definition."""
    stmt = select(func.coalesce(func.max(AttributeDefinition.position), -1)).where(
        AttributeDefinition.workspace_id == workspace_id
    )
    return int((await session.execute(stmt)).scalar_one()) + 1


async def insert_definitions_if_missing(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert definitions, skipping keys the workspace already has (safe under concurrency)."""
    if not rows:
        return
    stmt = dialect_insert(session, AttributeDefinition.__table__).on_conflict_do_nothing(
        index_elements=["workspace_id", "key"]
    )
    await session.execute(stmt, list(rows))


async def definition_ids(
    session: AsyncSession, workspace_id: str, keys: Iterable[str]
) -> dict[str, str]:
    """The ids of these definition keys of the workspace, by key (missing keys left out)."""
    stmt = select(AttributeDefinition.key, AttributeDefinition.id).where(
        AttributeDefinition.workspace_id == workspace_id,
        AttributeDefinition.key.in_(list(keys)),
    )
    return dict((await session.execute(stmt)).all())


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


async def upsert_values(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write values with their provenance, replacing the contact's current ones (one statement)."""
    stmt = dialect_insert(session, _values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["contact_id", "definition_id"],
        set_={
            name: stmt.excluded[name]
            for name in (
                "value",
                "normalized",
                "source",
                "actor_kind",
                "actor_id",
                "channel_id",
                "updated_at",
            )
        },
    )
    await session.execute(stmt, list(rows))


async def insert_history(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append change-history rows."""
    await session.execute(insert(cast(Table, AttributeHistory.__table__)), list(rows))


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


async def history_of(
    session: AsyncSession, workspace_id: str, contact_id: str
) -> list[tuple[AttributeHistory, str]]:
    """A contact's attribute change history with each definition's key, oldest first."""
    stmt = (
        select(AttributeHistory, AttributeDefinition.key)
        .join(AttributeDefinition, AttributeDefinition.id == AttributeHistory.definition_id)
        .where(
            AttributeHistory.workspace_id == workspace_id,
            AttributeHistory.contact_id == contact_id,
        )
        .order_by(AttributeHistory.at, AttributeHistory.id)
    )
    return [(row, key) for row, key in (await session.execute(stmt))]

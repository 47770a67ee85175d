"""Attribute definition rows and their per-channel toggles, always scoped by workspace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.db import dialect_insert
from rolodex.models import (
    AttributeChannelDisabled,
    AttributeDefinition,
    AttributeHistory,
    AttributeMapping,
    AttributeValue,
    Channel,
    Workspace,
)


async def channel_media(
    session: AsyncSession, workspace_id: str, channel_ids: Sequence[str]
) -> dict[str, str]:
    """The medium of each of these channels of the workspace (deleted ones left out)."""
    if not channel_ids:
        return {}
    stmt = select(Channel.id, Channel.medium).where(
        Channel.workspace_id == workspace_id,
        Channel.id.in_(channel_ids),
        Channel.deleted_at.is_(None),
    )
    return {row.id: row.medium for row in await session.execute(stmt)}


async def lock_order(session: AsyncSession, workspace_id: str) -> None:
    """Hold the workspace's attribute order until commit (PostgreSQL; SQLite is serialised).

    The workspace row is the lock: `max(position) + 1` reads no row a concurrent create
    could lock. FOR NO KEY UPDATE leaves inserts that reference the workspace free.
    """
    if session.bind is None or session.bind.dialect.name == "sqlite":
        return
    stmt = select(Workspace.id).where(Workspace.id == workspace_id).with_for_update(key_share=True)
    await session.execute(stmt)


async def next_position(session: AsyncSession, workspace_id: str) -> int:
    """The position after the workspace's last attribute definition, the order locked first."""
    await lock_order(session, workspace_id)
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
    params = {"workspace_id": workspace_id, "keys": list(keys)}
    return dict((await session.execute(_DEFINITION_IDS, params)).all())


# Built once: the inbound hot path runs it for every message.
_DEFINITION_IDS = select(AttributeDefinition.key, AttributeDefinition.id).where(
    AttributeDefinition.workspace_id == bindparam("workspace_id"),
    AttributeDefinition.key.in_(bindparam("keys", expanding=True)),
)


DefinitionFacts = tuple[str, str, str, str | None, str | None, bool, bool]


async def definition_facts(session: AsyncSession, workspace_id: str) -> list[DefinitionFacts]:
    """Every definition's (id, key, kind, format, medium, enabled, lookup) (the cache's)."""
    d = AttributeDefinition
    stmt = select(d.id, d.key, d.kind, d.format, d.medium, d.enabled, d.lookup).where(
        d.workspace_id == workspace_id
    )
    return [(i, k, kind, f, m, e, lk) for i, k, kind, f, m, e, lk in await session.execute(stmt)]


async def mapping_pairs(session: AsyncSession, workspace_id: str) -> list[tuple[str, str]]:
    """The workspace's (from definition id, to definition id) mappings, in the admin's order."""
    stmt = (
        select(AttributeMapping.from_definition_id, AttributeMapping.to_definition_id)
        .where(AttributeMapping.workspace_id == workspace_id)
        .order_by(AttributeMapping.position)
    )
    return [(f, t) for f, t in await session.execute(stmt)]


def definitions_of(workspace_id: str) -> Select[AttributeDefinition]:
    """The workspace-scoped statement every definition query starts from, in the admin's order."""
    return (
        select(AttributeDefinition)
        .where(AttributeDefinition.workspace_id == workspace_id)
        .order_by(AttributeDefinition.position, AttributeDefinition.key)
    )


async def list_definitions(session: AsyncSession, workspace_id: str) -> list[AttributeDefinition]:
    """The workspace's definitions in the admin's order."""
    return list((await session.execute(definitions_of(workspace_id))).scalars())


async def get_definition(
    session: AsyncSession, workspace_id: str, key: str
) -> AttributeDefinition | None:
    """One definition of the workspace by key."""
    stmt = definitions_of(workspace_id).where(AttributeDefinition.key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_definition_by_id(
    session: AsyncSession, workspace_id: str, definition_id: str
) -> AttributeDefinition | None:
    """One definition of the workspace by id (jobs carry ids)."""
    stmt = definitions_of(workspace_id).where(AttributeDefinition.id == definition_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def definitions_by_key(
    session: AsyncSession, workspace_id: str, keys: Iterable[str]
) -> dict[str, AttributeDefinition]:
    """These definitions of the workspace by key (unknown keys left out)."""
    stmt = definitions_of(workspace_id).where(AttributeDefinition.key.in_(list(keys)))
    return {d.key: d for d in (await session.execute(stmt)).scalars()}


async def existing_keys(session: AsyncSession, workspace_id: str, prefix: str) -> set[str]:
    """The workspace's keys that start with a prefix (to derive a free key)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = select(AttributeDefinition.key).where(
        AttributeDefinition.workspace_id == workspace_id,
        AttributeDefinition.key.like(f"{escaped}%", escape="\\"),
    )
    return set((await session.execute(stmt)).scalars())


async def labels(session: AsyncSession, workspace_id: str) -> list[tuple[str, str]]:
    """Every definition's (key, label) in the workspace (to keep labels unique)."""
    stmt = select(AttributeDefinition.key, AttributeDefinition.label).where(
        AttributeDefinition.workspace_id == workspace_id
    )
    return [(row.key, row.label) for row in await session.execute(stmt)]


async def set_positions(session: AsyncSession, workspace_id: str, ids: Sequence[str]) -> None:
    """Store a new order: each definition's position is its index in `ids`."""
    table = cast(Table, AttributeDefinition.__table__)
    stmt = (
        update(table)
        .where(table.c.workspace_id == workspace_id, table.c.id == bindparam("b_id"))
        .values(position=bindparam("b_position"))
    )
    await session.execute(stmt, [{"b_id": i, "b_position": n} for n, i in enumerate(ids)])


async def delete_definition(session: AsyncSession, workspace_id: str, definition_id: str) -> int:
    """Delete a definition with its values, history and channel toggles; how many values went."""
    removed = 0
    for model in (AttributeValue, AttributeHistory, AttributeChannelDisabled):
        result = await session.execute(
            delete(model).where(
                model.workspace_id == workspace_id, model.definition_id == definition_id
            )
        )
        if model is AttributeValue:
            removed = int(result.rowcount)  # type: ignore[attr-defined]
    await session.execute(
        delete(AttributeDefinition).where(
            AttributeDefinition.workspace_id == workspace_id,
            AttributeDefinition.id == definition_id,
        )
    )
    return removed


async def disabled_channels(
    session: AsyncSession, workspace_id: str, definition_ids: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """The channels each definition is disabled on, by definition id (channel ids sorted)."""
    stmt = select(
        AttributeChannelDisabled.definition_id, AttributeChannelDisabled.channel_id
    ).where(AttributeChannelDisabled.workspace_id == workspace_id)
    if definition_ids is not None:
        stmt = stmt.where(AttributeChannelDisabled.definition_id.in_(list(definition_ids)))
    out: dict[str, list[str]] = {}
    for definition_id, channel_id in await session.execute(
        stmt.order_by(AttributeChannelDisabled.channel_id)
    ):
        out.setdefault(definition_id, []).append(channel_id)
    return out


async def replace_disabled_channels(
    session: AsyncSession, workspace_id: str, definition_id: str, channel_ids: Sequence[str]
) -> None:
    """Make these the channels a definition is disabled on."""
    await session.execute(
        delete(AttributeChannelDisabled).where(
            AttributeChannelDisabled.workspace_id == workspace_id,
            AttributeChannelDisabled.definition_id == definition_id,
        )
    )
    if channel_ids:
        await session.execute(
            insert(cast(Table, AttributeChannelDisabled.__table__)),
            [
                {"workspace_id": workspace_id, "definition_id": definition_id, "channel_id": c}
                for c in channel_ids
            ],
        )

"""The contact-attributes CSV, written in keyset batches: memory does not grow with the workspace.

One code path for the background job and the `rolodex export` command. Each batch is the
next contacts by id, pivoted by the database (a column per attribute). On PostgreSQL the
database also writes the batch's CSV (COPY … TO STDOUT); on SQLite Python formats it while
the next batch is read. Cells that a spreadsheet would run as a formula (starting with
= + - @ tab or carriage return) are prefixed with a single quote.
"""

from __future__ import annotations

import asyncio
import csv
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rolodex.attributes.schemas import VIP_KEY
from rolodex.db import Database
from rolodex.errors import Conflict, InvalidInput, field_error
from rolodex.exports.schemas import ExportFilters
from rolodex.groups import service as groups
from rolodex.i18n import N_, _, translate
from rolodex.linking import service as linking
from rolodex.models import (
    AttributeDefinition,
    AttributeValue,
    Channel,
    Contact,
    ContactSettings,
)

BATCH = 10000
COLUMNS = (
    "contact_id",
    "medium",
    "channel_id",
    "channel_name",
    "platform_user_id",
    "display_name",
    "created_at",
    "updated_at",
    "vip",
    "linked_contact_ids",
)
# The labels of the fixed columns, for the optional second header row (the reader's language).
COLUMN_LABELS = {
    "contact_id": N_("Contact ID"),
    "medium": N_("Platform"),
    "channel_id": N_("Channel ID"),
    "channel_name": N_("Channel"),
    "platform_user_id": N_("Platform user ID"),
    "display_name": N_("Name"),
    "created_at": N_("Created (UTC)"),
    "updated_at": N_("Updated (UTC)"),
    "vip": "VIP",
    "linked_contact_ids": N_("Linked contacts"),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[int, int], Awaitable[None]]


def open_private(path: Path) -> IO[str]:
    """Open a CSV file for writing that only this service's user may read (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # A file left over from a crashed run keeps its old mode unless it is set again.
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def neutralised(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


@dataclass(frozen=True)
class Plan:
    """What to export, resolved against the workspace: columns in order, contact conditions."""

    workspace_id: str
    keys: list[str]
    definition_ids: list[str]
    vip_id: str | None
    matching_id: str | None
    conditions: list[ColumnElement[bool]]


async def plan(
    session: AsyncSession, workspace_id: str, filters: ExportFilters, keys: Sequence[str] | None
) -> Plan:
    """Check the filters and attribute keys (422 naming each bad one) and resolve them."""
    ws = workspace_id
    rows = (
        await session.execute(
            select(AttributeDefinition.key, AttributeDefinition.id, AttributeDefinition.enabled)
            .where(AttributeDefinition.workspace_id == ws)
            .order_by(AttributeDefinition.position, AttributeDefinition.key)
        )
    ).all()
    by_key = {k: (i, enabled) for k, i, enabled in rows}
    errors = []
    if keys is None:
        # Every attribute in the admin's order; vip has its own column.
        chosen = [k for k, _, _ in rows if k != VIP_KEY]
    else:
        chosen = list(dict.fromkeys(keys))
        errors += [
            field_error(
                f"attributes.{n}",
                _("There is no attribute %(key)s in this workspace.", key=k),
                "unknown",
            )
            for n, k in enumerate(keys)
            if k not in by_key
        ]
    conditions: list[ColumnElement[bool]] = []
    if filters.channel_ids:
        known = set(
            (
                await session.execute(
                    select(Channel.id).where(
                        Channel.workspace_id == ws, Channel.id.in_(filters.channel_ids)
                    )
                )
            ).scalars()
        )
        errors += [
            field_error(f"filters.channel_ids.{n}", _("This channel no longer exists."), "unknown")
            for n, c in enumerate(filters.channel_ids)
            if c not in known
        ]
        conditions.append(Contact.channel_id.in_(filters.channel_ids))
    if filters.mediums:
        conditions.append(Contact.medium.in_([m.value for m in filters.mediums]))
    vip_id = by_key[VIP_KEY][0] if VIP_KEY in by_key else None
    if filters.vip is not None:
        if vip_id is None or not by_key[VIP_KEY][1]:
            raise Conflict(
                _("VIP is turned off in this workspace: untick “VIP contacts only”."),
                code="vip_disabled",
            )
        is_vip = groups.vip_condition(ws, Contact.id, gated=False)
        conditions.append(is_vip if filters.vip else ~is_vip)
    if filters.group is not None:
        if filters.group == VIP_KEY:
            conditions.append(groups.vip_condition(ws, Contact.id, gated=False))
        else:
            group = await groups.group_by_key(session, ws, filters.group)
            if group is None:
                errors.append(
                    field_error(
                        "filters.group", _("This contact group no longer exists."), "unknown"
                    )
                )
            else:
                conditions.append(groups.member_condition(ws, group.id, Contact.id))
    if filters.updated_from is not None:
        conditions.append(_updated(ws, ">=", filters.updated_from))
    if filters.updated_to is not None:
        conditions.append(_updated(ws, "<", filters.updated_to))
    if (
        filters.updated_from is not None
        and filters.updated_to is not None
        and filters.updated_from >= filters.updated_to
    ):
        errors.append(
            field_error("filters.updated_to", _("Pick a date after “Updated from”."), "range")
        )
    if errors:
        raise InvalidInput(_("Some export options need a change."), errors=errors)
    matching = (
        await session.execute(
            select(ContactSettings.matching_definition_id).where(ContactSettings.workspace_id == ws)
        )
    ).scalar_one_or_none()
    return Plan(ws, chosen, [by_key[k][0] for k in chosen], vip_id, matching, conditions)


def _updated(workspace_id: str, op: str, at: datetime) -> ColumnElement[bool]:
    # A contact is updated when it was seen (a message) or one of its values changed.
    def compare(column: Any) -> ColumnElement[bool]:
        result: ColumnElement[bool] = column >= at if op == ">=" else column < at
        return result

    changed = exists().where(
        AttributeValue.workspace_id == workspace_id,
        AttributeValue.contact_id == Contact.id,
        compare(AttributeValue.updated_at),
    )
    return or_(compare(Contact.last_seen_at), changed)


async def count(session: AsyncSession, export: Plan) -> int:
    """How many contacts the export will have."""
    stmt = (
        select(func.count())
        .select_from(Contact)
        .where(Contact.workspace_id == export.workspace_id, *export.conditions)
    )
    return int((await session.execute(stmt)).scalar_one())


def _utc_text(column: Any, postgres: bool) -> Any:
    # ISO 8601 UTC with microseconds, formatted by the database: converting a million
    # timestamps to aware datetimes and back to text was a fifth of the export's CPU.
    if postgres:
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return func.replace(type_coerce(column, String), " ", "T").concat("Z")


def _pivot(export: Plan, after: str | None, *, upto: str | None = None) -> Any:
    # The next contacts by id, pivoted by the database: one row each, a column per
    # attribute (max … FILTER, which both databases run in C), the latest value change.
    # With the batch's last id (`upto`, PostgreSQL's COPY): every cell final, neutralised
    # and linked in SQL too; without it (SQLite) Python finishes the rows.
    postgres = upto is not None
    contacts = (
        select(
            Contact.id,
            Contact.medium,
            Contact.channel_id,
            Contact.platform_user_id,
            Contact.display_name,
            Contact.created_at,
            Contact.last_seen_at,
        )
        .where(Contact.workspace_id == export.workspace_id, *export.conditions)
        .order_by(Contact.id)
        .limit(BATCH)
    )
    if after is not None:
        contacts = contacts.where(Contact.id > after)
    batch = contacts.subquery("batch")
    value = AttributeValue
    # The batch's values, grouped by contact alone: grouping the joined rows by every
    # contact column cost a sort of all of them per batch.
    definitions = [export.vip_id or "", *export.definition_ids]
    agg = (
        select(
            value.contact_id,
            func.max(value.updated_at).label("changed"),
            *[
                func.max(value.value).filter(value.definition_id == d).label(f"v{n}")
                for n, d in enumerate(definitions)
            ],
        )
        .where(
            value.workspace_id == export.workspace_id,
            # With the batch's last id known: one range scan of the values' primary key.
            value.contact_id.in_(select(batch.c.id))
            if upto is None
            else and_(value.contact_id <= upto, value.contact_id > (after or "")),
        )
        .group_by(value.contact_id)
        .subquery("agg")
    )
    # The latest of the last message and the last value change; as text, see _utc_text.
    updated: Any = func.coalesce(agg.c.changed, batch.c.last_seen_at)
    updated = (func.greatest if postgres else func.max)(batch.c.last_seen_at, updated)
    texts: list[Any] = [Channel.name, batch.c.platform_user_id, batch.c.display_name]
    vip, *values = [agg.c[f"v{n}"] for n in range(len(definitions))]
    tail: list[Any] = [vip, *values]
    if postgres:
        texts = [_safe_sql(t) for t in texts]
        tail = [
            case((vip == "true", "true"), else_="false"),
            _links_sql(export, batch.c.id),
            *[_safe_sql(v) for v in values],
        ]
    return (
        select(
            batch.c.id,
            batch.c.medium,
            batch.c.channel_id,
            *texts,
            _utc_text(batch.c.created_at, postgres),
            _utc_text(updated, postgres),
            *tail,
        )
        .select_from(batch)
        .join(Channel, Channel.id == batch.c.channel_id)
        .outerjoin(agg, agg.c.contact_id == batch.c.id)
        .order_by(batch.c.id)
    )


def _safe_sql(cell: Any) -> Any:
    # neutralised(), in SQL.
    return case((func.left(cell, 1).in_(list(_FORMULA_START)), literal("'") + cell), else_=cell)


def _links_sql(export: Plan, contact_id: Any) -> Any:
    # The contact's links, space-separated in id order (the same rule as _links).
    if export.matching_id is None:
        return literal("")
    mine, peer = aliased(AttributeValue), aliased(AttributeValue)
    return (
        select(func.string_agg(peer.contact_id, aggregate_order_by(literal(" "), peer.contact_id)))
        .where(
            mine.workspace_id == export.workspace_id,
            mine.definition_id == export.matching_id,
            mine.contact_id == contact_id,
            peer.workspace_id == mine.workspace_id,
            peer.definition_id == mine.definition_id,
            peer.contact_id != mine.contact_id,
            *linking.link_rule(mine, peer),
        )
        .scalar_subquery()
    )


async def _batch(session: AsyncSession, export: Plan, after: str | None) -> list[Any]:
    stmt = _pivot(export, after)
    return list((await (await session.connection()).execute(stmt)).all())


async def _links(session: AsyncSession, export: Plan, ids: list[str]) -> dict[str, list[str]]:
    # The rule of a contact's links (linking/repository.py), for a whole batch at once.
    if export.matching_id is None:
        return {}
    mine, peer = aliased(AttributeValue), aliased(AttributeValue)
    stmt = (
        select(mine.contact_id, peer.contact_id)
        .join(
            peer,
            and_(
                peer.workspace_id == mine.workspace_id,
                peer.definition_id == mine.definition_id,
                peer.contact_id != mine.contact_id,
            ),
        )
        .where(
            mine.workspace_id == export.workspace_id,
            mine.definition_id == export.matching_id,
            mine.contact_id.in_(ids),
            *linking.link_rule(mine, peer),
        )
        .order_by(mine.contact_id, peer.contact_id)
    )
    out: dict[str, list[str]] = {}
    for contact_id, peer_id in (await session.execute(stmt)).all():
        out.setdefault(contact_id, []).append(peer_id)
    return out


def _rows(rows: list[Any], links: dict[str, list[str]]) -> list[list[str]]:
    safe = neutralised
    lines = []
    for cid, medium, channel_id, channel, user_id, name, created, updated, vip, *values in rows:
        lines.append(
            [
                cid,
                medium,
                channel_id,
                safe(channel),
                safe(user_id),
                safe(name),
                created,
                updated,
                "true" if vip == "true" else "false",
                " ".join(links.get(cid, ())),
                *[safe(v) if v else "" for v in values],
            ]
        )
    return lines


def header_labels(keys: Sequence[str], labels: dict[str, str]) -> list[str]:
    """The second header row: each column's label, built-in ones in the reader's language.

    `labels` holds each attribute key's label as it is shown to this reader (built-in labels
    translated, labels that admins typed as typed); a key without one keeps its key.
    """
    return [
        *(translate(COLUMN_LABELS[c]) for c in COLUMNS),
        *(labels.get(k, k) for k in keys),
    ]


async def write(
    db: Database,
    export: Plan,
    out: IO[str],
    progress: Progress,
    labels: Sequence[str] | None = None,
) -> int:
    """Write the header and every contact's row; report progress after each batch; rows written.

    With `labels`, a second header row follows the keys (see `header_labels`); its cells are
    neutralised like any other (a label is text an admin typed).

    PostgreSQL writes each batch's CSV itself (COPY … TO STDOUT); on SQLite the next batch
    is read while this one is formatted and written (in a thread), so the database and
    Python work side by side instead of in turn.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, *export.keys])
    if labels is not None:
        writer.writerow([neutralised(label) for label in labels])
    async with db.reader() as session:
        total = await count(session, export)
    await progress(0, total)
    if not db.sqlite:
        return await _copy(db, export, out, progress, total)

    async def fetch(after: str | None) -> tuple[list[Any], dict[str, list[str]]]:
        async with db.reader() as session:
            rows = await _batch(session, export, after)
            links = await _links(session, export, [r[0] for r in rows]) if rows else {}
        return rows, links

    def emit(rows: list[Any], links: dict[str, list[str]]) -> None:
        writer.writerows(_rows(rows, links))

    done = 0
    pending = asyncio.ensure_future(fetch(None))
    try:
        while True:
            rows, links = await pending
            if not rows:
                return done
            pending = asyncio.ensure_future(fetch(rows[-1][0]))
            await asyncio.to_thread(emit, rows, links)
            done += len(rows)
            await progress(done, max(total, done))
    finally:
        pending.cancel()


async def _copy(db: Database, export: Plan, out: IO[str], progress: Progress, total: int) -> int:
    # Each batch: its last contact id (one index scan), then COPY of its pivot as CSV,
    # streamed to the file. Python only moves bytes.
    out.flush()
    binary: IO[bytes] = out.buffer  # type: ignore[attr-defined]
    done, after = 0, None
    while True:
        async with db.reader() as session:
            connection = await session.connection()
            bound = select(Contact.id).where(
                Contact.workspace_id == export.workspace_id, *export.conditions
            )
            if after is not None:
                bound = bound.where(Contact.id > after)
            last = (
                await connection.execute(
                    select(func.max(bound.order_by(Contact.id).limit(BATCH).subquery().c.id))
                )
            ).scalar_one_or_none()
            if last is None:
                return done
            compiled = _pivot(export, after, upto=str(last)).compile(
                dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
            )
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            async with driver.cursor() as cursor:
                sql = f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)"
                async with cursor.copy(sql, compiled.params) as copy:
                    async for chunk in copy:
                        binary.write(chunk)
                done += max(cursor.rowcount, 0)
        after = str(last)
        await progress(done, max(total, done))

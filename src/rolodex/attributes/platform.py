"""Platform attributes: their definition rows, checking sender values, and writing them.

Values arrive with an inbound message under their short names; each is checked
against its catalogue value type and normalised by the one normaliser per format
(attributes/formats.py; the `normalized` column feeds cross-channel linking). A value
of the wrong type is a 422 naming `sender.attributes.<name>`; unknown names are
ignored and reported back; a null value means "not provided" and leaves the stored
value alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import config, formats, labels, repository
from rolodex.attributes.events import AttributeValuesChanged, ValueChange
from rolodex.attributes.formats import Format
from rolodex.catalogue import Medium, PlatformAttribute, attributes_of
from rolodex.errors import InvalidInput, field_error
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.workspaces import service as workspaces


@dataclass(frozen=True)
class PlatformValue:
    """A checked value of one platform attribute: as shown, and its matching form."""

    attribute: PlatformAttribute
    value: str
    normalized: str


@dataclass(frozen=True)
class Provenance:
    """Who wrote values, through which channel, and when (B1)."""

    source: str
    actor_kind: str
    actor_id: str | None
    channel_id: str | None
    at: datetime


def check_value(attribute: PlatformAttribute, raw: Any, region: str) -> PlatformValue:
    """The value checked against its type and normalised; ValueError saying why not."""
    checked = formats.normalize(Format(attribute.value_type.value), raw, region)
    return PlatformValue(attribute, checked.value, checked.normalized)


def check_sender_attributes(
    medium: Medium, raw: Mapping[str, Any], region: str
) -> tuple[dict[str, PlatformValue], list[str]]:
    """The checked values by short name and the ignored (unknown) names; 422 for bad values."""
    catalogue = attributes_of(medium)
    values: dict[str, PlatformValue] = {}
    ignored: list[str] = []
    errors = []
    for name, item in raw.items():
        attribute = catalogue.get(name)
        if attribute is None:
            ignored.append(name)
            continue
        if item is None:
            continue
        try:
            values[name] = check_value(attribute, item, region)
        except ValueError as exc:
            errors.append(field_error(f"sender.attributes.{name}", str(exc), "wrong_type"))
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(detail, errors=errors)
    return values, ignored


async def ensure_definitions(
    session: AsyncSession, workspace_id: str, medium: Medium
) -> dict[str, str]:
    """Create the medium's platform definitions the workspace lacks; their ids by short name.

    Nothing is read when the workspace's configuration in memory has them all (the usual
    case: a channel's creation made them). Never fails on a label: one already taken (a
    custom attribute of that name from before labels were unique) gets the first free
    numbered label, "SMS phone (2)" (labels.py).
    """
    catalogue = attributes_of(medium)
    known = (await config.current(session, workspace_id)).by_key
    if all(a.key in known for a in catalogue.values()):
        return {a.name: known[a.key].id for a in catalogue.values()}
    by_key = {a.key: a for a in catalogue.values()}
    # A configuration change: bumped first, so this transaction reads its own definitions.
    await workspaces.config_changed(session, workspace_id)
    existing = await repository.definition_ids(session, workspace_id, by_key)
    missing = [a for key, a in by_key.items() if key not in existing]
    if missing:
        start = await repository.next_position(session, workspace_id)  # locks the order
        # Again under the lock: what a concurrent request created is left to it, and the
        # labels are chosen against every committed one.
        existing = await repository.definition_ids(session, workspace_id, by_key)
        missing = [a for key, a in by_key.items() if key not in existing]
        shown = labels.free_labels(
            [(a.key, a.label) for a in missing], await repository.labels(session, workspace_id)
        )
        rows = [
            {
                "id": new_id("attr"),
                "workspace_id": workspace_id,
                "key": a.key,
                "label": shown[a.key],
                "kind": "platform",
                "type": "text",
                "format": a.value_type.value,
                "options": None,
                "medium": medium.value,
                "enabled": True,
                "position": start + i,
                "crm_managed": False,
                "lookup": False,
                "created_at": utcnow(),
            }
            for i, a in enumerate(missing)
        ]
        await repository.insert_definitions_if_missing(session, rows)
        existing = await repository.definition_ids(session, workspace_id, by_key)
    return {a.name: existing[a.key] for a in catalogue.values() if a.key in existing}


Row = tuple[str, PlatformValue, str | None]  # (definition id, new value, old value)


async def write_values(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    values: Mapping[str, PlatformValue],
    definitions: Mapping[str, str],
    provenance: Provenance,
    *,
    new_contact: bool,
) -> dict[str, str] | None:
    """Upsert the values that changed (one statement) and their history.

    Returns the contact's platform values by short name after the write when anything
    changed (for its display name), None when nothing did. A new contact has no values
    yet, so its current values are not read; a returning one's are read in one statement
    with the custom values the admin's mappings may fill.
    """
    ids = {name: definitions[name] for name in values if name in definitions}
    if not ids:
        return None
    mappings = (await config.current(session, workspace_id)).mappings
    targets = [(f, t) for f, t in mappings if f in ids.values()]
    # All of the contact's platform values, not only the sent ones: the display name
    # is recomputed from the whole set.
    current: dict[str, tuple[str | None, str]] = (
        {}
        if new_contact
        else await repository.current_with_sources(
            session, contact_id, {*definitions.values(), *(t for _, t in targets)}
        )
    )

    def old(definition_id: str) -> str | None:
        return current[definition_id][0] if definition_id in current else None

    changed = [(n, v) for n, v in values.items() if n in ids and old(ids[n]) != v.value]
    if not changed:
        return None
    rows: list[Row] = [(ids[n], v, old(ids[n])) for n, v in changed]
    rows += _mapped(rows, targets, current)
    await _write(session, workspace_id, contact_id, rows, provenance)
    await emit(
        session,
        AttributeValuesChanged(
            workspace_id=workspace_id,
            contact_id=contact_id,
            changes=tuple(ValueChange(d, was, v.value) for d, v, was in rows),
            source=provenance.source,
            actor_kind=provenance.actor_kind,
            actor_id=provenance.actor_id,
            new_contact=new_contact,
        ),
    )
    names = {definition_id: name for name, definition_id in definitions.items()}
    after = {names[d]: v for d, (v, _) in current.items() if d in names and v is not None}
    after.update({n: v.value for n, v in changed})
    return after


def _mapped(
    rows: list[Row],
    targets: list[tuple[str, str]],
    current: Mapping[str, tuple[str | None, str]],
) -> list[Row]:
    # Custom values that the admin's mappings (set in linking) fill from the changed
    # platform values, first mapping first; the writes ride on the platform upsert. A custom
    # value set by anyone but the platform is left alone (a cleared one may be filled).
    by_id = {definition_id: value for definition_id, value, _ in rows}
    out: dict[str, Row] = {}
    for from_id, to_id in targets:
        new = by_id.get(from_id)
        if new is None or to_id in out:
            continue
        old, source = current.get(to_id, (None, None))
        if (old is None or source == "platform") and old != new.value:
            out[to_id] = (to_id, new, old)
    return list(out.values())


async def _write(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    rows: list[Row],
    provenance: Provenance,
) -> None:
    stamp = {
        "workspace_id": workspace_id,
        "contact_id": contact_id,
        "source": provenance.source,
        "actor_kind": provenance.actor_kind,
        "actor_id": provenance.actor_id,
        "channel_id": provenance.channel_id,
    }
    await repository.upsert_platform_values(
        session,
        [
            {
                **stamp,
                "definition_id": d,
                "value": v.value,
                "normalized": v.normalized,
                "updated_at": provenance.at,
                "pending_value": None,
            }
            for d, v, _ in rows
        ],
    )
    await repository.insert_history(
        session,
        [
            {
                **stamp,
                "id": new_id("ahist"),
                "definition_id": d,
                "old_value": old,
                "new_value": v.value,
                "at": provenance.at,
            }
            for d, v, old in rows
        ],
    )


async def write_mapped_values(
    session: AsyncSession, workspace_id: str, definition_id: str, rows: Sequence[Any], at: datetime
) -> None:
    """Fill a mapping's custom attribute from platform values (linking's back-fill), with history.

    Each row carries contact_id, value, normalized, the platform value's actor_kind, actor_id
    and channel_id, and target_value (the value replaced). Written with source `platform`
    under the upsert's guard, so an agent's, bot's or CRM's value is never overwritten.
    """
    stamps = [
        {
            "workspace_id": workspace_id,
            "contact_id": r.contact_id,
            "definition_id": definition_id,
            "source": "platform",
            "actor_kind": r.actor_kind,
            "actor_id": r.actor_id,
            "channel_id": r.channel_id,
        }
        for r in rows
    ]
    await repository.upsert_platform_values(
        session,
        [
            {**s, "value": r.value, "normalized": r.normalized, "updated_at": at}
            for s, r in zip(stamps, rows, strict=True)
        ],
    )
    await repository.insert_history(
        session,
        [
            {
                **s,
                "id": new_id("ahist"),
                "old_value": r.target_value,
                "new_value": r.value,
                "at": at,
            }
            for s, r in zip(stamps, rows, strict=True)
        ],
    )

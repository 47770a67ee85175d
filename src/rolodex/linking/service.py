"""Linking contacts across channels (R3, B3): the settings, the links and the shared history.

Links are never merges and never stored. Two contacts are linked when both hold a
non-empty, valid value of the workspace's attribute used for matching with the same
`normalized` form (attributes/formats.py: emails lower-cased, phones E.164, text
case-folded), so a link is one index look-up at read time, and changing or clearing the
setting (R3.4) re-links the whole workspace by writing one row. Twitter and Instagram
need none of this: their contacts are one per platform user already (R3.2).

Mappings let platform values (e.g. `whatsapp-phone`) fill a custom attribute (`phone`)
on inbound messages, with source `platform`, never over an agent's, bot's or CRM's
value (attributes/platform.py applies them in the inbound upsert).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.attributes.schemas import AttributeKind, AttributeType
from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.catalogue import CATALOGUE, Medium
from rolodex.contacts import service as contacts
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import Status
from rolodex.errors import InvalidInput, field_error
from rolodex.i18n import N_, _, translate
from rolodex.jobs import service as jobs
from rolodex.kit.clock import utcnow
from rolodex.linking import repository
from rolodex.linking.schemas import (
    AttributeMappingItem,
    ContactSettingsRead,
    ContactSettingsUpdate,
    HistoryConversationRead,
    LinkRead,
    LinkReason,
)
from rolodex.models import AttributeDefinition
from rolodex.workspaces import service as workspaces

# A value shared by very many contacts (a switchboard number) lists only this many links.
LINKS_SHOWN = MAX_LINKS = 200
BACKFILL_JOB = "linking.backfill_mapping"


async def get_settings(session: AsyncSession, principal: Principal) -> ContactSettingsRead:
    """The attribute used for matching and the platform-to-custom mappings."""
    ws = principal.workspace_id
    definition_id = await repository.matching_definition_id(session, ws)
    key = None
    if definition_id is not None:
        definition = await attributes.get_definition_by_id(session, ws, definition_id)
        key = definition.key if definition is not None else None
    pairs = await repository.mappings(session, ws)
    return ContactSettingsRead(
        matching_attribute=key,
        mappings=[AttributeMappingItem(from_=f, to=t) for f, t in pairs],
    )


async def _matching_id(session: AsyncSession, workspace_id: str, key: str | None) -> str | None:
    if key is None:
        return None
    definition = await attributes.get_definition(session, workspace_id, key)
    if definition is not None and definition.type != AttributeType.TEXT:
        # A dropdown or yes/no value is shared by many people: matching on it links strangers.
        raise InvalidInput.for_field(
            "matching_attribute",
            _(
                "%(key)s is a %(type)s attribute; only text attributes identify a person.",
                key=repr(key),
                type=_type_name(definition.type),
            ),
            code="matching_attribute_unsuitable",
        )
    if definition is None or definition.kind != AttributeKind.CUSTOM:
        raise InvalidInput.for_field(
            "matching_attribute",
            _("%(key)s is not a custom attribute of this workspace.", key=repr(key)),
            code="matching_attribute_invalid",
        )
    return definition.id


def _type_name(kind: str) -> str:
    # How an attribute type is named in a sentence, in the reader's language.
    names = {AttributeType.DROPDOWN: N_("dropdown"), AttributeType.BOOLEAN: N_("yes/no")}
    return translate(names.get(AttributeType(kind), str(kind)))


async def _platform_id(session: AsyncSession, workspace_id: str, key: str) -> tuple[str, str]:
    medium_name, _dash, name = key.partition("-")
    if medium_name not in Medium.__members__.values() or name not in CATALOGUE[Medium(medium_name)]:
        raise ValueError(_("%(key)s is not a platform attribute.", key=repr(key)))
    medium = Medium(medium_name)
    # Mapping a medium before its first channel exists creates its definitions (idempotent).
    ids = await attributes.ensure_definitions(session, workspace_id, medium)
    return ids[name], CATALOGUE[medium][name].value_type.value


def _check_target(definition: AttributeDefinition | None, key: str, fmt: str) -> str:
    if definition is None or definition.kind != AttributeKind.CUSTOM:
        raise ValueError(_("%(key)s is not a custom attribute.", key=repr(key)))
    if definition.type != AttributeType.TEXT or (definition.format or "text") != fmt:
        raise ValueError(
            _(
                "%(key)s must be a text attribute of format %(format)s to take these values.",
                key=repr(key),
                format=fmt,
            )
        )
    return definition.id


async def _mapping_ids(
    session: AsyncSession, workspace_id: str, items: list[AttributeMappingItem]
) -> list[tuple[str, str]]:
    targets = await attributes.definitions_by_key(session, workspace_id, [m.to for m in items])
    pairs: list[tuple[str, str]] = []
    errors = []
    for i, item in enumerate(items):
        try:
            from_id, fmt = await _platform_id(session, workspace_id, item.from_)
        except ValueError as exc:
            errors.append(field_error(f"mappings.{i}.from", str(exc), "not_platform"))
            continue
        try:
            to_id = _check_target(targets.get(item.to), item.to, fmt)
        except ValueError as exc:
            errors.append(field_error(f"mappings.{i}.to", str(exc), "incompatible"))
            continue
        if (from_id, to_id) in pairs:
            errors.append(field_error(f"mappings.{i}", _("Listed twice."), "duplicate"))
        pairs.append((from_id, to_id))
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(detail, errors=errors, code="mapping_invalid")
    return pairs


def _snapshot(read: ContactSettingsRead) -> dict[str, Any]:
    return read.model_dump(mode="json")


async def update_settings(
    session: AsyncSession, principal: Principal, data: ContactSettingsUpdate
) -> ContactSettingsRead:
    """An admin picks (or clears) the attribute used for matching and/or the mappings."""
    principal.require_admin()
    ws, now = principal.workspace_id, utcnow()
    await workspaces.config_changed(session, ws)  # the mappings are read on every message
    before = await get_settings(session, principal)
    fields = data.model_fields_set
    if "matching_attribute" in fields:
        matching = await _matching_id(session, ws, data.matching_attribute)
        await repository.set_matching(session, ws, matching, now)
    if "mappings" in fields:
        pairs = await _mapping_ids(session, ws, data.mappings or [])
        await repository.replace_mappings(session, ws, pairs, now)
        # Existing contacts get the new mappings' values in the background (linking/jobs.py).
        old = {(m.from_, m.to) for m in before.mappings}
        for item, (from_id, to_id) in zip(data.mappings or [], pairs, strict=True):
            if (item.from_, item.to) in old:
                continue
            await jobs.enqueue(
                session,
                BACKFILL_JOB,
                {"from_id": from_id, "to_id": to_id},
                workspace_id=ws,
                ref=ws,
            )
    after = await get_settings(session, principal)
    if after != before:
        await audit.record(
            session,
            principal,
            "contact_settings.updated",
            target_type="contact_settings",
            target_id=ws,
            before=_snapshot(before),
            after=_snapshot(after),
        )
    return after


async def contact_links(
    session: AsyncSession, principal: Principal, contact_id: str
) -> list[LinkRead]:
    """The contacts linked to this one, each with the reason (attribute and value)."""
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    ws = principal.workspace_id
    rows = await repository.linked(session, ws, contact.id, limit=MAX_LINKS)
    details = await repository.link_details(session, ws, [c for c, _, _ in rows])
    return [
        LinkRead(
            contact_id=c,
            medium=Medium(details[c][0]),
            channel_id=details[c][1],
            display_name=details[c][2],
            reason=LinkReason(attribute=key, value=value),
        )
        for c, value, key in rows
        if c in details
    ]


async def cross_channel_history(
    session: AsyncSession,
    principal: Principal,
    contact_id: str,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[HistoryConversationRead], str | None]:
    """The conversations of the contact and of every linked contact, newest first."""
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    ws = principal.workspace_id
    links = await repository.linked(session, ws, contact.id, limit=MAX_LINKS)
    reasons = {c: LinkReason(attribute=key, value=value) for c, value, key in links}
    ids = [contact.id, *reasons]
    rows, next_cursor = await repository.history_page(session, ws, ids, cursor=cursor, limit=limit)
    by = await conversations.authors(
        session,
        principal,
        [(r.last_author_kind, r.last_author_id or None) for r in rows if r.last_author_kind],
    )
    return [
        HistoryConversationRead(
            id=row.id,
            contact_id=row.contact_id,
            contact_display_name=row.display_name,
            channel_id=row.channel_id,
            channel_name=row.channel_name,
            medium=Medium(row.medium),
            status=Status(row.status),
            last_message_text=row.last_text,
            last_message_author=by.get((row.last_author_kind, row.last_author_id or None)),
            last_message_at=row.last_message_at,
            created_at=row.created_at,
            linked_because=reasons.get(row.contact_id),
        )
        for row in rows
    ], next_cursor


async def _matching(session: AsyncSession, workspace_id: str) -> str | None:
    return await repository.matching_definition_id(session, workspace_id)


async def linked(
    session: AsyncSession, workspace_id: str, contact_id: str, *, limit: int
) -> list[tuple[str, str, str]]:
    """(contact id, its value, attribute key) of up to `limit` contacts linked to this one."""
    # Without a matching attribute nothing is linked: where the transaction already knows the
    # configuration version (the Contact tab's read carries it), that costs no statement.
    known = workspaces.config_version_known(session, workspace_id)
    if known and await workspaces.cached_config(session, workspace_id, _matching) is None:
        return []
    return await repository.linked(session, workspace_id, contact_id, limit=limit)


# The domain's public face for the domains above it (.importlinter): links are computed at
# read time from the matching attribute's normalized values, never stored (R3).
link_details = repository.link_details
link_rule = repository.link_rule

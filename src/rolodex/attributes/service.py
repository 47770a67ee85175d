"""Attribute definitions: the admin's list, order, toggles, custom attributes (R1, R2, B7).

How the attribute engine works
------------------------------
* **Definitions** (`attribute_definitions`, one row per key per workspace) are of three
  kinds. *Platform* ones come from the catalogue (channels/catalogue.py) and are created
  with the first channel of their medium; their values are written only by ingestion
  (attributes/platform.py). The one *standard* attribute, `vip` (boolean), is created
  with every workspace. *Custom* ones are created here by admins: a text field with a
  format (attributes/formats.py) or a dropdown of two or more options. Keys never change.
* **Layout**: one order over all of them (`position`); `enabled` hides an attribute
  everywhere; platform attributes may also be hidden per channel
  (`attribute_channel_disabled`).
* **Values** (`attribute_values`): one current value per (contact, attribute) with its
  source, actor, channel and time, and a `normalized` form for matching. Every write
  goes through attributes/values.py (the rules: who may write what, validation) and
  attributes/writes.py (upsert + a history row per change in `attribute_history`).
* **Definition life**: renaming and adding options are plain updates; removing an option
  that contacts use is refused (409 `option_in_use`) unless forced, which clears those
  values with history; a format change re-checks every value in a job
  (attributes/jobs.py) that re-normalises the valid ones and marks (never drops) the
  ones that no longer validate (`invalid_values` on GET /attributes/{key}).
* **Contact tab** (composed in inbox/service.py): the enabled attributes for a
  conversation's channel, in order, each with its value and `editable` computed by the
  same rule as the write path (`refusal`).
Every admin change writes an audit event in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import (
    config,
    formats,
    labels,
    options,
    platform,
    repository,
    values,
    visibility,
    writes,
)
from rolodex.attributes.formats import Format
from rolodex.attributes.schemas import (
    VIP_KEY,
    AttributeCreate,
    AttributeDetail,
    AttributeKind,
    AttributeOrder,
    AttributeRead,
    AttributeType,
    CustomType,
    InvalidValueRead,
)
from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.catalogue import VIP_LABEL, label_of
from rolodex.errors import Conflict, InvalidInput, NotFound, field_error
from rolodex.i18n import _
from rolodex.kit import slugs
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.models import AttributeDefinition
from rolodex.workspaces import service as workspaces

RENORMALIZE_JOB = "attributes.renormalize"
MAX_KEY_LENGTH = 60  # derived keys, leaving room for a _<n> suffix
INVALID_SAMPLES = 20


def _read(
    definition: AttributeDefinition, disabled: list[str], *, shown: bool = True
) -> AttributeRead:
    # shown: a built-in label in the reader's language (what people and the API read);
    # otherwise the stored label (what the audit log keeps).
    return AttributeRead(
        key=definition.key,
        label=label_of(definition.key, definition.label) if shown else definition.label,
        kind=AttributeKind(definition.kind),
        type=AttributeType(definition.type),
        format=Format(definition.format) if definition.format else None,
        options=list(definition.options) if definition.options is not None else None,
        medium=definition.medium,
        enabled=definition.enabled,
        disabled_channel_ids=disabled,
        position=definition.position,
        crm_managed=definition.crm_managed,
        lookup=definition.lookup,
    )


def snapshot(read: AttributeRead) -> dict[str, Any]:
    return read.model_dump(mode="json", exclude={"position"})


def problem(errors: list[dict[str, Any]], code: str | None = None) -> InvalidInput:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return InvalidInput(detail, errors=errors, code=code)


async def create_standard_attributes(session: AsyncSession, workspace_id: str) -> None:
    """Create the standard attributes a workspace lacks: `vip`, enabled (R4.1)."""
    await workspaces.config_changed(session, workspace_id)
    position = await repository.next_position(session, workspace_id)
    await repository.insert_definitions_if_missing(
        session,
        [
            {
                "id": new_id("attr"),
                "workspace_id": workspace_id,
                "key": VIP_KEY,
                "label": VIP_LABEL,  # stored in English; shown translated (label_of)
                "kind": AttributeKind.STANDARD.value,
                "type": AttributeType.BOOLEAN.value,
                "format": None,
                "options": None,
                "medium": None,
                "enabled": True,
                "position": position,
                "crm_managed": False,
                "lookup": False,
                "created_at": utcnow(),
            }
        ],
    )


async def access_attribute_by_key(
    session: AsyncSession, principal: Principal, key: str
) -> AttributeDefinition:
    """A definition of the caller's workspace; 404 for missing and foreign alike."""
    definition = await repository.get_definition(session, principal.workspace_id, key)
    if definition is None or not (definition.enabled or visibility.sees_hidden(principal)):
        raise NotFound(_("Attribute not found."))
    return definition


async def list_attributes(session: AsyncSession, principal: Principal) -> list[AttributeRead]:
    """Every attribute of the workspace in the admin's order (agents: the enabled ones)."""
    definitions = await repository.list_definitions(session, principal.workspace_id)
    if not visibility.sees_hidden(principal):
        definitions = [d for d in definitions if d.enabled]
    disabled = await repository.disabled_channels(session, principal.workspace_id)
    return [_read(d, disabled.get(d.id, [])) for d in definitions]


async def read_attribute(
    session: AsyncSession,
    principal: Principal,
    definition: AttributeDefinition,
    *,
    shown: bool = True,
) -> AttributeRead:
    """One definition as SPEC lists it (shown=False: with its stored label, for the audit log)."""
    disabled = await repository.disabled_channels(session, principal.workspace_id, [definition.id])
    return _read(definition, disabled.get(definition.id, []), shown=shown)


async def get_attribute(session: AsyncSession, principal: Principal, key: str) -> AttributeDetail:
    """One attribute with the values a format change left invalid."""
    definition = await access_attribute_by_key(session, principal, key)
    read = await read_attribute(session, principal, definition)
    ws = principal.workspace_id
    samples = await repository.invalid_samples(session, ws, definition.id, INVALID_SAMPLES)
    return AttributeDetail(
        **read.model_dump(),
        invalid_values=await repository.count_invalid(session, ws, definition.id),
        invalid_samples=[InvalidValueRead(contact_id=c, value=v) for c, v in samples],
    )


def slugify(label: str) -> str:
    """A key from a label: ASCII, lower case, words joined by underscores."""
    return slugs.slugify(label, fallback="attribute", length=MAX_KEY_LENGTH)


async def _free_key(session: AsyncSession, workspace_id: str, label: str) -> str:
    base = slugify(label)
    taken = await repository.existing_keys(session, workspace_id, base)
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _check_create(data: AttributeCreate) -> tuple[str | None, list[str] | None]:
    if data.type is CustomType.DROPDOWN:
        if data.format is not None:
            raise InvalidInput.for_field("format", _("Only text fields have a format."))
        if data.options is None:
            message = _("A dropdown list needs at least two options.")
            raise InvalidInput.for_field("options", message)
        return None, options.check_options(data.options)
    if data.options is not None:
        raise InvalidInput.for_field("options", _("Only dropdown lists have options."))
    return (data.format or Format.TEXT).value, None


async def create_attribute(
    session: AsyncSession, principal: Principal, data: AttributeCreate
) -> AttributeRead:
    """An admin creates a custom attribute; it joins the end of the order (R2.5).

    Its label must be free in the workspace (attributes/labels.py): 409 `label_taken`.
    """
    principal.require_admin()
    label = labels.required(data.label)
    fmt, options = _check_create(data)
    ws = principal.workspace_id
    await workspaces.config_changed(session, ws)
    # First: it locks the order, so concurrent creates also derive distinct free keys and
    # labels are checked against every committed one.
    position = await repository.next_position(session, ws)
    await labels.check_free(session, ws, label)
    if data.key is not None and await repository.get_definition(session, ws, data.key):
        raise _key_taken(data.key)
    definition = AttributeDefinition(
        id=new_id("attr"),
        workspace_id=ws,
        key=data.key or await _free_key(session, ws, label),
        label=label,
        kind=AttributeKind.CUSTOM.value,
        type=data.type.value,
        format=fmt,
        options=options,
        medium=None,
        enabled=True,
        position=position,
        crm_managed=False,
        lookup=False,
    )
    session.add(definition)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create took the label or the key
        if labels.is_label_conflict(exc):
            raise labels.taken(label) from exc
        raise _key_taken(definition.key) from exc
    await audit.record(
        session,
        principal,
        "attribute.created",
        target_type="attribute",
        target_id=definition.key,
        after=snapshot(_read(definition, [], shown=False)),
    )
    return _read(definition, [])


def _key_taken(key: str) -> Conflict:
    return Conflict(
        _("The key “%(key)s” is already used by another attribute.", key=key),
        code="attribute_key_taken",
        errors=[
            field_error(
                "key",
                _("Another attribute already has the key “%(key)s”. Choose another key.", key=key),
                "duplicate",
            )
        ],
    )


async def delete_attribute(session: AsyncSession, principal: Principal, key: str) -> None:
    """An admin deletes a custom attribute with its values (the audit log keeps the deletion)."""
    principal.require_admin()
    definition = await access_attribute_by_key(session, principal, key)
    if definition.kind != AttributeKind.CUSTOM:
        raise Conflict(
            _("Only custom attributes can be deleted; “%(key)s” is built in.", key=key),
            code="attribute_not_deletable",
        )
    await workspaces.config_changed(session, principal.workspace_id)
    before = snapshot(await read_attribute(session, principal, definition, shown=False))
    removed = await repository.delete_definition(session, principal.workspace_id, definition.id)
    session.expunge(definition)
    await audit.record(
        session,
        principal,
        "attribute.deleted",
        target_type="attribute",
        target_id=key,
        before={**before, "values_deleted": removed},
    )


async def reorder_attributes(
    session: AsyncSession, principal: Principal, data: AttributeOrder
) -> list[AttributeRead]:
    """An admin sets the order of every attribute; the list must name each key once."""
    principal.require_admin()
    await workspaces.config_changed(session, principal.workspace_id)
    # Locked so the list checked against `keys` is the one the new positions apply to.
    await repository.lock_order(session, principal.workspace_id)
    definitions = await repository.list_definitions(session, principal.workspace_id)
    by_key = {d.key: d for d in definitions}
    errors = [
        field_error("keys", _("List every attribute: “%(key)s” is missing.", key=k), "missing")
        for k in by_key
        if k not in data.keys
    ]
    seen: set[str] = set()
    for i, key in enumerate(data.keys):
        if key not in by_key:
            message = _("There is no attribute “%(key)s”.", key=key)
            errors.append(field_error(f"keys.{i}", message, "unknown"))
        elif key in seen:
            message = _("“%(key)s” is listed twice.", key=key)
            errors.append(field_error(f"keys.{i}", message, "duplicate"))
        seen.add(key)
    if errors:
        raise problem(errors, code="attribute_order_invalid")
    before = [d.key for d in definitions]
    await repository.set_positions(
        session, principal.workspace_id, [by_key[k].id for k in data.keys]
    )
    for position, key in enumerate(data.keys):
        by_key[key].position = position  # keep the loaded rows in step with the UPDATE
    await audit.record(
        session,
        principal,
        "attribute.reordered",
        target_type="attribute_order",
        target_id=None,
        before={"keys": before},
        after={"keys": list(data.keys)},
    )
    return await list_attributes(session, principal)


# The domain's public face for the domains above it: they import this module, its schemas and
# its events, never attributes' repository or internal modules (.importlinter, DESIGN).
# Definitions and values, read in the caller's transaction.
# The workspace's definitions and mappings, kept in memory per configuration version.
configuration = config.current
AttributesConfig = config.AttributesConfig
get_definition = repository.get_definition
get_definition_by_id = repository.get_definition_by_id
definitions_by_key = repository.definitions_by_key
list_definitions = repository.list_definitions
current_values = repository.current_values
values_by_contact = repository.values_by_contact
history_page = repository.history_page
contact_tab_rows = repository.contact_tab_rows
# Locks the contact's row before a read-decide-write of its values (concurrency).
lock_contact = repository.lock_contact
# Value formats (attributes/formats.py): matching and comparing values the way writes store them.
fold = formats.fold
normalize = formats.normalize
as_text = formats.as_text
Normalized = formats.Normalized
# Writing values: platform values from ingestion (attributes/platform.py), checked values
# from people and integrations (attributes/values.py, attributes/writes.py).
Provenance = platform.Provenance
PlatformValue = platform.PlatformValue
ensure_definitions = platform.ensure_definitions
check_sender_attributes = platform.check_sender_attributes
write_values = platform.write_values
write_mapped_values = platform.write_mapped_values
check_value = values.check
write_contact_attributes = values.write_contact_attributes
Change = writes.Change
apply_changes = writes.apply
announce = writes.announce
# Who sees which attributes (attributes/visibility.py).
Hidden = visibility.Hidden
NOTHING = visibility.NOTHING
hidden_from = visibility.hidden_from
sees_hidden = visibility.sees_hidden
# Why this caller may not write an attribute of this kind (None: it may).
refusal = values.refusal

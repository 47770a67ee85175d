"""Writing a contact's attribute values: who may write what, validation, provenance (B1).

The rule, enforced here for every caller (API, pages, bots, the CRM):
* platform attributes: only ingestion writes them (attributes/platform.py), never a caller;
* CRM-managed attributes: the CRM token; admins and agents too when the workspace's
  `agents_can_edit_crm_managed` is on (and the plan has the feature, R5.1); never bots;
* every other custom or standard attribute: admins, agents, bots and the CRM.
A write's source is the server's, from the caller, never from the body: users -> `agent`,
bot tokens -> `bot`, CRM tokens -> `crm`. A write is all-or-nothing: 403
listing every key the caller may not write, else 422 listing every bad value, else
(bots, which never overwrite or clear a set value, R13.3) 409 `value_already_set`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import formats, repository, writes
from rolodex.attributes.formats import Format, Normalized, fold
from rolodex.attributes.platform import Provenance
from rolodex.attributes.schemas import (
    VIP_KEY,
    AttributeKind,
    AttributeType,
    ContactAttributesUpdate,
    ValueSource,
)
from rolodex.auth.principals import Principal, TokenKind
from rolodex.contacts import service as contacts
from rolodex.errors import Conflict, Forbidden, InvalidInput, field_error
from rolodex.i18n import _
from rolodex.kit.clock import utcnow
from rolodex.models import AttributeDefinition
from rolodex.plans import Feature
from rolodex.workspaces import service as workspaces

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def refusal(principal: Principal, kind: str, crm_managed: bool) -> str | None:
    """Why the caller may not write values of an attribute of this kind, or None when they may."""
    if kind == AttributeKind.PLATFORM:
        return _("Platform attributes are filled by the channel; nobody can edit them.")
    if crm_managed:
        if principal.kind is TokenKind.CRM:
            return None
        # Users only while the workspace's switch is on and its plan has it (R5.1).
        if principal.is_user and principal.crm_editing:
            return None
        return _("This attribute is managed by the CRM.")
    if principal.is_user or principal.kind in (TokenKind.BOT, TokenKind.CRM):
        return None
    return _("This caller cannot write contact attributes.")


def source_of(principal: Principal) -> ValueSource:
    """The source a caller's writes are recorded with."""
    if principal.kind is TokenKind.BOT:
        return ValueSource.BOT
    if principal.kind is TokenKind.CRM:
        return ValueSource.CRM
    return ValueSource.AGENT


def _boolean(raw: Any) -> Normalized:
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        text = "true" if raw.strip().lower() in _TRUE else "false"
    else:
        raise ValueError(_("must be true or false"))
    return Normalized(text, text)


def _option(definition: AttributeDefinition, raw: Any) -> Normalized:
    text = formats.as_text(raw)
    for option in definition.options or []:
        if fold(option) == fold(text):
            return Normalized(option, fold(option))
    raise ValueError(
        _("must be one of the options: %(options)s", options=", ".join(definition.options or []))
    )


def check(definition: AttributeDefinition, raw: Any, region: str) -> Normalized | None:
    """A raw value checked against its definition; None clears (null or empty text)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if definition.type == AttributeType.BOOLEAN:
        return _boolean(raw)
    if definition.type == AttributeType.DROPDOWN:
        return _option(definition, raw)
    return formats.normalize(Format(definition.format or Format.TEXT), raw, region)


def _refuse_forbidden(principal: Principal, definitions: Mapping[str, AttributeDefinition]) -> None:
    errors = []
    for key, definition in definitions.items():
        reason = refusal(principal, definition.kind, definition.crm_managed)
        if reason:
            errors.append(field_error(f"attributes.{key}", reason, "forbidden"))
    if errors:
        keys = ", ".join(e["field"].removeprefix("attributes.") for e in errors)
        raise Forbidden(
            _("You may not write: %(keys)s.", keys=keys),
            errors=errors,
            code="attribute_write_forbidden",
        )


def _refuse_overwrites(changes: list[writes.Change], keys: Mapping[str, str]) -> None:
    # A bot never overwrites or clears a value that is set (R13.3). Over REST the whole
    # write is refused, like every other refusal here, so the bot learns which keys were
    # kept; rewriting the value already there is no change and passes.
    errors = [
        field_error(
            f"attributes.{keys[c.definition_id]}",
            _("Already has a value; a bot never overwrites one."),
            "value_already_set",
        )
        for c in changes
        if c.old is not None
    ]
    if errors:
        names = ", ".join(e["field"].removeprefix("attributes.") for e in errors)
        raise Conflict(
            _("A bot never overwrites a value that is set: %(keys)s.", keys=names),
            errors=errors,
            code="value_already_set",
        )


def _checked(
    raw: Mapping[str, Any], definitions: Mapping[str, AttributeDefinition], region: str
) -> dict[str, Normalized | None]:
    values: dict[str, Normalized | None] = {}
    errors = []
    for key, item in raw.items():
        definition = definitions.get(key)
        if definition is None:
            message = _("There is no such attribute.")
            errors.append(field_error(f"attributes.{key}", message, "unknown"))
            continue
        try:
            values[key] = check(definition, item, region)
        except ValueError as exc:
            errors.append(field_error(f"attributes.{key}", str(exc), "invalid_value"))
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(detail, errors=errors, code="invalid_attribute_values")
    return values


async def write_contact_attributes(
    session: AsyncSession,
    principal: Principal,
    contact_id: str,
    data: ContactAttributesUpdate,
    *,
    channel_id: str | None = None,
) -> None:
    """Set or clear (null) a contact's values by key, all or nothing."""
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    if VIP_KEY in data.attributes:
        principal.require_feature(Feature.VIP)
    workspace = await workspaces.get_workspace(session, principal)
    ws = principal.workspace_id
    definitions = await repository.definitions_by_key(session, ws, data.attributes)
    _refuse_forbidden(principal, definitions)
    if VIP_KEY in definitions and not definitions[VIP_KEY].enabled:
        raise Conflict(_("VIP is turned off in this workspace."), code="vip_disabled")
    values = _checked(data.attributes, definitions, workspace.default_phone_region)
    ids = {key: definitions[key].id for key in values}
    # Locked before the read, so each history row's old value is the value it replaced.
    await repository.lock_contact(session, ws, contact.id)
    current = await repository.current_rows(session, ws, contact.id, ids.values())
    changes = []
    for key, new in values.items():
        row = current.get(ids[key])
        old = row.value if row is not None else None
        if old != (new.value if new else None):
            changes.append(writes.Change(contact.id, ids[key], old, new))
    if principal.kind is TokenKind.BOT:
        _refuse_overwrites(changes, {ids[key]: key for key in values})
    source = source_of(principal)
    provenance = Provenance(
        source.value, principal.actor_kind, principal.actor_id, channel_id, utcnow()
    )
    await writes.apply(session, ws, changes, provenance)
    vip_changed = VIP_KEY in values and any(c.definition_id == ids[VIP_KEY] for c in changes)
    await writes.announce(
        session,
        ws,
        contact.id,
        changes,
        provenance,
        keys={definition_id: key for key, definition_id in ids.items()},
        vip_changed=vip_changed,
    )

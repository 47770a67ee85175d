"""Changing an attribute definition: rename, options, toggles, format, CRM flags, vip on/off."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import labels, options, repository
from rolodex.attributes.events import VipToggled
from rolodex.attributes.formats import Format
from rolodex.attributes.schemas import (
    VIP_KEY,
    AttributeKind,
    AttributeRead,
    AttributeType,
    AttributeUpdate,
)
from rolodex.attributes.service import (
    RENORMALIZE_JOB,
    access_attribute_by_key,
    problem,
    read_attribute,
    snapshot,
)
from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.catalogue import label_of
from rolodex.errors import InvalidInput, field_error
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit.events import emit
from rolodex.models import AttributeDefinition
from rolodex.plans import Feature
from rolodex.workspaces import service as workspaces


async def update_attribute(
    session: AsyncSession,
    principal: Principal,
    key: str,
    data: AttributeUpdate,
    *,
    force: bool = False,
) -> AttributeRead:
    """An admin renames, toggles or re-options an attribute, or changes its format.

    A new label must be free in the workspace (attributes/labels.py): 409 `label_taken`.
    """
    principal.require_admin()
    definition = await access_attribute_by_key(session, principal, key)
    # Stored labels: the audit log keeps them, not the reader's translation.
    before = await read_attribute(session, principal, definition, shown=False)
    fields = data.model_fields_set
    _check_update(principal, definition, data, fields)
    await workspaces.config_changed(session, principal.workspace_id)
    label = await _new_label(session, principal, definition, data, fields)
    if ("crm_managed" in fields and data.crm_managed) or ("lookup" in fields and data.lookup):
        principal.require_feature(Feature.CRM_INTEGRATION)
    cleared = 0
    if data.options is not None:
        cleared = await options.change_options(
            session, principal, definition, data.options, force=force
        )
    if data.disabled_channel_ids is not None:
        await _set_disabled_channels(session, principal, definition, data.disabled_channel_ids)
    format_changed = data.format is not None and data.format.value != definition.format
    if label is not None:
        definition.label = label
    for name in ("enabled", "crm_managed", "lookup", "format"):
        value = getattr(data, name)
        if name in fields and value is not None:
            setattr(definition, name, value.value if isinstance(value, Format) else value)
    try:
        await session.flush()
    except IntegrityError as exc:  # the label index: a rename raced another (never, locked)
        if label is not None and labels.is_label_conflict(exc):
            raise labels.taken(label) from exc
        raise
    if format_changed:
        await jobs.enqueue(
            session,
            RENORMALIZE_JOB,
            {"definition_id": definition.id, "format": definition.format},
            workspace_id=principal.workspace_id,
            ref=f"attribute:{definition.id}",
        )
    after = await read_attribute(session, principal, definition, shown=False)
    await _after_vip_toggle(session, principal, definition, before.enabled, after.enabled)
    if after != before:
        extra = {"values_cleared": cleared} if cleared else {}
        await audit.record(
            session,
            principal,
            "attribute.updated",
            target_type="attribute",
            target_id=definition.key,
            before=snapshot(before),
            after={**snapshot(after), **extra},
        )
    return after.model_copy(update={"label": label_of(definition.key, definition.label)})


async def _new_label(
    session: AsyncSession,
    principal: Principal,
    definition: AttributeDefinition,
    data: AttributeUpdate,
    fields: set[str],
) -> str | None:
    """The cleaned new label when it changes (checked free under the order lock), else None."""
    if "label" not in fields or data.label is None:
        return None
    label = labels.required(data.label)
    if label == definition.label:
        return None
    # Locked like a create, so a concurrent create or rename cannot take it before commit.
    await repository.lock_order(session, principal.workspace_id)
    await labels.check_free(session, principal.workspace_id, label, key=definition.key)
    return label


def _is_vip(definition: AttributeDefinition) -> bool:
    return definition.key == VIP_KEY and definition.kind == AttributeKind.STANDARD


async def _after_vip_toggle(
    session: AsyncSession,
    principal: Principal,
    definition: AttributeDefinition,
    was: bool,
    now: bool,
) -> None:
    # VIP off: priority ignores it; on again: the VIP contacts (kept) count again (routing
    # re-scores on this event).
    if _is_vip(definition) and was != now:
        await emit(session, VipToggled(workspace_id=principal.workspace_id, enabled=now))


def _check_update(
    principal: Principal, definition: AttributeDefinition, data: AttributeUpdate, fields: set[str]
) -> None:
    if _is_vip(definition):
        principal.require_feature(Feature.VIP)
    errors = []
    for name in ("label", "enabled", "crm_managed", "lookup"):
        if name in fields and getattr(data, name) is None:
            errors.append(field_error(name, _("Give a value."), "null"))
    kind = definition.kind
    if data.crm_managed and kind == AttributeKind.PLATFORM:
        raise InvalidInput.for_field(
            "crm_managed",
            _("Platform attributes can never be CRM-managed."),
            code="platform_not_crm_managed",
        )
    if data.options is not None and definition.type != AttributeType.DROPDOWN:
        errors.append(field_error("options", _("Only dropdown lists have options.")))
    if (
        data.disabled_channel_ids is not None
        and kind != AttributeKind.PLATFORM
        and (data.disabled_channel_ids)
    ):
        errors.append(
            field_error(
                "disabled_channel_ids",
                _("Only platform attributes are shown or hidden per channel."),
                "not_platform",
            )
        )
    if data.format is not None and (
        kind != AttributeKind.CUSTOM or definition.type != AttributeType.TEXT
    ):
        errors.append(
            field_error("format", _("Only custom text fields have a format that can change."))
        )
    if errors:
        raise problem(errors)


async def _set_disabled_channels(
    session: AsyncSession,
    principal: Principal,
    definition: AttributeDefinition,
    channel_ids: list[str],
) -> None:
    ids = list(dict.fromkeys(channel_ids))
    media = await repository.channel_media(session, principal.workspace_id, ids)
    errors = []
    for i, channel_id in enumerate(ids):
        if channel_id not in media:
            errors.append(
                field_error(
                    f"disabled_channel_ids.{i}", _("There is no such channel."), "unknown_channel"
                )
            )
            continue
        if media[channel_id] != definition.medium:
            errors.append(
                field_error(
                    f"disabled_channel_ids.{i}",
                    _("This attribute never shows on that channel: it is of another kind."),
                    "wrong_medium",
                )
            )
    if errors:
        raise problem(errors)
    await repository.replace_disabled_channels(
        session, principal.workspace_id, definition.id, sorted(ids)
    )

"""Contact groups: the built-in `vip` group and admin-defined ones, with kept-current members.

Members of admin-defined groups are materialised in `contact_group_members`:
* when a contact's values change (attributes/values.py, attributes/platform.py), only
  that contact's groups that read a changed attribute are re-evaluated, on its values;
* when a group is created or its rules change, its members are recomputed in batches
  of contacts that have a value of an attribute the rules read;
* a group that is turned off has no members (routing, prioritization and filters skip
  it); turned on again, its members are recomputed.
The `vip` group is not materialised: its members are the contacts whose `vip` value is
true, so turning VIP off and on again loses nobody.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, not_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.catalogue import VIP_LABEL
from rolodex.errors import Conflict, InvalidInput, NotFound, field_error
from rolodex.groups import repository, rules
from rolodex.groups.events import ContactRegrouped, GroupDeleting, GroupRulesChanged
from rolodex.groups.repository import VIP_KEY
from rolodex.groups.schemas import (
    ContactGroupCreate,
    ContactGroupRead,
    ContactGroupUpdate,
    Match,
    RuleRead,
)
from rolodex.i18n import _, translate
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.kit.slugs import slugify
from rolodex.models import ContactGroup
from rolodex.plans import Feature, has_feature
from rolodex.workspaces import service as workspaces

BATCH = 500


def _read(group: ContactGroup) -> ContactGroupRead:
    return ContactGroupRead(
        key=group.key,
        name=group.name,
        match=Match(group.match),
        rules=[RuleRead.model_validate(r) for r in group.rules],
        enabled=group.enabled,
    )


def _vip_read(enabled: bool) -> ContactGroupRead:
    return ContactGroupRead(
        key=VIP_KEY,
        name=translate(VIP_LABEL),
        match=Match.ALL,
        rules=[],
        builtin=True,
        enabled=enabled,
    )


async def vip_enabled(session: AsyncSession, workspace_id: str) -> bool:
    """Whether the workspace's `vip` attribute is on (R4.1)."""
    definition = await attributes.get_definition(session, workspace_id, VIP_KEY)
    return definition is not None and definition.enabled


async def require_vip(session: AsyncSession, principal: Principal) -> None:
    """Refuse VIP outside the plan (403 plan_required) and while it is off (409 vip_disabled)."""
    principal.require_feature(Feature.VIP)
    if not await vip_enabled(session, principal.workspace_id):
        raise Conflict(_("VIP is turned off in this workspace."), code="vip_disabled")


async def vip_contact_ids(
    session: AsyncSession, principal: Principal, contact_ids: Collection[str]
) -> set[str]:
    """Which of these contacts carry the VIP badge (none outside the plan or while VIP is off)."""
    if not has_feature(principal.plan, Feature.VIP):
        return set()
    if not await vip_enabled(session, principal.workspace_id):
        return set()
    return await repository.vip_among(session, principal.workspace_id, list(contact_ids))


async def list_groups(session: AsyncSession, principal: Principal) -> list[ContactGroupRead]:
    """The built-in `vip` group (enterprise) and the admin-defined groups, by key."""
    out = []
    if has_feature(principal.plan, Feature.VIP):
        out.append(_vip_read(await vip_enabled(session, principal.workspace_id)))
    out += [_read(g) for g in await repository.list_groups(session, principal.workspace_id)]
    return out


async def access_group_by_key(
    session: AsyncSession, principal: Principal, key: str
) -> ContactGroup:
    """An admin-defined group of the caller's workspace; 404 for missing and foreign alike."""
    group = await repository.get_group(session, principal.workspace_id, key)
    if group is None:
        raise NotFound(_("Contact group not found."))
    return group


async def get_group(session: AsyncSession, principal: Principal, key: str) -> ContactGroupRead:
    """One group; `vip` is the built-in one (enterprise)."""
    if key == VIP_KEY:
        principal.require_feature(Feature.VIP)
        return _vip_read(await vip_enabled(session, principal.workspace_id))
    return _read(await access_group_by_key(session, principal, key))


async def _checked_rules(
    session: AsyncSession, principal: Principal, data: ContactGroupCreate | ContactGroupUpdate
) -> list[dict[str, Any]]:
    assert data.rules is not None
    ws = principal.workspace_id
    region = await repository.phone_region(session, ws)
    definitions = await attributes.definitions_by_key(
        session, ws, [r.attribute for r in data.rules]
    )
    return rules.check_rules(data.rules, definitions, region)


def _builtin() -> Conflict:
    return Conflict(
        _("The VIP group is built in: its members are the contacts marked VIP."),
        code="group_builtin",
    )


async def create_group(
    session: AsyncSession, principal: Principal, data: ContactGroupCreate
) -> ContactGroupRead:
    """An admin defines a group; its members are computed at once."""
    principal.require_admin()
    if data.key == VIP_KEY:
        raise _builtin()
    ws = principal.workspace_id
    await workspaces.config_changed(session, ws)
    existing = await repository.list_groups(session, ws)
    _check_name_free(existing, data.name)
    stored = await _checked_rules(session, principal, data)
    if data.key is None:
        key = _free_key(existing, slugify(data.name, fallback="group"))
    elif data.key == VIP_KEY or any(g.key == data.key for g in existing):
        raise _key_taken(data.key)
    else:
        key = data.key
    group = ContactGroup(
        id=new_id("grp"),
        workspace_id=ws,
        key=key,
        name=data.name,
        match=data.match.value,
        rules=stored,
        enabled=data.enabled,
    )
    session.add(group)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _key_taken(key) from exc
    await recompute_members(session, group)
    read = _read(group)
    await audit.record(
        session,
        principal,
        "contact_group.created",
        target_type="contact_group",
        target_id=key,
        after=read.model_dump(mode="json"),
    )
    return read


def _key_taken(key: str) -> Conflict:
    return Conflict(
        _("The key %(key)s is already used by another group.", key=key),
        code="group_key_taken",
        errors=[field_error("key", _("Another group already uses this key."), "duplicate")],
    )


def _check_name_free(groups: list[ContactGroup], name: str, *, but: str | None = None) -> None:
    """A group's name is unique in its workspace, ignoring case (409 naming it)."""
    folded = name.casefold()
    if (
        folded == translate(VIP_LABEL).casefold()
        or folded == VIP_KEY
        or any(g.name.casefold() == folded and g.key != but for g in groups)
    ):
        message = _("Another group is already called %(name)s.", name=name)
        raise Conflict(
            message,
            code="group_name_taken",
            errors=[field_error("name", message, "duplicate")],
        )


def _free_key(groups: list[ContactGroup], base: str) -> str:
    """The key derived from a name, with a _2, _3… suffix when another group has it."""
    taken = {g.key for g in groups} | {VIP_KEY}
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base[: 80 - len(str(n)) - 1]}_{n}"
    return key


async def update_group(
    session: AsyncSession, principal: Principal, key: str, data: ContactGroupUpdate
) -> ContactGroupRead:
    """An admin renames a group, changes its rules or turns it off/on; members and scores follow.

    The same checks as creating one (rules, a unique name); an audit event when anything
    changed, and GroupRulesChanged (routing re-scores) when its members may have.
    """
    principal.require_admin()
    if key == VIP_KEY:
        raise _builtin()
    group = await access_group_by_key(session, principal, key)
    await workspaces.config_changed(session, principal.workspace_id)
    before = _read(group)
    if data.name is not None and data.name != group.name:
        _check_name_free(
            await repository.list_groups(session, principal.workspace_id), data.name, but=key
        )
        group.name = data.name
    if data.match is not None:
        group.match = data.match.value
    if data.rules is not None:
        group.rules = await _checked_rules(session, principal, data)
    if data.enabled is not None:
        group.enabled = data.enabled
    await session.flush()
    after = _read(group)
    if (after.match, after.rules, after.enabled) != (before.match, before.rules, before.enabled):
        await recompute_members(session, group)
        await emit(session, GroupRulesChanged(workspace_id=principal.workspace_id, group_key=key))
    if after != before:
        await audit.record(
            session,
            principal,
            "contact_group.updated",
            target_type="contact_group",
            target_id=key,
            before=before.model_dump(mode="json"),
            after=after.model_dump(mode="json"),
        )
    return after


async def delete_group(session: AsyncSession, principal: Principal, key: str) -> None:
    """An admin deletes a group that routing does not use (409 group_in_use otherwise)."""
    principal.require_admin()
    if key == VIP_KEY:
        raise _builtin()
    group = await access_group_by_key(session, principal, key)
    await workspaces.config_changed(session, principal.workspace_id)
    # Routing refuses (409 group_in_use) while its settings name the group.
    await emit(
        session,
        GroupDeleting(
            workspace_id=principal.workspace_id, group_key=group.key, group_name=group.name
        ),
    )
    before = _read(group).model_dump(mode="json")
    await session.delete(group)
    await session.flush()
    await audit.record(
        session,
        principal,
        "contact_group.deleted",
        target_type="contact_group",
        target_id=key,
        before=before,
    )


async def recompute_members(session: AsyncSession, group: ContactGroup) -> None:
    """Recompute a group's members, in batches of the contacts that have a value it reads.

    A group that is off has none.
    """
    ws = group.workspace_id
    await repository.clear_members(session, ws, group.id)
    if not group.enabled:
        return
    definition_ids = sorted(rules.definition_ids(group.rules))
    after = ""
    while True:
        batch = await repository.candidate_batch(
            session, ws, definition_ids, after=after, limit=BATCH
        )
        if not batch:
            return
        values = await repository.values_of(session, ws, batch, definition_ids)
        await repository.add_members(
            session,
            [
                {"workspace_id": ws, "group_id": group.id, "contact_id": c}
                for c in batch
                if rules.group_matches(group.match, group.rules, values[c])
            ],
        )
        after = batch[-1]


@dataclass(frozen=True)
class Group:
    """An enabled admin-defined group, as the write paths evaluate it."""

    id: str
    key: str
    match: str
    rules: tuple[Mapping[str, Any], ...]
    reads: frozenset[str]  # the definitions its rules read


@dataclass(frozen=True)
class GroupsConfig:
    """A workspace's enabled groups and its VIP gate, as of one configuration version."""

    workspace_id: str
    enabled: tuple[Group, ...]
    # The `vip` definition while VIP is on and in the plan; None: nobody counts as VIP.
    vip_definition_id: str | None


async def _load(session: AsyncSession, workspace_id: str) -> GroupsConfig:
    enabled = tuple(
        Group(g.id, g.key, g.match, tuple(g.rules), frozenset(rules.definition_ids(g.rules)))
        for g in await repository.list_groups(session, workspace_id)
        if g.enabled
    )
    vip = (await attributes.configuration(session, workspace_id)).vip
    plan = await workspaces.plan_of(session, workspace_id)
    gate = vip is not None and vip.enabled and has_feature(plan, Feature.VIP)
    return GroupsConfig(workspace_id, enabled, vip.id if gate and vip is not None else None)


async def configuration(session: AsyncSession, workspace_id: str) -> GroupsConfig:
    """The workspace's groups configuration as this transaction sees it (kept per version)."""
    return await workspaces.cached_config(session, workspace_id, _load)


def condition(
    config: GroupsConfig, key: str, group_id: str | None, contact_id: Any
) -> ColumnElement[bool] | None:
    """Whether the contact (a column or value) is in the group (by key for `vip`, else by id),
    as SQL; None when no contact can be (a group turned off or gone, VIP off or outside the
    plan)."""
    if key == VIP_KEY:
        if config.vip_definition_id is None:
            return None
        return repository.has_true_value(config.vip_definition_id, contact_id)
    if group_id is None or all(g.id != group_id for g in config.enabled):
        return None
    return repository.member_condition(config.workspace_id, group_id, contact_id)


async def contact_values_changed(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    definition_ids: Collection[str],
    *,
    vip_changed: bool = False,
    values: Mapping[str, str] | None = None,
) -> None:
    """Keep one contact's groups current after its values changed; re-score and re-route it.

    `values`: all of a contact the write just made (it has no memberships yet), so nothing is
    read. No statement when no group reads a changed attribute (and VIP did not change).
    """
    changed = set(definition_ids)
    config = await configuration(session, workspace_id)
    groups = [g for g in config.enabled if g.reads & changed]
    moved = False
    if groups:
        moved = await _reevaluate(session, workspace_id, contact_id, groups, values)
    if moved or vip_changed:
        await emit(
            session,
            ContactRegrouped(
                workspace_id=workspace_id,
                contact_id=contact_id,
                vip_changed=vip_changed,
                new_contact=values is not None,
            ),
        )


async def _reevaluate(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    groups: list[Group],
    known: Mapping[str, str] | None,
) -> bool:
    values: Mapping[str, str]
    if known is None:
        read = sorted(set().union(*(g.reads for g in groups)))
        values = (await repository.values_of(session, workspace_id, [contact_id], read))[contact_id]
        ids = [g.id for g in groups]
        current = await repository.member_group_ids(session, workspace_id, contact_id, ids)
    else:
        values, current = known, set()
    should = {g.id for g in groups if rules.group_matches(g.match, g.rules, values)}
    await repository.remove_members(session, workspace_id, contact_id, sorted(current - should))
    await repository.add_members(
        session,
        [
            {"workspace_id": workspace_id, "group_id": g, "contact_id": contact_id}
            for g in sorted(should - current)
        ],
    )
    return should != current


async def contact_filters(
    session: AsyncSession,
    principal: Principal,
    contact_id: Any,
    *,
    group: str | None,
    vip: bool | None,
) -> list[ColumnElement[bool]]:
    """Conditions narrowing a list to a group's contacts and/or VIP (or non-VIP) ones."""
    ws = principal.workspace_id
    out: list[ColumnElement[bool]] = []
    if vip is not None or group == VIP_KEY:
        await require_vip(session, principal)
        is_vip = repository.vip_condition(ws, contact_id, gated=False)
        out.append(is_vip if vip is not False else not_(is_vip))
        if group == VIP_KEY and vip is False:
            out.append(is_vip)
    if group is not None and group != VIP_KEY:
        found = await repository.get_group(session, ws, group)
        if found is None:
            raise InvalidInput.for_field("query.group", _("No such contact group."))
        out.append(repository.member_condition(ws, found.id, contact_id))
    return out


# The domain's public face for the domains above it (routing, exports): they import this
# module, its schemas and its events, never groups' repository (.importlinter, DESIGN).
# Conditions for a query's WHERE: the contact (a column or value) is VIP / a group's member.
vip_condition = repository.vip_condition
member_condition = repository.member_condition
# Rows read in the caller's transaction, by workspace id (no principal, no plan check).
group_by_key = repository.get_group
groups_by_key = repository.groups_by_key
memberships = repository.memberships

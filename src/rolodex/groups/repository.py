"""Contact group rows and members, always scoped by workspace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.db import insert_for, one_of, prepared
from rolodex.models import (
    AttributeDefinition,
    AttributeValue,
    ContactGroup,
    ContactGroupMember,
    Workspace,
)
from rolodex.plans import FEATURE_PLANS, Feature

VIP_KEY = "vip"
_members = cast(Table, ContactGroupMember.__table__)


async def phone_region(session: AsyncSession, workspace_id: str) -> str:
    """The workspace's default phone region (rule values of phone attributes)."""
    stmt = select(Workspace.default_phone_region).where(Workspace.id == workspace_id)
    return str((await session.execute(stmt)).scalar_one())


async def list_groups(session: AsyncSession, workspace_id: str) -> list[ContactGroup]:
    """The workspace's admin-defined groups, by key."""
    stmt = (
        select(ContactGroup)
        .where(ContactGroup.workspace_id == workspace_id)
        .order_by(ContactGroup.key)
    )
    return list((await session.execute(stmt)).scalars())


async def get_group(session: AsyncSession, workspace_id: str, key: str) -> ContactGroup | None:
    """One group of the workspace by key."""
    stmt = select(ContactGroup).where(
        ContactGroup.workspace_id == workspace_id, ContactGroup.key == key
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def groups_by_key(
    session: AsyncSession, workspace_id: str, keys: Iterable[str]
) -> dict[str, ContactGroup]:
    """Groups of the workspace by key, of the keys that exist."""
    stmt = select(ContactGroup).where(
        ContactGroup.workspace_id == workspace_id, ContactGroup.key.in_(list(keys))
    )
    return {g.key: g for g in (await session.execute(stmt)).scalars()}


def member_condition(workspace_id: str, group_id: str, contact_id: Any) -> ColumnElement[bool]:
    """Whether the contact (a column or value) is a member of the group."""
    return exists().where(
        ContactGroupMember.group_id == group_id,
        ContactGroupMember.contact_id == contact_id,
        ContactGroupMember.workspace_id == workspace_id,
    )


def has_true_value(definition_id: str, contact_id: Any) -> ColumnElement[bool]:
    """Whether the contact's value of a (boolean) definition is true: one primary-key probe,
    (contact, definition), with no join (the caller knows the definition's id).

    No workspace condition: the definition is the workspace's own, so the probe cannot leave
    it, and a `workspace_id` term would let a planner with stale statistics scan the
    workspace's values (ix_attribute_values_lookup) instead of probing the key.
    """
    return exists().where(
        AttributeValue.contact_id == contact_id,
        AttributeValue.definition_id == definition_id,
        AttributeValue.value == "true",
    )


def vip_condition(workspace_id: str, contact_id: Any, *, gated: bool) -> ColumnElement[bool]:
    """Whether the contact's `vip` value is true; gated: only while VIP is on and in the plan."""
    conditions = [
        AttributeValue.contact_id == contact_id,
        AttributeValue.workspace_id == workspace_id,
        AttributeValue.value == "true",
        AttributeDefinition.id == AttributeValue.definition_id,
        AttributeDefinition.workspace_id == workspace_id,
        AttributeDefinition.key == VIP_KEY,
    ]
    if gated:
        plans = [p.value for p in FEATURE_PLANS[Feature.VIP]]
        in_plan = exists().where(Workspace.id == workspace_id, Workspace.plan.in_(plans))
        conditions += [AttributeDefinition.enabled.is_(True), in_plan]
    return exists().where(and_(*conditions))


async def vip_among(
    session: AsyncSession, workspace_id: str, contact_ids: Sequence[str]
) -> set[str]:
    """Which of these contacts are VIP (one index probe each, one statement)."""
    if not contact_ids:
        return set()
    params = {"workspace_id": workspace_id, "ids": list(contact_ids)}
    rows = await (await session.connection()).execute(_VIP_AMONG(session), params)
    return {str(contact_id) for (contact_id,) in rows}


# Built once: every conversation list page runs it. Primary-key probes (contact, vip): no
# workspace term for a planner to walk instead.
_VIP_AMONG = prepared(
    lambda dialect: select(AttributeValue.contact_id).where(
        one_of(AttributeValue.contact_id, "ids", dialect),
        AttributeValue.value == "true",
        AttributeValue.definition_id
        == select(AttributeDefinition.id)
        .where(
            AttributeDefinition.workspace_id == bindparam("workspace_id"),
            AttributeDefinition.key == VIP_KEY,
        )
        .scalar_subquery(),
    )
)


async def member_group_ids(
    session: AsyncSession, workspace_id: str, contact_id: str, group_ids: Sequence[str]
) -> set[str]:
    """Which of these groups the contact is a member of."""
    stmt = select(ContactGroupMember.group_id).where(
        ContactGroupMember.workspace_id == workspace_id,
        ContactGroupMember.contact_id == contact_id,
        ContactGroupMember.group_id.in_(list(group_ids)),
    )
    return set((await session.execute(stmt)).scalars())


async def add_members(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert member rows; a row a concurrent write already added is left alone."""
    if rows:
        await (await session.connection()).execute(_add_members(session), list(rows))


@prepared
def _add_members(dialect: str) -> Any:
    return insert_for(dialect, _members).on_conflict_do_nothing(
        index_elements=["group_id", "contact_id"]
    )


async def remove_members(
    session: AsyncSession, workspace_id: str, contact_id: str, group_ids: Sequence[str]
) -> None:
    """Take a contact out of these groups."""
    if group_ids:
        await session.execute(
            delete(_members).where(
                _members.c.workspace_id == workspace_id,
                _members.c.contact_id == contact_id,
                _members.c.group_id.in_(list(group_ids)),
            )
        )


async def clear_members(session: AsyncSession, workspace_id: str, group_id: str) -> None:
    """Empty a group (before its members are recomputed)."""
    await session.execute(
        delete(_members).where(
            _members.c.workspace_id == workspace_id, _members.c.group_id == group_id
        )
    )


async def candidate_batch(
    session: AsyncSession,
    workspace_id: str,
    definition_ids: Sequence[str],
    *,
    after: str,
    limit: int,
) -> list[str]:
    """Contacts (by id, ascending after `after`) with a value of any of these definitions."""
    stmt = (
        select(AttributeValue.contact_id)
        .where(
            AttributeValue.workspace_id == workspace_id,
            AttributeValue.definition_id.in_(list(definition_ids)),
            AttributeValue.value.is_not(None),
            AttributeValue.contact_id > after,
        )
        .distinct()
        .order_by(AttributeValue.contact_id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def values_of(
    session: AsyncSession,
    workspace_id: str,
    contact_ids: Sequence[str],
    definition_ids: Sequence[str],
) -> dict[str, dict[str, str]]:
    """The contacts' non-null values of these definitions: {contact: {definition: value}}.

    Primary-key probes (contact, definition) only: the contacts and definitions are the
    workspace's own, and a workspace condition would let SQLite (or PostgreSQL with stale
    statistics) walk every contact's values of the definitions instead.
    """
    out: dict[str, dict[str, str]] = {c: {} for c in contact_ids}
    stmt = select(
        AttributeValue.contact_id, AttributeValue.definition_id, AttributeValue.value
    ).where(
        AttributeValue.contact_id.in_(list(contact_ids)),
        AttributeValue.definition_id.in_(list(definition_ids)),
        AttributeValue.value.is_not(None),
    )
    for contact_id, definition_id, value in (await session.execute(stmt)).all():
        out[contact_id][definition_id] = str(value)
    return out


async def memberships(
    session: AsyncSession, workspace_id: str, contact_ids: Sequence[str]
) -> dict[str, set[str]]:
    """The group ids of each of these contacts, plus `vip` for the VIP ones (VIP gated)."""
    out: dict[str, set[str]] = {c: set() for c in contact_ids}
    if not contact_ids:
        return out
    params = {
        "workspace_id": workspace_id,
        "ids": list(contact_ids),
        "plans": [p.value for p in FEATURE_PLANS[Feature.VIP]],
    }
    # On the session's connection: Core rows, without the ORM's per-statement work.
    connection = await session.connection()
    for contact_id, group_id in await connection.execute(_MEMBERSHIPS(session), params):
        out[contact_id].add(group_id)
    return out


# Built once with bound parameters: every page of the queue and of conversations runs it.
# Group memberships, then VIP as the group `vip`: primary-key probes (contact, the gated
# `vip` definition, found once).
_MEMBERSHIPS = prepared(
    lambda dialect: union_all(
        select(ContactGroupMember.contact_id, ContactGroupMember.group_id).where(
            ContactGroupMember.workspace_id == bindparam("workspace_id"),
            one_of(ContactGroupMember.contact_id, "ids", dialect),
        ),
        select(AttributeValue.contact_id, literal(VIP_KEY)).where(
            one_of(AttributeValue.contact_id, "ids", dialect),
            AttributeValue.definition_id
            == (
                select(AttributeDefinition.id)
                .where(
                    AttributeDefinition.workspace_id == bindparam("workspace_id"),
                    AttributeDefinition.key == VIP_KEY,
                    AttributeDefinition.enabled.is_(True),
                    exists().where(
                        Workspace.id == bindparam("workspace_id"),
                        Workspace.plan.in_(bindparam("plans", expanding=True)),
                    ),
                )
                .scalar_subquery()
            ),
            AttributeValue.value == "true",
        ),
    )
)

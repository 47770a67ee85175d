"""The attribute configuration a workspace's writes read, kept in memory per configuration version.

Definitions (their ids, kinds, formats, toggles, lookup flags) and the admin's platform-to-
custom mappings (set in linking, read here where the values are written). Loaded in two
statements on the first use of a version (workspaces/config.py); every change of them
(create, update, delete, reorder, mappings) bumps the version first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import repository
from rolodex.attributes.schemas import VIP_KEY
from rolodex.workspaces import service as workspaces


@dataclass(frozen=True)
class Definition:
    """What the write paths need to know of one attribute definition."""

    id: str
    key: str
    kind: str
    format: str | None
    medium: str | None
    enabled: bool
    lookup: bool


@dataclass(frozen=True)
class AttributesConfig:
    """A workspace's attribute definitions by key and its mappings, as of one version."""

    by_key: Mapping[str, Definition]
    # (from platform definition id, to custom definition id), in the admin's order.
    mappings: tuple[tuple[str, str], ...]

    @cached_property
    def lookup_ids(self) -> frozenset[str]:
        """The definitions whose values the CRM is asked about (lookup attributes)."""
        return frozenset(d.id for d in self.by_key.values() if d.lookup)

    @cached_property
    def mapped_from(self) -> frozenset[str]:
        """The platform definitions some mapping reads."""
        return frozenset(f for f, _ in self.mappings)

    @property
    def vip(self) -> Definition | None:
        """The standard `vip` definition, if the workspace has it."""
        return self.by_key.get(VIP_KEY)


async def _load(session: AsyncSession, workspace_id: str) -> AttributesConfig:
    rows = await repository.definition_facts(session, workspace_id)
    by_key = {row[1]: Definition(*row) for row in rows}
    mappings = await repository.mapping_pairs(session, workspace_id)
    return AttributesConfig(by_key, tuple(mappings))


async def current(session: AsyncSession, workspace_id: str) -> AttributesConfig:
    """The workspace's attribute configuration as this transaction sees it."""
    return await workspaces.cached_config(session, workspace_id, _load)

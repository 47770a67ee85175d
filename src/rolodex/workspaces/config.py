"""Per-workspace configuration kept in memory, keyed by the workspace's configuration version.

Attribute definitions, mappings, groups and their rules, routing settings, the CRM
integration and the plan are read on nearly every write and change rarely. Every change of
them bumps `workspaces.config_version` in the changing transaction (`bump`, called before the
change is made). A transaction reads the version once (one primary-key read, or `note` where
a read it already does carries it) and reuses what this process loaded for that version;
each domain loads its own configuration (`cached(session, workspace_id, loader)`).

Why this is never stale, across processes too:
* a version is read before the configuration it labels, so what is kept under version V
  reflects V or a later change, never an earlier one;
* a transaction that bumped the version reads its own uncommitted configuration afresh
  every time and keeps none of it (it may still roll back);
* within one transaction the version is read once: the configuration it sees does not
  change under it (as with a snapshot), and the next transaction sees the change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from rolodex.models import Workspace

T = TypeVar("T")
Loader = Callable[[AsyncSession, str], Awaitable[T]]

_VERSIONS = "rolodex.config.versions"  # {workspace id: version} read in this transaction
_BUMPED = "rolodex.config.bumped"  # workspaces whose configuration this transaction changed
_MAX_WORKSPACES = 10_000


@dataclass
class _Entry:
    version: int
    values: dict[object, Any] = field(default_factory=dict)


_cache: dict[str, _Entry] = {}

_workspaces = cast(Table, Workspace.__table__)
# Core statements, built once: the version is read on every inbound message.
_VERSION = select(_workspaces.c.config_version).where(_workspaces.c.id == bindparam("workspace_id"))
_BUMP = (
    update(_workspaces)
    .where(_workspaces.c.id == bindparam("workspace_id"))
    .values(config_version=_workspaces.c.config_version + 1)
)


def _info(session: AsyncSession) -> dict[str, Any]:
    return session.sync_session.info


async def bump(session: AsyncSession, workspace_id: str) -> None:
    """The workspace's configuration changes in this transaction: every process reloads it.

    Call it before making the change: from here on this transaction reads the configuration
    from the database (its own changes included) and keeps none of it in memory.
    """
    info = _info(session)
    bumped: set[str] = info.setdefault(_BUMPED, set())
    if workspace_id in bumped:
        return
    bumped.add(workspace_id)
    info.get(_VERSIONS, {}).pop(workspace_id, None)
    # The row lock this takes (PostgreSQL) serialises concurrent changes of one workspace's
    # configuration; FOR KEY SHARE of inserts that reference the workspace is not blocked.
    await (await session.connection()).execute(_BUMP, {"workspace_id": workspace_id})


def note(session: AsyncSession, workspace_id: str, version: int) -> None:
    """Record the version a read of this transaction carried (saves the version's own read)."""
    info = _info(session)
    if workspace_id not in info.get(_BUMPED, ()):
        info.setdefault(_VERSIONS, {}).setdefault(workspace_id, version)


def known(session: AsyncSession, workspace_id: str) -> bool:
    """Whether this transaction already knows the version: `cached` then costs no read."""
    return workspace_id in _info(session).get(_VERSIONS, {})


async def version(session: AsyncSession, workspace_id: str) -> int | None:
    """The workspace's configuration version as this transaction sees it (read once)."""
    versions: dict[str, int] = _info(session).setdefault(_VERSIONS, {})
    found = versions.get(workspace_id)
    if found is None:
        params = {"workspace_id": workspace_id}
        found = (await (await session.connection()).execute(_VERSION, params)).scalar_one_or_none()
        if found is not None:
            versions[workspace_id] = found
    return found


async def cached(session: AsyncSession, workspace_id: str, loader: Loader[T]) -> T:
    """What `loader` reads of the workspace's configuration, loaded once per version."""
    if workspace_id in _info(session).get(_BUMPED, ()):
        return await loader(session, workspace_id)
    current = await version(session, workspace_id)
    if current is None:  # no such workspace: nothing worth keeping
        return await loader(session, workspace_id)
    entry = _cache.get(workspace_id)
    if entry is None or entry.version != current:
        if len(_cache) >= _MAX_WORKSPACES:
            _cache.clear()
        entry = _cache[workspace_id] = _Entry(current)
    if loader in entry.values:
        return cast(T, entry.values[loader])
    value = await loader(session, workspace_id)
    entry.values[loader] = value
    return value


def forget_all() -> None:
    """Drop everything kept (tests; a process that restored its database under itself)."""
    _cache.clear()


@sa_event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # The next transaction reads the version again (a savepoint's end keeps it).
    if transaction.parent is None:
        session.info.pop(_VERSIONS, None)
        session.info.pop(_BUMPED, None)

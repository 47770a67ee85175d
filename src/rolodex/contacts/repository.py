"""Contact rows, always scoped by workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.contacts import search as fulltext
from rolodex.db import insert_for, one_of, prepared
from rolodex.models import Contact, Conversation

_contacts = cast(Table, Contact.__table__)


def contacts_of(workspace_id: str) -> Select[Contact]:
    """The workspace-scoped statement every contact query starts from."""
    return select(Contact).where(Contact.workspace_id == workspace_id)


async def upsert_identity(
    session: AsyncSession,
    *,
    new_id: str,
    workspace_id: str,
    medium: str,
    scope: str,
    platform_user_id: str,
    channel_id: str,
    display_name: str,
    at: datetime,
) -> tuple[str, str]:
    """The contact of this identity, created if new: (id, display_name), in one statement.

    ON CONFLICT DO UPDATE (rather than DO NOTHING then SELECT) returns the row either
    way, and its row lock serialises concurrent messages of one contact on PostgreSQL.
    """
    params = {
        "id": new_id,
        "workspace_id": workspace_id,
        "medium": medium,
        "scope": scope,
        "platform_user_id": platform_user_id,
        "channel_id": channel_id,
        "display_name": display_name,
        "created_at": at,
        "last_seen_at": at,
    }
    # On the session's connection: Core rows, without the ORM's per-statement work.
    row = (await (await session.connection()).execute(_upsert_identity(session), params)).one()
    return str(row[0]), str(row[1])


@prepared
def _upsert_identity(dialect: str) -> Any:
    stmt = insert_for(dialect, _contacts)
    return stmt.on_conflict_do_update(
        index_elements=["workspace_id", "medium", "scope", "platform_user_id"],
        set_={"last_seen_at": stmt.excluded.last_seen_at},
    ).returning(_contacts.c.id, _contacts.c.display_name)


async def find_identity(
    session: AsyncSession, workspace_id: str, medium: str, scope: str, platform_user_id: str
) -> str | None:
    """The id of the contact of this identity, if there is one."""
    stmt = select(Contact.id).where(
        Contact.workspace_id == workspace_id,
        Contact.medium == medium,
        Contact.scope == scope,
        Contact.platform_user_id == platform_user_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_display_name(
    session: AsyncSession, workspace_id: str, contact_id: str, display_name: str
) -> None:
    """Store a contact's recomputed display name."""
    await session.execute(
        update(_contacts)
        .where(_contacts.c.workspace_id == workspace_id, _contacts.c.id == contact_id)
        .values(display_name=display_name)
    )


async def get(
    session: AsyncSession, workspace_id: str, contact_id: str, *, for_update: bool = False
) -> Contact | None:
    """One contact of the workspace; `for_update` holds its row until commit."""
    # populate_existing: a trigger may have bumped its version since it was last loaded.
    stmt = (
        contacts_of(workspace_id)
        .where(Contact.id == contact_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        # As attributes' lock_contact: FOR NO KEY UPDATE; SQLite renders no clause.
        stmt = stmt.with_for_update(key_share=True)
    return (await session.execute(stmt)).scalar_one_or_none()


def search(
    workspace_id: str, *, q: str | None, channel_id: str | None, all_values: bool = True
) -> Select[Contact]:
    """Contacts whose display name, an attribute value or a message of theirs holds every word
    of q (prefix match, indexed: see search.py), on a channel.

    Without `all_values` (agents) a hidden attribute's value matches nothing: a search must
    not reveal what the contact's page hides.
    """
    stmt = contacts_of(workspace_id)
    if q and q.strip():
        stmt = stmt.where(fulltext.contact_matches(Contact, workspace_id, q, all_values=all_values))
    if channel_id:
        # A medium-scoped contact (Twitter) may write on several of the workspace's accounts.
        on_channel = exists().where(
            Conversation.workspace_id == workspace_id,
            Conversation.contact_id == Contact.id,
            Conversation.channel_id == channel_id,
        )
        stmt = stmt.where(or_(Contact.channel_id == channel_id, on_channel))
    return stmt


async def display_names(
    session: AsyncSession, workspace_id: str, contact_ids: list[str]
) -> dict[str, str]:
    """The display names of these contacts, by id, in one query."""
    if not contact_ids:
        return {}
    params = {"workspace_id": workspace_id, "ids": contact_ids}
    # On the session's connection: Core rows, without the ORM's per-statement work.
    rows = await (await session.connection()).execute(_DISPLAY_NAMES(session), params)
    return {str(contact_id): str(name) for contact_id, name in rows}


# Built once with bound parameters: every page of conversations runs it.
_DISPLAY_NAMES = prepared(
    lambda dialect: select(Contact.id, Contact.display_name).where(
        Contact.workspace_id == bindparam("workspace_id"), one_of(Contact.id, "ids", dialect)
    )
)

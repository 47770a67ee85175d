"""Contact rows, always scoped by workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.db import insert_for, prepared
from rolodex.models import (
    AttributeChannelDisabled,
    AttributeDefinition,
    AttributeValue,
    Contact,
    Conversation,
)

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
    row = (await session.execute(_upsert_identity(session), params)).one()
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


async def get(session: AsyncSession, workspace_id: str, contact_id: str) -> Contact | None:
    """One contact of the workspace."""
    stmt = contacts_of(workspace_id).where(Contact.id == contact_id)
    return (await session.execute(stmt)).scalar_one_or_none()


def search(
    workspace_id: str, *, q: str | None, channel_id: str | None, all_values: bool = True
) -> Select[Contact]:
    """Contacts whose display name or an attribute value contains q, on a channel.

    Without `all_values` (agents) a hidden attribute's value matches nothing: a search must
    not reveal what the contact's page hides.
    """
    stmt = contacts_of(workspace_id)
    if q:
        pattern = f"%{_escape_like(q.strip().casefold())}%"
        matches_value = exists().where(
            AttributeValue.workspace_id == workspace_id,
            AttributeValue.contact_id == Contact.id,
            AttributeValue.normalized.like(pattern, escape="\\"),
        )
        if not all_values:
            matches_value = matches_value.where(
                exists().where(
                    AttributeDefinition.workspace_id == workspace_id,
                    AttributeDefinition.id == AttributeValue.definition_id,
                    AttributeDefinition.enabled.is_(True),
                ),
                ~exists().where(
                    AttributeChannelDisabled.workspace_id == workspace_id,
                    AttributeChannelDisabled.definition_id == AttributeValue.definition_id,
                    AttributeChannelDisabled.channel_id == Contact.channel_id,
                ),
            )
        stmt = stmt.where(or_(Contact.display_name.ilike(pattern, escape="\\"), matches_value))
    if channel_id:
        # A medium-scoped contact (Twitter) may write on several of the workspace's accounts.
        on_channel = exists().where(
            Conversation.workspace_id == workspace_id,
            Conversation.contact_id == Contact.id,
            Conversation.channel_id == channel_id,
        )
        stmt = stmt.where(or_(Contact.channel_id == channel_id, on_channel))
    return stmt


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def display_names(
    session: AsyncSession, workspace_id: str, contact_ids: list[str]
) -> dict[str, str]:
    """The display names of these contacts, by id, in one query."""
    if not contact_ids:
        return {}
    stmt = select(Contact.id, Contact.display_name).where(
        Contact.workspace_id == workspace_id, Contact.id.in_(contact_ids)
    )
    return dict((await session.execute(stmt)).all())

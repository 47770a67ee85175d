"""CRM rows, always scoped by workspace: the integration, contacts' CRM state, the facts a
look-up or a write-back sends, and the write-back deliveries (jobs of one kind).

The write-back reads conversations, messages, channels and users straight from their
tables: it runs inside the status change of conversations.service, which calls it, so
going through that service would be a circular import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.db import dialect_insert
from rolodex.models import (
    AttributeDefinition,
    AttributeValue,
    Channel,
    Contact,
    Conversation,
    ConversationLabel,
    CrmContactState,
    CrmIntegration,
    Job,
    Label,
    Message,
    User,
    Workspace,
)

WRITE_BACK_JOB = "crm.write_back"
LOOKUP_JOB = "crm.lookup"
NOTIFY_JOB = "crm.notify"

_states = cast(Table, CrmContactState.__table__)


async def get_integration(session: AsyncSession, workspace_id: str) -> CrmIntegration | None:
    """The workspace's CRM integration, if connected."""
    return await session.get(CrmIntegration, workspace_id)


async def workspace(session: AsyncSession, workspace_id: str) -> Workspace | None:
    """The workspace row (its plan and phone region)."""
    return await session.get(Workspace, workspace_id)


async def integration_facts(session: AsyncSession, workspace_id: str) -> tuple[bool, bool]:
    """Whether the workspace has an integration, and whether it has a write-back URL."""
    stmt = select(CrmIntegration.write_back_url.is_not(None)).where(
        CrmIntegration.workspace_id == workspace_id
    )
    found = (await session.execute(stmt)).first()
    return (False, False) if found is None else (True, bool(found[0]))


async def has_lookup_values(
    session: AsyncSession, contact_id: str, definition_ids: Sequence[str]
) -> bool:
    """Whether the contact has a value of one of these (lookup) definitions of its workspace.

    Starts from the contact's key: a probe of the values' primary key (contact, definition)
    per definition, whatever the statistics say about the workspace's values. No workspace
    condition: contact and definitions are the workspace's own, and such a term would let a
    planner with stale statistics scan the workspace's values instead (issue 22).
    """
    params = {"contact_id": contact_id, "ids": list(definition_ids)}
    found = await (await session.connection()).execute(_HAS_LOOKUP_VALUES, params)
    return found.first() is not None


# Built once: it runs for every new conversation of a connected workspace.
_HAS_LOOKUP_VALUES = (
    select(AttributeValue.definition_id)
    .where(
        AttributeValue.contact_id == bindparam("contact_id"),
        AttributeValue.definition_id.in_(bindparam("ids", expanding=True)),
        AttributeValue.value.is_not(None),
    )
    .limit(1)
)


async def lookup_values(
    session: AsyncSession, workspace_id: str, contact_id: str
) -> dict[str, str]:
    """The contact's set values of lookup attributes, {key: value}: a look-up's body."""
    stmt = (
        select(AttributeDefinition.key, AttributeValue.value)
        .join(AttributeValue, AttributeValue.definition_id == AttributeDefinition.id)
        .where(
            AttributeDefinition.workspace_id == workspace_id,
            AttributeDefinition.lookup.is_(True),
            AttributeValue.workspace_id == workspace_id,
            AttributeValue.contact_id == contact_id,
            AttributeValue.value.is_not(None),
        )
        .order_by(AttributeDefinition.position, AttributeDefinition.key)
    )
    return {k: v for k, v in await session.execute(stmt) if v is not None}


async def get_state(
    session: AsyncSession, workspace_id: str, contact_id: str
) -> CrmContactState | None:
    """A contact's CRM state, if it ever had a look-up."""
    stmt = select(CrmContactState).where(
        CrmContactState.workspace_id == workspace_id, CrmContactState.contact_id == contact_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def tab_state(session: AsyncSession, workspace_id: str, contact_id: str) -> Row[Any]:
    """Whether the workspace is connected, and the contact's CRM state, in one statement."""
    params = {"workspace_id": workspace_id, "contact_id": contact_id}
    # On the session's connection: Core rows, without the ORM's per-statement work.
    return (await (await session.connection()).execute(_TAB_STATE, params)).one()


# Built once with bound parameters: every Contact tab of an enterprise workspace runs it.
_TAB_STATE = (
    select(
        CrmIntegration.workspace_id.label("connected"),
        CrmContactState.validated,
        CrmContactState.last_lookup_at,
        CrmContactState.last_outcome,
        CrmContactState.last_error,
        CrmContactState.pending,
    )
    .select_from(Workspace)
    .outerjoin(CrmIntegration, CrmIntegration.workspace_id == Workspace.id)
    .outerjoin(
        CrmContactState,
        and_(
            CrmContactState.workspace_id == Workspace.id,
            CrmContactState.contact_id == bindparam("contact_id"),
        ),
    )
    .where(Workspace.id == bindparam("workspace_id"))
)


async def put_state(session: AsyncSession, values: dict[str, Any]) -> None:
    """Create or change a contact's CRM state (only the columns given change)."""
    stmt = dialect_insert(session, CrmContactState).values(**values)
    changed = {k: stmt.excluded[k] for k in values if k not in ("contact_id", "workspace_id")}
    await session.execute(stmt.on_conflict_do_update(index_elements=["contact_id"], set_=changed))


async def contact_exists(session: AsyncSession, workspace_id: str, contact_id: str) -> bool:
    """Whether the contact is (still) in the workspace."""
    stmt = select(Contact.id).where(Contact.workspace_id == workspace_id, Contact.id == contact_id)
    return (await session.execute(stmt)).first() is not None


async def write_back_facts(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> Row[Any] | None:
    """The conversation with its channel and contact, as one row."""
    stmt = (
        select(
            Conversation.id,
            Conversation.created_at,
            Conversation.assignee_id,
            Channel.id.label("channel_id"),
            Channel.name.label("channel_name"),
            Channel.medium,
            Contact.id.label("contact_id"),
            Contact.platform_user_id,
            Contact.display_name,
        )
        .join(
            Channel,
            and_(Channel.workspace_id == workspace_id, Channel.id == Conversation.channel_id),
        )
        .join(
            Contact,
            and_(Contact.workspace_id == workspace_id, Contact.id == Conversation.contact_id),
        )
        .where(Conversation.workspace_id == workspace_id, Conversation.id == conversation_id)
    )
    return cast(Row[Any] | None, (await session.execute(stmt)).first())


async def user(session: AsyncSession, workspace_id: str, user_id: str) -> User | None:
    """A user of the workspace."""
    stmt = select(User).where(User.workspace_id == workspace_id, User.id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def last_messages(
    session: AsyncSession, workspace_id: str, conversation_id: str, limit: int
) -> list[tuple[str, str, str]]:
    """(id, direction, text) of the conversation's last messages (not its notes), oldest first."""
    stmt = (
        select(Message.id, Message.direction, Message.text)
        .where(
            Message.workspace_id == workspace_id,
            Message.conversation_id == conversation_id,
            Message.internal.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    rows = [(i, d, t) for i, d, t in await session.execute(stmt)]
    return rows[::-1]


async def notes_and_topics(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> tuple[list[str], list[str]]:
    """The conversation's internal notes (oldest first) and its topics' names."""
    notes = (
        select(Message.text)
        .where(
            Message.workspace_id == workspace_id,
            Message.conversation_id == conversation_id,
            Message.internal.is_(True),
        )
        .order_by(Message.id)
    )
    topics = (
        select(Label.name)
        .join(ConversationLabel, ConversationLabel.label_id == Label.id)
        .where(
            ConversationLabel.workspace_id == workspace_id,
            ConversationLabel.conversation_id == conversation_id,
            Label.kind == "topic",
        )
        .order_by(Label.name)
    )
    return (
        [str(t) for t in (await session.execute(notes)).scalars()],
        [str(t) for t in (await session.execute(topics)).scalars()],
    )


async def contact_values(
    session: AsyncSession, workspace_id: str, contact_id: str, *, enabled_only: bool = False
) -> list[tuple[str, str, str, str]]:
    """(key, kind, value, source) of the contact's set values (of enabled attributes only),
    in the admin's order."""
    stmt = (
        select(
            AttributeDefinition.key,
            AttributeDefinition.kind,
            AttributeValue.value,
            AttributeValue.source,
        )
        .join(AttributeValue, AttributeValue.definition_id == AttributeDefinition.id)
        .where(
            AttributeDefinition.workspace_id == workspace_id,
            AttributeValue.workspace_id == workspace_id,
            AttributeValue.contact_id == contact_id,
            AttributeValue.value.is_not(None),
        )
        .order_by(AttributeDefinition.position, AttributeDefinition.key)
    )
    if enabled_only:
        stmt = stmt.where(AttributeDefinition.enabled.is_(True))
    return [(k, kind, v, s) for k, kind, v, s in await session.execute(stmt) if v is not None]


def deliveries_of(workspace_id: str) -> Any:
    """The workspace's write-back deliveries: its jobs of the write-back kind."""
    return select(Job).where(Job.workspace_id == workspace_id, Job.kind == WRITE_BACK_JOB)


async def get_delivery(session: AsyncSession, workspace_id: str, delivery_id: str) -> Job | None:
    """One write-back delivery of the workspace."""
    stmt = deliveries_of(workspace_id).where(Job.id == delivery_id)
    return cast(Job | None, (await session.execute(stmt)).scalar_one_or_none())


async def clear_pending_for(session: AsyncSession, workspace_id: str) -> None:
    """Forget every pending CRM answer of the workspace (the integration was removed)."""
    await session.execute(
        update(CrmContactState)
        .where(CrmContactState.workspace_id == workspace_id)
        .values(pending=None)
    )

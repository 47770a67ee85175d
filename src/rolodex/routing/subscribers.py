"""What routing does when conversations change: route new ones, re-score returning ones."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.events import VipToggled
from rolodex.conversations.events import ConversationStarted, ConversationStatusChanged
from rolodex.conversations.schemas import Status
from rolodex.errors import Conflict
from rolodex.groups.events import ContactRegrouped, GroupDeleting, GroupRulesChanged
from rolodex.i18n import _
from rolodex.kit.events import Registry
from rolodex.routing import service


async def conversation_started(session: AsyncSession, event: ConversationStarted) -> None:
    """Score the new conversation and route it to a team."""
    await service.route_new(session, event.workspace_id, event.conversation_id)


async def status_changed(session: AsyncSession, event: ConversationStatusChanged) -> None:
    """A conversation back from pending to new joins the queue with a fresh score."""
    if event.previous == Status.PENDING and event.current == Status.NEW:
        await service.rescore_conversation(session, event.workspace_id, event.conversation_id)


async def vip_toggled(session: AsyncSession, event: VipToggled) -> None:
    """VIP off: priority ignores it; on again: VIP contacts count again. Re-score the queue."""
    await service.rescore_workspace(session, event.workspace_id)


async def contact_regrouped(session: AsyncSession, event: ContactRegrouped) -> None:
    """A contact's groups (or VIP status) changed: re-score and re-route its conversations."""
    await service.contact_changed(
        session,
        event.workspace_id,
        event.contact_id,
        vip_changed=event.vip_changed,
        new_contact=event.new_contact,
    )


async def group_rules_changed(session: AsyncSession, event: GroupRulesChanged) -> None:
    """A group's members were recomputed: re-score the queue."""
    await service.rescore_workspace(session, event.workspace_id)


async def group_deleting(session: AsyncSession, event: GroupDeleting) -> None:
    """A group that routing or prioritisation names cannot be deleted (409 group_in_use)."""
    if await service.uses_group(session, event.workspace_id, event.group_key):
        raise Conflict(
            _(
                "Routing or prioritization uses the group %(name)s: remove it there first.",
                name=event.group_name or event.group_key,
            ),
            code="group_in_use",
        )


def register(registry: Registry) -> None:
    """Subscribe in the transaction: a conversation is never seen unrouted."""
    registry.on(ConversationStarted, conversation_started)
    registry.on(ConversationStatusChanged, status_changed)
    registry.on(VipToggled, vip_toggled)
    registry.on(ContactRegrouped, contact_regrouped)
    registry.on(GroupRulesChanged, group_rules_changed)
    registry.on(GroupDeleting, group_deleting)

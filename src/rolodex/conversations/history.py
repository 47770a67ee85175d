"""A conversation's history: every change is an event row (from, to, actor, time, reason,
comment), and a status change is also the domain event others react to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.auth.principals import Principal
from rolodex.conversations import repository
from rolodex.conversations.events import ConversationStatusChanged
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id


@dataclass(frozen=True)
class Actor:
    """Who caused an event: a user, an integration, the contact, or the system."""

    kind: str
    id: str | None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The actor a principal stands for."""
        return cls(principal.actor_kind, principal.actor_id)


async def record(
    session: AsyncSession,
    workspace_id: str,
    conversation_id: str,
    actor: Actor,
    old: str | None,
    new: str | None,
    *,
    kind: str = "status",
    reason: str | None = None,
    comment: str | None = None,
) -> None:
    await repository.insert_event(
        session,
        {
            "id": new_id("cev"),
            "workspace_id": workspace_id,
            "conversation_id": conversation_id,
            "kind": kind,
            "from_value": old,
            "to_value": new,
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "reason": reason,
            "comment": comment,
            "at": utcnow(),
        },
    )


async def status_changed(
    session: AsyncSession,
    workspace_id: str,
    conversation_id: str,
    contact_id: str,
    actor: Actor,
    old: str,
    new: str,
    *,
    reason: str | None = None,
    comment: str | None = None,
) -> None:
    # The event row, then the domain event that routing, auto-clear, the CRM and webhooks
    # react to (their subscribers).
    await record(
        session, workspace_id, conversation_id, actor, old, new, reason=reason, comment=comment
    )
    await emit(
        session,
        ConversationStatusChanged(
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            contact_id=contact_id,
            previous=old,
            current=new,
            actor_kind=actor.kind,
            actor_id=actor.id,
            reason=reason,
            comment=comment,
        ),
    )

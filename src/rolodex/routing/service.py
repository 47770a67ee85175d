"""Routing settings, routing decisions and priority scores (R4.3, B4, B5).

* A new conversation (conversations.service.receive_message) is scored and routed in
  one UPDATE, and its routing event written by one INSERT … SELECT, after one
  primary-key read of the settings (nothing more when none are set): to the VIP team
  when its contact is VIP, else to the first group route whose group has the contact,
  else to the fallback team. Messages on an existing conversation cost nothing here.
* When a contact's groups change (groups.service), its open conversations are
  re-scored; when it becomes VIP, its open conversations with no assignee move to the
  VIP team.
* Every routing decision is a conversation event (kind `routing`) with its reason
  (`vip`, `group:<key>`, `fallback`, `became_vip`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.schemas import VIP_KEY
from rolodex.groups import service as groups
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.models import Conversation
from rolodex.routing import repository, scoring

ROUTING = "routing"


def _event(
    workspace_id: str, conversation_id: str, old: str | None, new: str, reason: str
) -> dict[str, Any]:
    return {
        "id": new_id("cev"),
        "workspace_id": workspace_id,
        "conversation_id": conversation_id,
        "kind": ROUTING,
        "from_value": old,
        "to_value": new,
        "actor_kind": "system",
        "actor_id": None,
        "reason": reason,
        "comment": None,
        "at": utcnow(),
    }


async def route_new(session: AsyncSession, workspace_id: str, conversation_id: str) -> None:
    """Score a just-opened conversation and route it to a team, recording why."""
    settings = await repository.get(session, workspace_id)
    if settings is None or not (scoring.routes(settings) or scoring.prioritizes(settings)):
        return
    values: dict[str, Any] = {"priority_score": scoring.score_expression(settings)}
    if not scoring.routes(settings):
        await repository.update_one(session, workspace_id, conversation_id, values)
        return
    values["team_id"], reason = scoring.team_expressions(settings)
    await repository.update_one(session, workspace_id, conversation_id, values)
    await repository.insert_routed_event(
        session, workspace_id, conversation_id, reason, event_id=new_id("cev"), at=utcnow()
    )


async def rescore_conversation(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> None:
    """Recompute one open conversation's score (a conversation back from pending to new)."""
    settings = await repository.get(session, workspace_id)
    if settings is not None:
        expression = scoring.score_expression(settings)
        await repository.score(
            session, workspace_id, expression, Conversation.id == conversation_id
        )


async def rescore_workspace(session: AsyncSession, workspace_id: str) -> None:
    """Recompute every open conversation's score, set-based (settings, groups or VIP changed)."""
    settings = await repository.get(session, workspace_id)
    if settings is not None:
        await repository.score(session, workspace_id, scoring.score_expression(settings))


async def contact_changed(
    session: AsyncSession, workspace_id: str, contact_id: str, *, vip_changed: bool
) -> None:
    """Re-score a contact's open conversations; re-route the unowned ones if it became VIP."""
    settings = await repository.get(session, workspace_id)
    if settings is None:
        return
    if scoring.prioritizes(settings):
        expression = scoring.score_expression(settings)
        await repository.score(
            session, workspace_id, expression, Conversation.contact_id == contact_id
        )
    team = settings.vip_team_id
    if not (vip_changed and team):
        return
    memberships = await groups.memberships(session, workspace_id, [contact_id])
    if VIP_KEY not in memberships[contact_id]:
        return
    moving = await repository.unowned_open(session, workspace_id, contact_id, team)
    await _move(session, workspace_id, moving, team, "became_vip")


async def _move(
    session: AsyncSession,
    workspace_id: str,
    moving: Sequence[tuple[str, str | None]],
    team: str,
    reason: str,
) -> None:
    if not moving:
        return
    await repository.set_team(session, workspace_id, [c for c, _ in moving], team)
    await repository.insert_events(
        session, [_event(workspace_id, c, old, team, reason) for c, old in moving]
    )


async def uses_group(session: AsyncSession, workspace_id: str, key: str) -> bool:
    """Whether routing or prioritisation names the group."""
    settings = await repository.get(session, workspace_id)
    if settings is None:
        return False
    named = [*settings.group_routes, *settings.prioritized_groups]
    return any(item["group"] == key for item in named)

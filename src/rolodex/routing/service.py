"""Routing settings, routing decisions and priority scores (R4.3, B4, B5).

* A new conversation (conversations.service.receive_message) is scored and routed in
  one UPDATE, and its routing event written by one INSERT … SELECT; nothing more when no
  settings are set. The statements are built once per configuration version (`Routing`,
  kept in memory with the settings: workspaces/config.py). Messages on an existing
  conversation cost nothing here.
* When a contact's groups change (groups.service), its open conversations are
  re-scored; when it becomes VIP, its open conversations with no assignee move to the
  VIP team. A contact made in the same transaction has no conversation yet: nothing runs.
* Every routing decision is a conversation event (kind `routing`) with its reason
  (`vip`, `group:<key>`, `fallback`, `became_vip`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Executable
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.schemas import VIP_KEY
from rolodex.groups import service as groups
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.routing import repository, scoring
from rolodex.workspaces import service as workspaces

ROUTING = "routing"


@dataclass(frozen=True)
class Routing:
    """A workspace's routing as of one configuration version: its settings and statements."""

    rules: scoring.Rules | None
    score: ColumnElement[int] | None = None
    # Scores (and routes) a new conversation; on PostgreSQL it also records the routing
    # event (one statement), elsewhere `routed_event` does.
    route: Executable | None = None
    routed_event: Executable | None = None
    rescore_one: Executable | None = None
    rescore_contact: Executable | None = None


async def _load(session: AsyncSession, workspace_id: str) -> Routing:
    row = await repository.get(session, workspace_id)
    if row is None:
        return Routing(None)
    rules = scoring.Rules.of(row)
    config = await groups.configuration(session, workspace_id)
    score = scoring.score_expression(rules, config)
    values: dict[str, Any] = {"priority_score": score}
    route = routed_event = None
    if rules.routes:
        values["team_id"], reason = scoring.team_expressions(rules, config)
        if _dialect(session) == "postgresql":
            route = repository.route_and_record_statement(values, reason)
        else:
            routed_event = repository.routed_event_statement(reason)
    return Routing(
        rules,
        score,
        route=repository.route_statement(values) if route is None else route,
        routed_event=routed_event,
        rescore_one=repository.rescore_one_statement(score),
        rescore_contact=repository.rescore_contact_statement(score),
    )


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


async def configuration(session: AsyncSession, workspace_id: str) -> Routing:
    """The workspace's routing as this transaction sees it (built once per version)."""
    return await workspaces.cached_config(session, workspace_id, _load)


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
    routing = await configuration(session, workspace_id)
    rules = routing.rules
    if rules is None or routing.route is None or not (rules.routes or rules.prioritizes):
        return
    params = {"b_conversation_id": conversation_id, "b_event_id": new_id("cev"), "b_at": utcnow()}
    await repository.run(session, routing.route, params)
    if routing.routed_event is not None:
        await repository.run(session, routing.routed_event, params)


async def rescore_conversation(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> None:
    """Recompute one open conversation's score (a conversation back from pending to new)."""
    routing = await configuration(session, workspace_id)
    if routing.rescore_one is not None:
        await repository.run(session, routing.rescore_one, {"b_conversation_id": conversation_id})


async def rescore_workspace(session: AsyncSession, workspace_id: str) -> None:
    """Recompute every open conversation's score, set-based (settings, groups or VIP changed)."""
    routing = await configuration(session, workspace_id)
    if routing.score is not None:
        await repository.score(session, workspace_id, routing.score)


async def contact_changed(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    *,
    vip_changed: bool,
    new_contact: bool = False,
) -> None:
    """Re-score a contact's open conversations; re-route the unowned ones if it became VIP.

    A contact made in this transaction has none yet (its first is routed when it opens).
    """
    if new_contact:
        return
    routing = await configuration(session, workspace_id)
    rules = routing.rules
    if rules is None:
        return
    if rules.prioritizes and routing.rescore_contact is not None:
        await repository.run(session, routing.rescore_contact, {"b_contact_id": contact_id})
    team = rules.vip_team_id
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
    rules = (await configuration(session, workspace_id)).rules
    return rules is not None and key in scoring.named_groups(rules)

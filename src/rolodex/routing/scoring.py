"""Priority scores (B4): the score expression, its breakdown, and the queue order.

A conversation's score is the sum of the weights of the prioritised rules it matches:
prioritised groups (`vip` included, while VIP is on and in the plan) and prioritised
channels. It is stored (`conversations.priority_score`, which the queue index orders
by) and recomputed in SQL when a contact's groups change, when the settings change,
and when a conversation goes from pending back to new; the breakdown is recomputed
at read time for the conversations of one page only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, case, literal, null

from rolodex.attributes.schemas import VIP_KEY
from rolodex.groups import service as groups
from rolodex.models import Conversation, RoutingSettings
from rolodex.routing.schemas import PriorityPoints


def _in_group(workspace_id: str, group: Mapping[str, Any]) -> ColumnElement[bool]:
    if group["group"] == VIP_KEY:
        return groups.vip_condition(workspace_id, Conversation.contact_id, gated=True)
    return groups.member_condition(workspace_id, group["group_id"], Conversation.contact_id)


def prioritizes(settings: RoutingSettings | None) -> bool:
    """Whether any prioritised rule is set."""
    return settings is not None and bool(
        settings.prioritized_groups or settings.prioritized_channels
    )


def score_expression(settings: RoutingSettings) -> ColumnElement[int]:
    """The score of a conversation row under these settings, as SQL."""
    ws = settings.workspace_id
    total: ColumnElement[int] = literal(0)
    for group in settings.prioritized_groups:
        total = total + case((_in_group(ws, group), int(group["weight"])), else_=0)
    for channel in settings.prioritized_channels:
        matches = Conversation.channel_id == channel["channel_id"]
        total = total + case((matches, int(channel["weight"])), else_=0)
    return total


def routes(settings: RoutingSettings | None) -> bool:
    """Whether new conversations are routed to a team."""
    return settings is not None and bool(
        settings.vip_team_id or settings.group_routes or settings.fallback_team_id
    )


def team_expressions(
    settings: RoutingSettings,
) -> tuple[ColumnElement[str | None], ColumnElement[str]]:
    """The team a new conversation goes to and why, as SQL (first matching rule wins)."""
    ws = settings.workspace_id
    whens: list[tuple[ColumnElement[bool], str, str]] = []
    if settings.vip_team_id:
        vip = groups.vip_condition(ws, Conversation.contact_id, gated=True)
        whens.append((vip, settings.vip_team_id, "vip"))
    for route in settings.group_routes:
        whens.append((_in_group(ws, route), route["team_id"], f"group:{route['group']}"))
    fallback = settings.fallback_team_id
    team_else: Any = literal(fallback) if fallback else null()
    reason_else = literal("fallback" if fallback else "none")
    if not whens:
        return team_else, reason_else
    team = case(*((c, literal(t)) for c, t, _ in whens), else_=team_else)
    reason = case(*((c, literal(r)) for c, _, r in whens), else_=reason_else)
    return team, reason


def breakdown(
    settings: RoutingSettings | None, member_of: set[str], channel_id: str
) -> list[PriorityPoints]:
    """The prioritised rules a conversation matches, each with its points."""
    if settings is None:
        return []
    out = [
        PriorityPoints(rule=f"group:{g['group']}", points=int(g["weight"]))
        for g in settings.prioritized_groups
        if (g["group"] if g["group"] == VIP_KEY else g["group_id"]) in member_of
    ]
    out += [
        PriorityPoints(rule=f"channel:{c['channel_id']}", points=int(c["weight"]))
        for c in settings.prioritized_channels
        if c["channel_id"] == channel_id
    ]
    return out

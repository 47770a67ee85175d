"""Priority scores (B4): the score expression, its breakdown, and the queue order.

A conversation's score is the sum of the weights of the prioritised rules it matches:
prioritised groups (`vip` included, while VIP is on and in the plan) and prioritised
channels. It is stored (`conversations.priority_score`, which the queue index orders
by) and recomputed in SQL when a contact's groups change, when the settings change,
and when a conversation goes from pending back to new; the breakdown is recomputed
at read time for the conversations of one page only.

The expressions are built from the settings and the groups' configuration of one version
(routing/service.py keeps them per version): a rule no contact can match (a group turned
off, VIP off or outside the plan) adds nothing and is left out, and each remaining one is a
primary-key probe from the conversation's contact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, literal, null

from rolodex.attributes.schemas import VIP_KEY
from rolodex.groups import service as groups
from rolodex.models import Conversation, RoutingSettings
from rolodex.routing.schemas import PriorityPoints


@dataclass(frozen=True)
class Rules:
    """A workspace's routing settings as plain values (kept in memory per version)."""

    vip_team_id: str | None
    fallback_team_id: str | None
    group_routes: tuple[Mapping[str, Any], ...]
    prioritized_groups: tuple[Mapping[str, Any], ...]
    prioritized_channels: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, row: RoutingSettings) -> Rules:
        """The settings row's values."""
        return cls(
            row.vip_team_id,
            row.fallback_team_id,
            tuple(row.group_routes or ()),
            tuple(row.prioritized_groups or ()),
            tuple(row.prioritized_channels or ()),
        )

    @property
    def prioritizes(self) -> bool:
        """Whether any prioritised rule is set."""
        return bool(self.prioritized_groups or self.prioritized_channels)

    @property
    def routes(self) -> bool:
        """Whether new conversations are routed to a team."""
        return bool(self.vip_team_id or self.group_routes or self.fallback_team_id)


def _in_group(config: groups.GroupsConfig, group: Mapping[str, Any]) -> ColumnElement[bool] | None:
    return groups.condition(config, group["group"], group.get("group_id"), Conversation.contact_id)


def score_expression(rules: Rules, config: groups.GroupsConfig) -> ColumnElement[int]:
    """The score of a conversation row under these settings, as SQL."""
    total: ColumnElement[int] = literal(0)
    for group in rules.prioritized_groups:
        matches = _in_group(config, group)
        if matches is not None:
            total = total + case((matches, int(group["weight"])), else_=0)
    for channel in rules.prioritized_channels:
        on_channel = Conversation.channel_id == channel["channel_id"]
        total = total + case((on_channel, int(channel["weight"])), else_=0)
    return total


def team_expressions(
    rules: Rules, config: groups.GroupsConfig
) -> tuple[ColumnElement[str | None], ColumnElement[str]]:
    """The team a new conversation goes to and why, as SQL (first matching rule wins)."""
    whens: list[tuple[ColumnElement[bool], str, str]] = []
    if rules.vip_team_id:
        vip = groups.condition(config, VIP_KEY, None, Conversation.contact_id)
        if vip is not None:
            whens.append((vip, rules.vip_team_id, "vip"))
    for route in rules.group_routes:
        matches = _in_group(config, route)
        if matches is not None:
            whens.append((matches, route["team_id"], f"group:{route['group']}"))
    fallback = rules.fallback_team_id
    team_else: Any = literal(fallback) if fallback else null()
    reason_else = literal("fallback" if fallback else "none")
    if not whens:
        return team_else, reason_else
    team = case(*((c, literal(t)) for c, t, _ in whens), else_=team_else)
    reason = case(*((c, literal(r)) for c, _, r in whens), else_=reason_else)
    return team, reason


def breakdown(
    rules: Rules | None, member_of: AbstractSet[str], channel_id: str
) -> list[PriorityPoints]:
    """The prioritised rules a conversation matches, each with its points."""
    if rules is None:
        return []
    out = [
        PriorityPoints(rule=f"group:{g['group']}", points=int(g["weight"]))
        for g in rules.prioritized_groups
        if (g["group"] if g["group"] == VIP_KEY else g["group_id"]) in member_of
    ]
    out += [
        PriorityPoints(rule=f"channel:{c['channel_id']}", points=int(c["weight"]))
        for c in rules.prioritized_channels
        if c["channel_id"] == channel_id
    ]
    return out


def named_groups(rules: Rules) -> Sequence[str]:
    """The keys of the groups routing or prioritisation names."""
    return [item["group"] for item in (*rules.group_routes, *rules.prioritized_groups)]

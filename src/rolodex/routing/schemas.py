"""Routing settings and queue schemas (SPEC "VIP, groups, routing")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from rolodex.conversations.schemas import ConversationRead
from rolodex.schemas import InputModel, OutputModel

Id = Annotated[str, Field(min_length=1, max_length=80)]
Weight = Annotated[int, Field(ge=0, le=1000)]


class PrioritizedGroup(InputModel):
    """A group whose members' conversations get `weight` points (1 unless told)."""

    group: Id
    weight: Weight = 1


class PrioritizedChannel(InputModel):
    """A channel whose conversations get `weight` points (1 unless told)."""

    channel_id: Id
    weight: Weight = 1


class GroupRoute(InputModel):
    """New conversations of a group's members go to a team."""

    group: Id
    team_id: Id


def _objects(key: str, model: type[InputModel]) -> BeforeValidator:
    """Accept a plain key/id for an item as {key: it}: one shape, so errors name the field.

    (A union of an object and a string would report each bad item twice, once per shape.)
    """

    def convert(items: Any) -> Any:
        if isinstance(items, list):
            return [{key: item} if isinstance(item, str) else item for item in items]
        return items

    converter: Callable[[Any], Any] = convert
    return BeforeValidator(converter, json_schema_input_type=list[model | Id])  # type: ignore[valid-type]


class RoutingSettingsUpdate(InputModel):
    """Change some routing settings; lists replace the stored ones.

    `prioritized_groups` and `prioritized_channel_ids` take plain keys/ids (weight 1)
    or objects with a weight.
    """

    vip_team_id: Id | None = None
    group_routes: Annotated[list[GroupRoute], Field(max_length=100)] | None = None
    fallback_team_id: Id | None = None
    prioritized_groups: (
        Annotated[
            list[PrioritizedGroup], Field(max_length=100), _objects("group", PrioritizedGroup)
        ]
        | None
    ) = None
    prioritized_channel_ids: (
        Annotated[
            list[PrioritizedChannel],
            Field(max_length=100),
            _objects("channel_id", PrioritizedChannel),
        ]
        | None
    ) = None


class PrioritizedGroupRead(OutputModel):
    """A prioritised group and its points."""

    group: str
    weight: int


class PrioritizedChannelRead(OutputModel):
    """A prioritised channel and its points."""

    channel_id: str
    weight: int


class GroupRouteRead(OutputModel):
    """A group's route."""

    group: str
    team_id: str


class RoutingSettingsRead(OutputModel):
    """The workspace's routing: VIP team, group routes, fallback, prioritised rules."""

    vip_team_id: str | None = None
    group_routes: list[GroupRouteRead] = []
    fallback_team_id: str | None = None
    prioritized_groups: list[PrioritizedGroupRead] = []
    prioritized_channel_ids: list[PrioritizedChannelRead] = []


class PriorityPoints(OutputModel):
    """One prioritised rule a conversation matches, and the points it adds."""

    rule: str
    points: int


class QueueItem(ConversationRead):
    """A conversation of the queue, with why it has its score."""

    priority_breakdown: list[PriorityPoints]

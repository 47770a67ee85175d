"""Reading and changing the routing settings (admins); VIP parts need the enterprise plan."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.schemas import VIP_KEY
from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.channels import service as channels
from rolodex.errors import InvalidInput, NotFound, field_error
from rolodex.groups import service as groups
from rolodex.i18n import _
from rolodex.kit.clock import utcnow
from rolodex.models import RoutingSettings
from rolodex.plans import Feature
from rolodex.routing import repository, service
from rolodex.routing.schemas import (
    GroupRouteRead,
    PrioritizedChannelRead,
    PrioritizedGroupRead,
    RoutingSettingsRead,
    RoutingSettingsUpdate,
)
from rolodex.users import service as users
from rolodex.workspaces import service as workspaces

Errors = list[dict[str, Any]]


def _read(row: RoutingSettings | None) -> RoutingSettingsRead:
    if row is None:
        return RoutingSettingsRead()
    return RoutingSettingsRead(
        vip_team_id=row.vip_team_id,
        group_routes=[
            GroupRouteRead(group=r["group"], team_id=r["team_id"]) for r in row.group_routes
        ],
        fallback_team_id=row.fallback_team_id,
        prioritized_groups=[
            PrioritizedGroupRead(group=g["group"], weight=g["weight"])
            for g in row.prioritized_groups
        ],
        prioritized_channel_ids=[
            PrioritizedChannelRead(channel_id=c["channel_id"], weight=c["weight"])
            for c in row.prioritized_channels
        ],
    )


async def get_settings(session: AsyncSession, principal: Principal) -> RoutingSettingsRead:
    """The workspace's routing settings (empty until an admin sets them)."""
    return _read(await repository.get(session, principal.workspace_id))


async def _team(
    session: AsyncSession, principal: Principal, team_id: str, field: str, errors: Errors
) -> None:
    try:
        await users.access_team_by_id(session, principal, team_id)
    except NotFound:
        errors.append(field_error(field, _("This team does not exist."), "unknown_team"))


async def _group_ids(
    session: AsyncSession, principal: Principal, keys: list[tuple[str, str]], errors: Errors
) -> dict[str, str | None]:
    found = await groups.groups_by_key(session, principal.workspace_id, [k for _, k in keys])
    out: dict[str, str | None] = {}
    for field, key in keys:
        if key == VIP_KEY:
            principal.require_feature(Feature.VIP)
            out[key] = None
        elif key in found:
            out[key] = found[key].id
        else:
            message = _("There is no contact group %(key)s.", key=key)
            errors.append(field_error(field, message, "unknown_group"))
    return out


async def _apply_groups(
    session: AsyncSession,
    principal: Principal,
    data: RoutingSettingsUpdate,
    row: RoutingSettings,
    errors: Errors,
) -> None:
    fields = data.model_fields_set
    prioritized = list(data.prioritized_groups or [])
    keys = [(f"group_routes.{i}.group", r.group) for i, r in enumerate(data.group_routes or [])]
    keys += [(f"prioritized_groups.{i}.group", g.group) for i, g in enumerate(prioritized)]
    ids = await _group_ids(session, principal, keys, errors)
    for i, route in enumerate(data.group_routes or []):
        await _team(session, principal, route.team_id, f"group_routes.{i}.team_id", errors)
    if "group_routes" in fields:
        row.group_routes = [
            {"group": r.group, "group_id": ids.get(r.group), "team_id": r.team_id}
            for r in data.group_routes or []
        ]
    if "prioritized_groups" in fields:
        row.prioritized_groups = [
            {"group": g.group, "group_id": ids.get(g.group), "weight": g.weight}
            for g in prioritized
        ]


async def _apply_channels(
    session: AsyncSession,
    principal: Principal,
    data: RoutingSettingsUpdate,
    row: RoutingSettings,
    errors: Errors,
) -> None:
    if "prioritized_channel_ids" not in data.model_fields_set:
        return
    items = list(data.prioritized_channel_ids or [])
    for i, item in enumerate(items):
        try:
            await channels.access_channel_by_id(session, principal, item.channel_id)
        except NotFound:
            field = f"prioritized_channel_ids.{i}"
            errors.append(field_error(field, _("This channel does not exist."), "unknown_channel"))
    row.prioritized_channels = [{"channel_id": c.channel_id, "weight": c.weight} for c in items]


async def update_settings(
    session: AsyncSession, principal: Principal, data: RoutingSettingsUpdate
) -> RoutingSettingsRead:
    """An admin changes routing; open conversations are re-scored at once (set-based)."""
    principal.require_admin()
    fields = data.model_fields_set
    if "vip_team_id" in fields and data.vip_team_id is not None:
        principal.require_feature(Feature.VIP)
    ws = principal.workspace_id
    # First: the re-scoring below reads the settings this transaction is writing.
    await workspaces.config_changed(session, ws)
    row = await repository.get(session, ws)
    before = _read(row)
    if row is None:
        row = RoutingSettings(
            workspace_id=ws, group_routes=[], prioritized_groups=[], prioritized_channels=[]
        )
        session.add(row)
    errors: Errors = []
    # No autoflush: a half-checked row (an unknown team id) must not reach the database.
    with session.no_autoflush:
        for name in ("vip_team_id", "fallback_team_id"):
            team_id = getattr(data, name)
            if name in fields:
                if team_id is not None:
                    await _team(session, principal, team_id, name, errors)
                setattr(row, name, team_id)
        await _apply_groups(session, principal, data, row, errors)
        await _apply_channels(session, principal, data, row, errors)
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(detail, errors=errors, code="invalid_routing_settings")
    row.updated_at = utcnow()
    await session.flush()
    after = _read(row)
    await service.rescore_workspace(session, ws)
    await audit.record(
        session,
        principal,
        "routing.updated",
        target_type="routing_settings",
        target_id=None,
        before=before.model_dump(mode="json"),
        after=after.model_dump(mode="json"),
    )
    return after

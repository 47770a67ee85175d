"""The queue page (agent workspace) and Admin settings > Contact groups, routing and prioritization.

The queue is rendered on the server from the same service call as `GET /api/v1/queue`;
the admin page is a shell whose script (static/routing.js) works through the REST API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from rolodex.auth.deps import SignedIn
from rolodex.catalogue import VIP_KEY, VIP_LABEL
from rolodex.channels import service as channels
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.groups import service as groups
from rolodex.i18n import _, translate
from rolodex.routing import queue as queues
from rolodex.routing.schemas import PriorityPoints
from rolodex.users import service as users
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)


def _reasons(
    breakdown: list[PriorityPoints], group_names: dict[str, str], channel_names: dict[str, str]
) -> list[tuple[str, int]]:
    """Each prioritised rule a conversation matches as people read it, with its points."""
    out = []
    for points in breakdown:
        kind, _sep, ref = points.rule.partition(":")
        if kind == "group" and ref == VIP_KEY:
            label = translate(VIP_LABEL)
        elif kind == "group":
            label = _("Group %(name)s", name=group_names.get(ref, ref))
        elif kind == "channel":
            label = _("Channel %(name)s", name=channel_names.get(ref, ref))
        else:
            label = points.rule
        out.append((label, points.points))
    return out


@router.get("/queue", response_class=HTMLResponse)
async def queue_page(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    team_id: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """New conversations by priority score, oldest first on ties, each score explained."""
    items, _next = await queues.queue(
        session, principal, team_id=team_id or None, cursor=None, limit=100
    )
    teams, _next = await users.list_teams(session, principal, cursor=None, limit=100)
    channel_names = await channels.channel_names(session, principal)
    group_names = {g.key: g.name for g in await groups.list_groups(session, principal)}
    return page(
        request,
        "routing/queue.html",
        principal,
        section="agent",
        items=items,
        reasons={c.id: _reasons(c.priority_breakdown, group_names, channel_names) for c in items},
        vip_ids=await groups.vip_contact_ids(session, principal, {c.contact_id for c in items}),
        teams=teams,
        team_id=team_id or "",
        channel_names=channel_names,
    )


@router.get("/admin/routing", response_class=HTMLResponse)
async def routing_settings(request: Request, principal: SignedIn) -> HTMLResponse:
    """Contact groups with their rules, routing to teams, and prioritization weights."""
    principal.require_admin()
    return page(request, "routing/admin.html", principal, section="admin")

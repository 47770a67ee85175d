"""Routing to teams (VIP, groups, fallback) and the explainable priority queue."""

from __future__ import annotations

from typing import Any

import httpx

from builders import (
    Actor,
    make_attribute,
    make_channel,
    make_conversation,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role
from rolodex.db import Database

ROUTING = "/api/v1/settings/routing"


async def _team(client: httpx.AsyncClient, admin: Actor, name: str) -> str:
    response = await client.post("/api/v1/teams", json={"name": name}, headers=admin.headers)
    assert response.status_code == 201, response.text
    team_id: str = response.json()["id"]
    return team_id


async def _routing(client: httpx.AsyncClient, admin: Actor, **body: Any) -> dict[str, Any]:
    response = await client.patch(ROUTING, json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    settings: dict[str, Any] = response.json()
    return settings


async def _conversation(client: httpx.AsyncClient, actor: Actor, cid: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/conversations/{cid}", headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _mark_vip(
    client: httpx.AsyncClient, actor: Actor, contact: str, vip: bool = True
) -> None:
    response = await client.patch(
        f"/api/v1/contacts/{contact}/attributes",
        json={"attributes": {"vip": vip}},
        headers=actor.headers,
    )
    assert response.status_code == 200, response.text


async def _queue(client: httpx.AsyncClient, actor: Actor, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/queue", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _routing_events(conversation: dict[str, Any]) -> list[tuple[str | None, str | None, str]]:
    return [
        (e["from_value"], e["to_value"], e["reason"])
        for e in conversation["events"]
        if e["kind"] == "routing"
    ]


async def test_a_vip_contacts_new_conversation_lands_in_the_vip_team(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat")
    vips, general = await _team(client, admin, "VIP desk"), await _team(client, admin, "General")
    await _routing(client, admin, vip_team_id=vips, fallback_team_id=general)
    first = await make_conversation(client, admin, channel, "c1")
    assert (await _conversation(client, agent, first["conversation_id"]))["team_id"] == general
    await _mark_vip(client, agent, first["contact_id"])
    moved = await _conversation(client, agent, first["conversation_id"])
    assert moved["team_id"] == vips
    assert _routing_events(moved) == [(None, general, "fallback"), (general, vips, "became_vip")]
    resolved = await client.patch(
        f"/api/v1/conversations/{first['conversation_id']}",
        json={"status": "resolved"},
        headers=agent.headers,
    )
    assert resolved.status_code == 200
    again = await make_conversation(client, admin, channel, "c1")
    assert again["conversation_id"] != first["conversation_id"]
    landed = await _conversation(client, agent, again["conversation_id"])
    assert landed["team_id"] == vips
    assert _routing_events(landed) == [(None, vips, "vip")]


async def test_owned_conversations_are_not_rerouted_and_vip_off_stops_routing(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat")
    vips = await _team(client, admin, "VIP desk")
    await _routing(client, admin, vip_team_id=vips)
    owned = await make_conversation(client, admin, channel, "o1")
    await client.patch(
        f"/api/v1/conversations/{owned['conversation_id']}",
        json={"assignee_id": agent.user_id},
        headers=agent.headers,
    )
    await _mark_vip(client, agent, owned["contact_id"])
    assert (await _conversation(client, agent, owned["conversation_id"]))["team_id"] is None
    await client.patch("/api/v1/attributes/vip", json={"enabled": False}, headers=admin.headers)
    other = await make_conversation(client, admin, channel, "o2")
    await client.patch("/api/v1/attributes/vip", json={"enabled": True}, headers=admin.headers)
    await _mark_vip(client, agent, other["contact_id"])
    await client.patch("/api/v1/attributes/vip", json={"enabled": False}, headers=admin.headers)
    ch2 = await make_channel(db, admin, "webchat", name="second")
    third = await make_conversation(client, admin, ch2, "o2")
    assert (await _conversation(client, agent, third["conversation_id"]))["team_id"] is None


async def test_group_routes_send_members_to_their_team(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    spain = await _team(client, admin, "Spain desk")
    body = {
        "name": "Corp",
        "rules": [{"attribute": "webchat-email", "operator": "contains", "value": "@corp"}],
    }
    assert (
        await client.post("/api/v1/contact-groups", json=body, headers=admin.headers)
    ).status_code == 201
    await _routing(client, admin, group_routes=[{"group": "corp", "team_id": spain}])
    corp = await make_conversation(client, admin, channel, "g1", email="a@corp.test")
    other = await make_conversation(client, admin, channel, "g2", email="a@else.test")
    routed = await _conversation(client, admin, corp["conversation_id"])
    assert routed["team_id"] == spain
    assert _routing_events(routed) == [(None, spain, "group:corp")]
    assert (await _conversation(client, admin, other["conversation_id"]))["team_id"] is None
    in_use = await client.delete("/api/v1/contact-groups/corp", headers=admin.headers)
    assert in_use.status_code == 409
    assert in_use.json()["code"] == "group_in_use"


async def test_marking_vip_lifts_the_conversation_above_older_ones_with_a_breakdown(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat")
    settings = await _routing(client, admin, prioritized_groups=[{"group": "vip", "weight": 5}])
    assert settings["prioritized_groups"] == [{"group": "vip", "weight": 5}]
    older = [await make_conversation(client, admin, channel, f"q{i}") for i in range(3)]
    newest = await make_conversation(client, admin, channel, "q-vip")
    queue = await _queue(client, agent)
    order = [c["id"] for c in queue["items"]]
    assert order == [c["conversation_id"] for c in [*older, newest]]
    await _mark_vip(client, agent, newest["contact_id"])
    queue = await _queue(client, agent)
    top = queue["items"][0]
    assert top["id"] == newest["conversation_id"]
    assert top["priority_score"] == 5
    assert top["priority_breakdown"] == [{"rule": "group:vip", "points": 5}]
    assert all(i["priority_breakdown"] == [] for i in queue["items"][1:])
    assert [i["id"] for i in queue["items"][1:]] == [c["conversation_id"] for c in older]
    by_priority = await client.get(
        "/api/v1/conversations", params={"sort": "priority", "vip": "true"}, headers=agent.headers
    )
    assert [c["id"] for c in by_priority.json()["items"]] == [newest["conversation_id"]]

    await client.patch("/api/v1/attributes/vip", json={"enabled": False}, headers=admin.headers)
    off = await _queue(client, agent)
    assert [i["priority_score"] for i in off["items"]] == [0, 0, 0, 0]
    assert off["items"][0]["priority_breakdown"] == []
    await client.patch("/api/v1/attributes/vip", json={"enabled": True}, headers=admin.headers)
    on = await _queue(client, agent)
    assert on["items"][0]["id"] == newest["conversation_id"]
    assert on["items"][0]["priority_score"] == 5


async def test_channels_add_points_and_the_queue_pages_by_cursor(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    plain = await make_channel(db, admin, "webchat", name="plain")
    urgent = await make_channel(db, admin, "webchat", name="urgent")
    await _routing(client, admin, prioritized_channel_ids=[urgent])
    a = await make_conversation(client, admin, plain, "p1")
    b = await make_conversation(client, admin, urgent, "p2")
    c = await make_conversation(client, admin, plain, "p3")
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = await _queue(client, admin, **params)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["id"] for i in seen] == [
        b["conversation_id"],
        a["conversation_id"],
        c["conversation_id"],
    ]
    assert seen[0]["priority_breakdown"] == [{"rule": f"channel:{urgent}", "points": 1}]
    bad = await client.get("/api/v1/queue", params={"cursor": "nope"}, headers=admin.headers)
    assert bad.status_code == 422


async def test_pending_back_to_new_is_rescored_and_team_filter_applies(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat")
    first = await make_conversation(client, admin, channel, "r1")
    await client.post(
        f"/api/v1/conversations/{first['conversation_id']}/messages",
        json={"text": "On it"},
        headers=agent.headers,
    )
    assert (await _queue(client, agent))["items"] == []
    await _routing(client, admin, prioritized_channel_ids=[{"channel_id": channel, "weight": 3}])
    await make_conversation(client, admin, channel, "r1")
    back = await _conversation(client, agent, first["conversation_id"])
    assert (back["status"], back["priority_score"]) == ("new", 3)
    team = await _team(client, admin, "Desk")
    assert (await _queue(client, agent, team_id=team))["items"] == []
    foreign = await make_workspace(db, name="Other")
    other_team = await _team(client, foreign, "Theirs")
    assert (
        await client.get("/api/v1/queue", params={"team_id": other_team}, headers=agent.headers)
    ).status_code == 404


async def test_routing_settings_are_validated_and_admin_only(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    await make_attribute(client, admin, label="Country", key="country")
    assert (await client.get(ROUTING, headers=agent.headers)).json() == {
        "vip_team_id": None,
        "group_routes": [],
        "fallback_team_id": None,
        "prioritized_groups": [],
        "prioritized_channel_ids": [],
    }
    bad = await client.patch(
        ROUTING,
        json={
            "vip_team_id": "team_nope",
            "prioritized_groups": ["vip", "nope"],
            "prioritized_channel_ids": ["ch_nope"],
        },
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == [
        "vip_team_id",
        "prioritized_groups.1.group",
        "prioritized_channel_ids.0",
    ]
    assert (await client.get(ROUTING, headers=admin.headers)).json()["vip_team_id"] is None
    forbidden = await client.patch(ROUTING, json={"fallback_team_id": None}, headers=agent.headers)
    assert forbidden.status_code == 403
    ok = await _routing(client, admin, prioritized_groups=["vip"])
    assert ok["prioritized_groups"] == [{"group": "vip", "weight": 1}]


async def test_the_assembled_queue_and_priority_list_are_exactly_what_their_models_say(
    client: httpx.AsyncClient, db: Database
) -> None:
    """The queue and the list build their items without validation (schemas.assembled): every
    field is there, typed as the model types it, and serialised as the model would."""
    from rolodex.inbox.schemas import ConversationItem
    from rolodex.routing.schemas import QueueItem
    from rolodex.schemas import Page

    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    await _routing(client, admin, prioritized_channel_ids=[channel])
    made = [await make_conversation(client, admin, channel, f"m{i}") for i in range(3)]
    await _mark_vip(client, admin, made[1]["contact_id"])
    for path, model in (
        ("/api/v1/queue", Page[QueueItem]),
        ("/api/v1/conversations?sort=priority&status=new", Page[ConversationItem]),
    ):
        response = await client.get(path, headers=admin.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) == 3
        validated = model.model_validate_json(response.content)
        assert validated.model_dump(mode="json") == body
        fields = set(model.model_fields["items"].annotation.__args__[0].model_fields)  # type: ignore[union-attr]
        assert all(set(item) == fields for item in body["items"])
        assert body["items"][0]["contact_display_name"]
        assert body["items"][0]["last_message"]["direction"] == "inbound"
    # The list's badges: the VIP contact's item only, and every item unread for the admin.
    listed = (await client.get("/api/v1/conversations", headers=admin.headers)).json()["items"]
    vips = {item["contact_id"] for item in listed if item["vip"]}
    assert vips == {made[1]["contact_id"]}
    assert all(item["unread"] for item in listed)

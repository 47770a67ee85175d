"""Contact groups: the built-in vip group, VIP on/off, rules, filters, validation, isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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
from rolodex.plans import Plan

GROUPS = "/api/v1/contact-groups"


async def _write(
    client: httpx.AsyncClient, actor: Actor, contact: str, values: dict[str, Any]
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/contacts/{contact}/attributes", json={"attributes": values}, headers=actor.headers
    )


async def _contacts(client: httpx.AsyncClient, actor: Actor, **params: Any) -> httpx.Response:
    return await client.get("/api/v1/contacts", params=params, headers=actor.headers)


def _ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {c["id"] for c in response.json()["items"]}


async def test_vip_is_on_by_default_and_listed_as_the_builtin_group(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    groups = (await client.get(GROUPS, headers=admin.headers)).json()
    assert groups == [
        {
            "key": "vip",
            "name": "VIP",
            "match": "all",
            "rules": [],
            "builtin": True,
            "enabled": True,
        }
    ]
    attrs = (await client.get("/api/v1/attributes/vip", headers=admin.headers)).json()
    assert attrs["enabled"] is True


async def test_vip_off_hides_filter_and_writes_and_on_restores_the_old_vips(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat")
    vip = await make_conversation(client, admin, channel, "vip-1")
    plain = await make_conversation(client, admin, channel, "plain-1")
    assert (await _write(client, agent, vip["contact_id"], {"vip": True})).status_code == 200
    assert _ids(await _contacts(client, agent, vip="true")) == {vip["contact_id"]}
    assert _ids(await _contacts(client, agent, vip="false")) == {plain["contact_id"]}
    assert _ids(await _contacts(client, agent, group="vip")) == {vip["contact_id"]}

    off = await client.patch(
        "/api/v1/attributes/vip", json={"enabled": False}, headers=admin.headers
    )
    assert off.status_code == 200
    tab = await client.get(
        f"/api/v1/conversations/{vip['conversation_id']}/contact-tab", headers=agent.headers
    )
    assert tab.json()["vip"]["shown"] is False
    refused = await _contacts(client, agent, vip="true")
    assert refused.status_code == 409
    assert refused.json()["code"] == "vip_disabled"
    conversations = await client.get(
        "/api/v1/conversations", params={"vip": "true"}, headers=agent.headers
    )
    assert conversations.json()["code"] == "vip_disabled"
    write = await _write(client, agent, plain["contact_id"], {"vip": True})
    assert write.status_code == 409
    assert write.json()["code"] == "vip_disabled"
    groups = (await client.get(GROUPS, headers=agent.headers)).json()
    assert groups[0]["enabled"] is False

    on = await client.patch("/api/v1/attributes/vip", json={"enabled": True}, headers=admin.headers)
    assert on.status_code == 200
    assert _ids(await _contacts(client, agent, vip="true")) == {vip["contact_id"]}
    tab = await client.get(
        f"/api/v1/conversations/{vip['conversation_id']}/contact-tab", headers=agent.headers
    )
    assert tab.json()["vip"] == {"shown": True, "value": True}


@pytest.mark.parametrize("plan", [Plan.TEAM, Plan.BUSINESS])
async def test_vip_outside_enterprise_is_403_naming_enterprise(
    client: httpx.AsyncClient, db: Database, plan: Plan
) -> None:
    admin = await make_workspace(db, plan)
    channel = await make_channel(db, admin, "webchat")
    contact = (await make_conversation(client, admin, channel, "s1"))["contact_id"]
    team = await client.post("/api/v1/teams", json={"name": "VIPs"}, headers=admin.headers)
    attempts = [
        await _write(client, admin, contact, {"vip": True}),
        await _contacts(client, admin, vip="true"),
        await _contacts(client, admin, group="vip"),
        await client.get(f"{GROUPS}/vip", headers=admin.headers),
        await client.patch(
            "/api/v1/attributes/vip", json={"enabled": False}, headers=admin.headers
        ),
        await client.patch(
            "/api/v1/settings/routing",
            json={"vip_team_id": team.json()["id"]},
            headers=admin.headers,
        ),
        await client.patch(
            "/api/v1/settings/routing", json={"prioritized_groups": ["vip"]}, headers=admin.headers
        ),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "plan_required"
        assert "Enterprise" in response.json()["detail"]
    assert [g["key"] for g in (await client.get(GROUPS, headers=admin.headers)).json()] == []


async def test_a_custom_group_filters_the_contacts_that_match_after_their_changes(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Country", key="country")
    spain = (await make_conversation(client, admin, channel, "es-1"))["contact_id"]
    later = (await make_conversation(client, admin, channel, "es-2"))["contact_id"]
    france = (await make_conversation(client, admin, channel, "fr-1"))["contact_id"]
    await _write(client, agent, spain, {"country": "ES"})
    await _write(client, agent, france, {"country": "FR"})
    created = await client.post(
        GROUPS,
        json={
            "name": "Spain",
            "rules": [{"attribute": "country", "operator": "is", "value": "es"}],
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "spain"
    assert _ids(await _contacts(client, agent, group="spain")) == {spain}
    await _write(client, agent, later, {"country": "es"})
    await _write(client, agent, spain, {"country": "PT"})
    assert _ids(await _contacts(client, agent, group="spain")) == {later}
    conversations = await client.get(
        "/api/v1/conversations", params={"group": "spain"}, headers=agent.headers
    )
    assert {c["contact_id"] for c in conversations.json()["items"]} == {later}
    changed = await client.patch(
        f"{GROUPS}/spain",
        json={
            "match": "any",
            "rules": [{"attribute": "country", "operator": "any_of", "value": ["ES", "pt"]}],
        },
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert _ids(await _contacts(client, agent, group="spain")) == {spain, later}
    assert (await client.delete(f"{GROUPS}/spain", headers=admin.headers)).status_code == 204
    assert (await _contacts(client, agent, group="spain")).status_code == 422


async def test_platform_values_keep_groups_current(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    first = await make_conversation(client, admin, channel, "w1", email="a@corp.test")
    created = await client.post(
        GROUPS,
        json={
            "name": "Corp",
            "rules": [{"attribute": "webchat-email", "operator": "contains", "value": "@CORP"}],
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    second = await make_conversation(client, admin, channel, "w2", email="b@corp.test")
    await make_conversation(client, admin, channel, "w3", email="c@else.test")
    members = _ids(await _contacts(client, admin, group="corp"))
    assert members == {first["contact_id"], second["contact_id"]}


async def test_rules_are_validated_naming_the_rule(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Country", key="country")
    await make_attribute(client, admin, label="Seats", key="seats", format="number")

    async def post(rules: list[dict[str, Any]], **extra: Any) -> httpx.Response:
        body = {"name": "G", "rules": rules, **extra}
        return await client.post(GROUPS, json=body, headers=admin.headers)

    unknown = await post([{"attribute": "nope", "operator": "is", "value": "x"}])
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "rules.0.attribute"
    ordered = await post(
        [
            {"attribute": "seats", "operator": "gte", "value": 10},
            {"attribute": "country", "operator": "gt", "value": "ES"},
        ]
    )
    assert ordered.status_code == 422
    assert [e["field"] for e in ordered.json()["errors"]] == ["rules.1.operator"]
    bad_number = await post([{"attribute": "seats", "operator": "lt", "value": "many"}])
    assert bad_number.json()["errors"][0]["field"] == "rules.0.value"
    assert (await post([{"attribute": "country", "operator": "maybe"}])).status_code == 422
    assert (await post([], key="empty")).status_code == 422
    builtin = await post([{"attribute": "country", "operator": "not_empty"}], key="vip")
    assert builtin.status_code == 409
    ok = await post([{"attribute": "seats", "operator": "gte", "value": "10"}], key="big")
    assert ok.status_code == 201
    assert (
        await post([{"attribute": "seats", "operator": "gte", "value": 1}], key="big")
    ).status_code == 409
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    forbidden = await client.post(
        GROUPS,
        json={"name": "A", "rules": [{"attribute": "seats", "operator": "not_empty"}]},
        headers=agent.headers,
    )
    assert forbidden.status_code == 403


async def test_number_rules_compare_numbers(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Seats", key="seats", format="number")
    small = (await make_conversation(client, admin, channel, "n1"))["contact_id"]
    big = (await make_conversation(client, admin, channel, "n2"))["contact_id"]
    await _write(client, admin, small, {"seats": 9})
    await _write(client, admin, big, {"seats": 100})
    body = {"name": "Big", "rules": [{"attribute": "seats", "operator": "gte", "value": 10}]}
    assert (await client.post(GROUPS, json=body, headers=admin.headers)).status_code == 201
    assert _ids(await _contacts(client, admin, group="big")) == {big}


async def test_another_workspaces_group_is_404(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Country", key="country")
    body = {"name": "Spain", "rules": [{"attribute": "country", "operator": "is", "value": "ES"}]}
    assert (await client.post(GROUPS, json=body, headers=admin.headers)).status_code == 201
    other = await make_workspace(db, name="Other")
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, Any] = {"json": {"name": "X"}} if method == "PATCH" else {}
        response = await client.request(method, f"{GROUPS}/spain", headers=other.headers, **kwargs)
        assert response.status_code == 404, method
    assert (await _contacts(client, other, group="spain")).status_code == 422

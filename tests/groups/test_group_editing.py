"""Editing a contact group (issue 16): name, rules, match and on/off, checked like a new one.

Members, routing and priority follow an edit; every edit is audited; names are unique; the
messages written to people follow their language.
"""

from __future__ import annotations

from typing import Any

import httpx

from builders import Actor, make_attribute, make_channel, make_conversation, make_workspace
from rolodex.db import Database

GROUPS = "/api/v1/contact-groups"
ES = {"Accept-Language": "es-ES,es;q=0.9"}


async def _write(
    client: httpx.AsyncClient, actor: Actor, contact: str, values: dict[str, Any]
) -> None:
    response = await client.patch(
        f"/api/v1/contacts/{contact}/attributes", json={"attributes": values}, headers=actor.headers
    )
    assert response.status_code == 200, response.text


async def _members(client: httpx.AsyncClient, actor: Actor, group: str) -> set[str]:
    response = await client.get("/api/v1/contacts", params={"group": group}, headers=actor.headers)
    assert response.status_code == 200, response.text
    return {c["id"] for c in response.json()["items"]}


async def _queue_scores(client: httpx.AsyncClient, actor: Actor) -> dict[str, int]:
    response = await client.get("/api/v1/queue", headers=actor.headers)
    assert response.status_code == 200, response.text
    return {i["id"]: i["priority_score"] for i in response.json()["items"]}


def _rule(value: Any, operator: str = "is", attribute: str = "country") -> dict[str, Any]:
    return {"attribute": attribute, "operator": operator, "value": value}


async def test_an_edit_changes_name_rules_and_match_and_members_scores_and_audit_follow(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Country", key="country")
    spain = await make_conversation(client, admin, channel, "es-1")
    portugal = await make_conversation(client, admin, channel, "pt-1")
    await _write(client, admin, spain["contact_id"], {"country": "ES"})
    await _write(client, admin, portugal["contact_id"], {"country": "PT"})
    created = await client.post(
        GROUPS, json={"name": "Spain", "rules": [_rule("es")]}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["enabled"] is True
    routing = await client.patch(
        "/api/v1/settings/routing",
        json={"prioritized_groups": [{"group": "spain", "weight": 4}]},
        headers=admin.headers,
    )
    assert routing.status_code == 200, routing.text
    scores = await _queue_scores(client, admin)
    assert scores[spain["conversation_id"]] == 4
    assert scores[portugal["conversation_id"]] == 0

    renamed = await client.patch(
        f"{GROUPS}/spain",
        json={"name": "Iberia", "match": "any", "rules": [_rule("es"), _rule("pt")]},
        headers=admin.headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {
        "key": "spain",
        "name": "Iberia",
        "match": "any",
        "rules": [
            {"attribute": "country", "operator": "is", "value": "es"},
            {"attribute": "country", "operator": "is", "value": "pt"},
        ],
        "builtin": False,
        "enabled": True,
    }
    assert await _members(client, admin, "spain") == {spain["contact_id"], portugal["contact_id"]}
    scores = await _queue_scores(client, admin)
    assert scores[portugal["conversation_id"]] == 4  # GroupRulesChanged: routing re-scored

    audit = await client.get("/api/v1/audit-events", headers=admin.headers)
    updates = [e for e in audit.json()["items"] if e["action"] == "contact_group.updated"]
    assert len(updates) == 1
    assert updates[0]["before"]["name"] == "Spain"
    assert updates[0]["after"]["name"] == "Iberia"


async def test_a_group_turned_off_has_no_members_and_routing_skips_it_until_on_again(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Country", key="country")
    team = await client.post("/api/v1/teams", json={"name": "Iberia"}, headers=admin.headers)
    team_id = team.json()["id"]
    first = await make_conversation(client, admin, channel, "es-1")
    await _write(client, admin, first["contact_id"], {"country": "ES"})
    body = {"name": "Spain", "rules": [_rule("es")]}
    assert (await client.post(GROUPS, json=body, headers=admin.headers)).status_code == 201
    await client.patch(
        "/api/v1/settings/routing",
        json={
            "group_routes": [{"group": "spain", "team_id": team_id}],
            "prioritized_groups": [{"group": "spain", "weight": 2}],
        },
        headers=admin.headers,
    )
    assert (await _queue_scores(client, admin))[first["conversation_id"]] == 2

    off = await client.patch(f"{GROUPS}/spain", json={"enabled": False}, headers=admin.headers)
    assert off.status_code == 200, off.text
    assert off.json()["enabled"] is False
    assert await _members(client, admin, "spain") == set()
    assert (await _queue_scores(client, admin))[first["conversation_id"]] == 0
    # New values do not bring members back while it is off, and routing skips it.
    second = await make_conversation(client, admin, channel, "es-2")
    await _write(client, admin, second["contact_id"], {"country": "es"})
    assert await _members(client, admin, "spain") == set()
    resolved = await client.patch(
        f"/api/v1/conversations/{first['conversation_id']}",
        json={"status": "resolved"},
        headers=admin.headers,
    )
    assert resolved.status_code == 200, resolved.text
    again = await make_conversation(client, admin, channel, "es-1")
    assert again["conversation_id"] != first["conversation_id"]
    landed = await client.get(
        f"/api/v1/conversations/{again['conversation_id']}", headers=admin.headers
    )
    assert landed.json()["team_id"] is None

    on = await client.patch(f"{GROUPS}/spain", json={"enabled": True}, headers=admin.headers)
    assert on.json()["enabled"] is True
    assert await _members(client, admin, "spain") == {first["contact_id"], second["contact_id"]}
    assert (await _queue_scores(client, admin))[again["conversation_id"]] == 2
    listed = (await client.get(GROUPS, headers=admin.headers)).json()
    assert [(g["key"], g["enabled"]) for g in listed] == [("vip", True), ("spain", True)]


async def test_an_edit_is_checked_like_a_new_group(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Country", key="country")
    await make_attribute(client, admin, label="Seats", key="seats", format="number")
    for name in ("Spain", "France"):
        body = {"name": name, "rules": [_rule(name.lower())]}
        assert (await client.post(GROUPS, json=body, headers=admin.headers)).status_code == 201

    empty = await client.patch(f"{GROUPS}/spain", json={"name": ""}, headers=admin.headers)
    assert empty.status_code == 422
    assert [e["field"] for e in empty.json()["errors"]] == ["name"]
    no_rules = await client.patch(f"{GROUPS}/spain", json={"rules": []}, headers=admin.headers)
    assert [e["field"] for e in no_rules.json()["errors"]] == ["rules"]
    bad = await client.patch(
        f"{GROUPS}/spain",
        json={"rules": [_rule("es"), _rule(None), _rule("many", "gt", "country")]},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["rules.1.value", "rules.2.operator"]
    assert bad.json()["errors"][0]["message"] == "Enter a value."
    assert "Country" in bad.json()["errors"][1]["message"]  # the label, not the key

    taken = await client.patch(f"{GROUPS}/spain", json={"name": "FRANCE"}, headers=admin.headers)
    assert taken.status_code == 409
    assert taken.json()["code"] == "group_name_taken"
    assert [e["field"] for e in taken.json()["errors"]] == ["name"]
    same = await client.patch(f"{GROUPS}/spain", json={"name": "SPAIN"}, headers=admin.headers)
    assert same.status_code == 200, same.text
    unchanged = (await client.get(f"{GROUPS}/spain", headers=admin.headers)).json()
    assert unchanged["rules"] == [_rule("spain")]
    builtin = await client.patch(f"{GROUPS}/vip", json={"enabled": False}, headers=admin.headers)
    assert builtin.status_code == 409


async def test_names_are_unique_and_keys_from_names_never_collide(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Country", key="country")

    async def post(name: str, **extra: Any) -> httpx.Response:
        body = {"name": name, "rules": [_rule("es")], **extra}
        return await client.post(GROUPS, json=body, headers=admin.headers)

    assert (await post("Spain")).json()["key"] == "spain"
    again = await post("spain")
    assert again.status_code == 409
    assert again.json()["errors"] == [
        {"field": "name", "message": "Another group is already called spain.", "type": "duplicate"}
    ]
    assert (await post("Spain!")).json()["key"] == "spain_2"
    assert (await post("VIP")).status_code == 409
    explicit = await post("Other", key="spain")
    assert explicit.status_code == 409
    assert [e["field"] for e in explicit.json()["errors"]] == ["key"]


async def test_messages_about_groups_and_routing_follow_the_readers_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Country", key="country")
    headers = {**admin.headers, **ES}
    bad = await client.post(
        GROUPS,
        json={"name": "G", "rules": [_rule(""), _rule("x", attribute="nope")]},
        headers=headers,
    )
    assert bad.status_code == 422
    messages = [e["message"] for e in bad.json()["errors"]]
    assert messages[0] == "Introduce un valor."
    assert "nope" in messages[1]
    assert "activo" in messages[1]
    assert bad.json()["code"] == "invalid_group_rules"
    missing = await client.get(f"{GROUPS}/nope", headers=headers)
    assert missing.json()["detail"] == "No se encontró el grupo de contactos."
    routing = await client.patch(
        "/api/v1/settings/routing", json={"fallback_team_id": "team_nope"}, headers=headers
    )
    assert routing.json()["errors"][0]["message"] == "Este equipo no existe."
    body = {"name": "Spain", "rules": [_rule("es")]}
    assert (await client.post(GROUPS, json=body, headers=headers)).status_code == 201
    await client.patch(
        "/api/v1/settings/routing", json={"prioritized_groups": ["spain"]}, headers=headers
    )
    in_use = await client.delete(f"{GROUPS}/spain", headers=headers)
    assert in_use.status_code == 409
    assert in_use.json()["code"] == "group_in_use"
    assert "Spain" in in_use.json()["detail"]
    assert "enrutamiento" in in_use.json()["detail"]

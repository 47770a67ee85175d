"""Conversations: filters, pagination, assignment, replies, 404s and bad input."""

from __future__ import annotations

import httpx

from builders import Actor, inbound_body, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.db import Database


async def _open(client: httpx.AsyncClient, admin: Actor, channel: str, sender: str) -> str:
    response = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=inbound_body(sender), headers=admin.headers
    )
    assert response.status_code == 201
    return str(response.json()["conversation_id"])


async def test_list_filters_and_paginates(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    sms = await make_channel(db, admin, "sms", "Texts")
    chat = await make_channel(db, admin, "webchat", "Site")
    ids = [await _open(client, admin, sms, f"+1415555010{i}") for i in range(3)]
    chat_id = await _open(client, admin, chat, "visitor")
    await client.patch(
        f"/api/v1/conversations/{ids[0]}",
        json={"status": "pending", "assignee_id": agent.user_id},
        headers=admin.headers,
    )
    get = lambda **p: client.get("/api/v1/conversations", params=p, headers=agent.headers)  # noqa: E731
    assert [c["id"] for c in (await get(channel_id=chat)).json()["items"]] == [chat_id]
    assert [c["id"] for c in (await get(status="pending")).json()["items"]] == [ids[0]]
    assert [c["id"] for c in (await get(assignee_id=agent.user_id)).json()["items"]] == [ids[0]]
    assert len((await get(status="new")).json()["items"]) == 3
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await get(**params)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([*ids, chat_id])
    assert seen == sorted(seen, reverse=True)


async def test_assign_team_and_unassign_are_events(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    team = await client.post(
        "/api/v1/teams",
        json={"name": "Tier 1", "member_ids": [agent.user_id]},
        headers=admin.headers,
    )
    channel = await make_channel(db, admin)
    url = f"/api/v1/conversations/{await _open(client, admin, channel, 'v')}"
    body = {"assignee_id": agent.user_id, "team_id": team.json()["id"]}
    assigned = await client.patch(url, json=body, headers=agent.headers)
    assert assigned.status_code == 200
    assert assigned.json()["assignee_id"] == agent.user_id
    assert assigned.json()["team_id"] == team.json()["id"]
    unassigned = await client.patch(url, json={"assignee_id": None}, headers=agent.headers)
    assert unassigned.json()["assignee_id"] is None
    kinds = [(e["kind"], e["to_value"]) for e in unassigned.json()["events"]]
    assert kinds == [("assignee", agent.user_id), ("team", team.json()["id"]), ("assignee", None)]


async def test_bad_and_foreign_references_are_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    other = await make_workspace(db, name="Other")
    stranger = await make_user(db, other.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    url = f"/api/v1/conversations/{await _open(client, admin, channel, 'v')}"
    bad_status = await client.patch(url, json={"status": "closed"}, headers=admin.headers)
    assert bad_status.status_code == 422
    assert bad_status.json()["errors"][0]["field"] == "status"
    foreign_user = await client.patch(
        url, json={"assignee_id": stranger.user_id}, headers=admin.headers
    )
    assert foreign_user.status_code == 404
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.get(f"{url}/messages", headers=stranger.headers)).status_code == 404
    reply = await client.post(f"{url}/messages", json={"text": "hi"}, headers=stranger.headers)
    assert reply.status_code == 404
    empty = await client.post(f"{url}/messages", json={"text": ""}, headers=admin.headers)
    assert empty.status_code == 422
    missing = await client.get("/api/v1/conversations/cv_missing", headers=admin.headers)
    assert missing.status_code == 404
    bad_cursor = await client.get(
        "/api/v1/conversations", params={"cursor": "@@"}, headers=admin.headers
    )
    assert bad_cursor.status_code == 422
    assert (await client.get("/api/v1/conversations")).status_code == 401


async def test_a_deactivated_person_cannot_be_assigned(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    url = f"/api/v1/conversations/{await _open(client, admin, channel, 'v')}"
    off = await client.patch(
        f"/api/v1/users/{agent.user_id}", json={"active": False}, headers=admin.headers
    )
    assert off.status_code == 200, off.text
    refused = await client.patch(url, json={"assignee_id": agent.user_id}, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "assignee_inactive"
    assert refused.json()["errors"][0]["field"] == "assignee_id"

"""Working views (R12.4): assignee me/none/<id>, list items, unread marks per agent, counts."""

from __future__ import annotations

from typing import Any

import httpx

from builders import (
    Actor,
    inbound_body,
    make_channel,
    make_conversation,
    make_integration,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role, TokenKind
from rolodex.db import Database


async def _list(client: httpx.AsyncClient, actor: Actor, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/conversations", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _counts(client: httpx.AsyncClient, actor: Actor) -> dict[str, int]:
    response = await client.get("/api/v1/conversations/counts", headers=actor.headers)
    assert response.status_code == 200, response.text
    counts: dict[str, int] = response.json()
    return counts


async def test_assignee_views(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    ana = await make_user(db, admin.workspace_id, Role.AGENT)
    ben = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    ids = [
        (await make_conversation(client, admin, channel, f"v{i}"))["conversation_id"]
        for i in range(3)
    ]
    for conversation, agent in ((ids[0], ana), (ids[1], ben)):
        assigned = await client.patch(
            f"/api/v1/conversations/{conversation}",
            json={"assignee_id": agent.user_id},
            headers=admin.headers,
        )
        assert assigned.status_code == 200
    assert [c["id"] for c in await _list(client, ana, assignee_id="me")] == [ids[0]]
    assert [c["id"] for c in await _list(client, ben, assignee_id="me")] == [ids[1]]
    assert [c["id"] for c in await _list(client, ana, assignee_id="none")] == [ids[2]]
    assert [c["id"] for c in await _list(client, ana, assignee_id=ben.user_id)] == [ids[1]]
    assert len(await _list(client, ana)) == 3
    bot = await make_integration(db, admin.workspace_id, TokenKind.BOT)
    refused = await client.get(
        "/api/v1/conversations", params={"assignee_id": "me"}, headers=bot.headers
    )
    assert refused.status_code == 422
    assert await _counts(client, ana) == {
        "waiting": 2,  # hers and the unassigned one
        "mine_new": 1,
        "unassigned_new": 1,
        "mine_unread": 1,
    }


async def test_items_and_unread_per_agent(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    ana = await make_user(db, admin.workspace_id, Role.AGENT)
    ben = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    sent = await make_conversation(client, admin, channel, "v1")
    url = f"/api/v1/conversations/{sent['conversation_id']}"
    [item] = await _list(client, ana)
    assert item["unread"] is True
    assert item["vip"] is False
    assert item["last_message"]["text"] == "Hello"
    assert item["last_message"]["direction"] == "inbound"
    assert "version" in item
    # Ana reads it: read for her, still unread for Ben.
    read = await client.post(f"{url}/read", headers=ana.headers)
    assert read.status_code == 204
    assert (await _list(client, ana))[0]["unread"] is False
    assert (await _list(client, ben))[0]["unread"] is True
    # A new inbound message: unread again for Ana.
    await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body("v1", text="x" * 300),
        headers=admin.headers,
    )
    [item] = await _list(client, ana)
    assert item["unread"] is True
    assert item["last_message"]["text"] == "x" * 200
    await client.post(f"{url}/read", headers=ana.headers)
    # Her own reply makes the last message outbound: not unread for anyone.
    await client.post(f"{url}/messages", json={"text": "On it"}, headers=ana.headers)
    assert (await _list(client, ben))[0]["unread"] is False
    # Marking read is for people; a foreign conversation is 404.
    bot = await make_integration(db, admin.workspace_id, TokenKind.BOT)
    assert (await client.post(f"{url}/read", headers=bot.headers)).status_code == 403
    other = await make_workspace(db, name="Other")
    assert (await client.post(f"{url}/read", headers=other.headers)).status_code == 404


async def test_counts_follow_assignment_and_reads(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    ana = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    first = (await make_conversation(client, admin, channel, "v1"))["conversation_id"]
    await make_conversation(client, admin, channel, "v2")
    assert await _counts(client, ana) == {
        "waiting": 2,
        "mine_new": 0,
        "unassigned_new": 2,
        "mine_unread": 0,
    }
    await client.patch(
        f"/api/v1/conversations/{first}", json={"assignee_id": ana.user_id}, headers=admin.headers
    )
    assert (await _counts(client, ana))["mine_unread"] == 1
    await client.post(f"/api/v1/conversations/{first}/read", headers=ana.headers)
    assert await _counts(client, ana) == {
        "waiting": 2,
        "mine_new": 1,
        "unassigned_new": 1,
        "mine_unread": 0,
    }
    await client.patch(
        f"/api/v1/conversations/{first}", json={"status": "resolved"}, headers=ana.headers
    )
    assert (await _counts(client, ana))["waiting"] == 1
    # Another workspace sees none of it.
    other = await make_workspace(db, name="Other")
    assert set((await _counts(client, other)).values()) == {0}

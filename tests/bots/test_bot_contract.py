"""The virtual-agent contract (SPEC "Compatibility", R13.2 and R13.3) against a programmable bot on
loopback: who holds a conversation, the signed events, the actions (answer and REST, current
and former paths), uploads, retries then hand-over, the response timeout, delegation."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from builders import Actor, inbound_body, make_attribute, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import Job
from rolodex.worker import Worker
from support.bot import Bot


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Test settings with loopback targets allowed (the bot runs on 127.0.0.1)."""
    return settings.model_copy(update={"allow_private_webhook_targets": True})


async def _run_jobs(settings: Settings, db: Database) -> int:
    return await Worker(db, settings).run_until_idle()


async def _register(
    client: httpx.AsyncClient, admin: Actor, bot: Bot, channel_id: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "name": "Concierge",
        "webhook_url": bot.url,
        "activation": "inception",
        "channel_ids": [channel_id],
        **extra,
    }
    response = await client.post("/api/v1/bots", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _token(client: httpx.AsyncClient, admin: Actor, bot_id: str) -> dict[str, str]:
    credentials = (
        await client.post(f"/api/v1/bots/{bot_id}/credentials", headers=admin.headers)
    ).json()
    pair = f"{credentials['client_id']}:{credentials['client_secret']}".encode()
    basic = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    token = await client.post(
        "/virtual-agent/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "client-read"},
        headers=basic,
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _inbound(
    client: httpx.AsyncClient, admin: Actor, channel_id: str, sender: str, text: str
) -> dict[str, str]:
    response = await client.post(
        f"/api/v1/channels/{channel_id}/inbound",
        json=inbound_body(sender, text=text),
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    result: dict[str, str] = response.json()
    return result


async def _conversation(client: httpx.AsyncClient, actor: Actor, cid: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/conversations/{cid}", headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _messages(client: httpx.AsyncClient, actor: Actor, cid: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/conversations/{cid}/messages", headers=actor.headers)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_inception_bot_holds_new_conversations_and_acts_on_its_answers(
    db: Database, client: httpx.AsyncClient, settings: Settings, bot_server: Bot
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "webchat", "Chat")
    await make_attribute(client, admin, label="Order number", key="order_number")
    topic = await client.post(
        "/api/v1/labels", json={"kind": "topic", "name": "Orders"}, headers=admin.headers
    )
    assert topic.status_code == 201, topic.text
    registered = await _register(client, admin, bot_server, channel_id)
    bot_server.answers = [
        (200, {"sendMessage": {"text": "Hi! Your order number?"}}),
        (
            200,
            {
                "sendMessage": None,
                "setContactAttributes": {"order_number": "A-12345", "nope": "x"},
                "applyConversationNotes": ["Order number given"],
                "applyTopics": ["orders", "unknown topic"],
                "sendMessages": [{"text": "Noted A-12345."}],
                "complete": None,
            },
        ),
    ]

    first = await _inbound(client, admin, channel_id, "visitor-1", "my order A-12345")
    cid = first["conversation_id"]
    held = await _conversation(client, admin, cid)
    assert (held["bot_id"], held["bot_name"], held["assignee_id"]) == (
        registered["id"],
        "Concierge VA",
        None,
    )
    # Held by the bot: not in Unassigned, not waiting for anyone.
    unassigned = await client.get(
        "/api/v1/conversations", params={"assignee_id": "none"}, headers=admin.headers
    )
    assert cid not in [c["id"] for c in unassigned.json()["items"]]
    counts = (await client.get("/api/v1/conversations/counts", headers=admin.headers)).json()
    assert counts["waiting"] == 0

    await _run_jobs(settings, db)
    assert bot_server.types() == ["CONVERSATION_STARTED", "INBOUND_MESSAGE_RECEIVED"]
    started = bot_server.received[0]
    # Signed with the hex-decoded secret, checked here with the standard library only.
    expected = hmac.new(
        bytes.fromhex(registered["secret"]), started["body"], hashlib.sha256
    ).hexdigest()
    assert started["headers"]["x-sparkcentral-signature"] == expected
    assert started["headers"]["x-hootsuite-signature"] == expected
    envelope = started["json"]
    assert envelope["version"] == 1
    assert envelope["idempotencyKey"]
    assert envelope["timestamp"]
    data = envelope["data"]
    assert data["conversationId"] == cid
    assert data["medium"] == {"id": "rtm"}
    assert data["channel"] == {"id": channel_id, "name": "Chat"}
    assert data["contactProfile"]["vip"] is False
    assert data["contactProfile"]["mediumContactProfileId"] == "visitor-1"
    inbound = bot_server.received[1]["json"]["data"]
    assert inbound["message"]["text"] == "my order A-12345"
    assert inbound["message"]["messageId"] == first["message_id"]

    messages = await _messages(client, admin, cid)
    bot_messages = [m for m in messages if m["author_kind"] == "bot"]
    assert [(m["text"], m["internal"]) for m in bot_messages] == [
        ("Hi! Your order number?", False),
        ("Order number given", True),
        ("Noted A-12345.", False),
    ]
    assert bot_messages[0]["author"] == {
        "kind": "bot",
        "id": registered["id"],
        "name": "Concierge VA",
    }
    history = await client.get(
        f"/api/v1/contacts/{first['contact_id']}/history",
        params={"key": "order_number"},
        headers=admin.headers,
    )
    assert [(h["new_value"], h["source"]) for h in history.json()["items"]] == [("A-12345", "bot")]
    detail = await _conversation(client, admin, cid)
    assert detail["labels"] == [{"kind": "topic", "name": "Orders"}]
    log = (await client.get(f"/api/v1/bots/{registered['id']}/log", headers=admin.headers)).json()[
        "items"
    ]
    assert {(e["direction"], e["type"], e["outcome"]) for e in log} >= {
        ("event", "CONVERSATION_STARTED", "ok"),
        ("action", "setContactAttributes", "ok"),
        ("action", "setContactAttributes", "failed"),
    }

    # Over REST (the former path), with nulls: a set value is never overwritten.
    headers = await _token(client, admin, registered["id"])
    acted = await client.post(
        f"/virtual-agent/conversations/{cid}",
        json={"sendMessage": None, "setContactAttributes": {"order_number": "B-999"}},
        headers=headers,
    )
    assert acted.status_code == 200, acted.text
    assert acted.json()["results"][0]["outcome"] == "ignored"
    contact = await client.get(f"/api/v1/contacts/{first['contact_id']}", headers=admin.headers)
    assert contact.json()["attributes"]["order_number"] == "A-12345"

    # An upload, then a message with it (the current path).
    put = await client.put(
        f"/inbox/v1/virtual-agent/conversations/{cid}/attachments/receipt.pdf",
        content=b"%PDF-1.4 receipt",
        headers={**headers, "Content-Type": "application/pdf"},
    )
    assert put.status_code == 200, put.text
    bad_name = await client.put(
        f"/inbox/v1/virtual-agent/conversations/{cid}/attachments/a%20b.pdf",
        content=b"x",
        headers=headers,
    )
    assert bad_name.status_code == 422
    missing = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}",
        json={"sendMessage": {"text": "Here", "attachment": "nope.pdf"}},
        headers=headers,
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "sendMessage.attachment"
    sent = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}",
        json={"sendMessage": {"text": "Your receipt", "attachment": "receipt.pdf"}},
        headers=headers,
    )
    assert sent.status_code == 200, sent.text
    last = (await _messages(client, admin, cid))[-1]
    assert last["text"] == "Your receipt"
    assert [(a["filename"], a["content_type"], a["size"]) for a in last["attachments"]] == [
        ("receipt.pdf", "application/pdf", len(b"%PDF-1.4 receipt"))
    ]

    # "complete": RESOLVED; the CRM's write-back carries the notes and topics.
    crm = await client.put(
        "/api/v1/integrations/crm",
        json={"lookup_url": bot_server.url, "write_back_url": bot_server.url},
        headers=admin.headers,
    )
    assert crm.status_code == 200, crm.text
    done = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}",
        json={"complete": "RESOLVED"},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    resolved = await _conversation(client, admin, cid)
    assert (resolved["status"], resolved["bot_id"]) == ("resolved", None)
    async with db.reader() as session:
        (write_back,) = (
            await session.execute(select(Job.payload).where(Job.kind == "crm.write_back"))
        ).scalars()
    data = write_back["body"]["data"]
    assert (data["notes"], data["topics"]) == (["Order number given"], ["Orders"])
    assert "Order number given" not in [m["text"] for m in data["messages"]]
    # No longer held: 404 on both paths.
    for path in (
        f"/virtual-agent/conversations/{cid}",
        f"/inbox/v1/virtual-agent/conversations/{cid}",
    ):
        gone = await client.post(path, json={"sendMessage": {"text": "x"}}, headers=headers)
        assert gone.status_code == 404


async def test_another_bots_token_gets_404_and_agents_take_conversations_back(
    db: Database, client: httpx.AsyncClient, settings: Settings, bot_server: Bot
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel_id = await make_channel(db, admin, "webchat", "Chat")
    holder = await _register(client, admin, bot_server, channel_id)
    other = await _register(client, admin, bot_server, channel_id, activation="delegation")
    cid = (await _inbound(client, admin, channel_id, "v-2", "hello"))["conversation_id"]
    others = await _token(client, admin, other["id"])
    refused = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}",
        json={"sendMessage": {"text": "mine now"}},
        headers=others,
    )
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_held"
    user_token = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}", json={}, headers=agent.headers
    )
    assert user_token.status_code == 404

    taken = await client.patch(
        f"/api/v1/conversations/{cid}", json={"assignee_id": agent.user_id}, headers=agent.headers
    )
    assert taken.status_code == 200, taken.text
    assert (taken.json()["bot_id"], taken.json()["assignee_id"]) == (None, agent.user_id)
    mine = await _token(client, admin, holder["id"])
    late = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}", json={"complete": "RESOLVED"}, headers=mine
    )
    assert late.status_code == 404

    # The agent hands it to the delegation bot, which is told; HANDOVER gives it back
    # (handoff previous_agent).
    await client.patch(
        f"/api/v1/bots/{other['id']}", json={"handoff": "previous_agent"}, headers=admin.headers
    )
    bot_server.received.clear()
    delegated = await client.post(
        f"/api/v1/conversations/{cid}/delegate", json={"bot_id": other["id"]}, headers=agent.headers
    )
    assert delegated.status_code == 200, delegated.text
    assert (delegated.json()["bot_id"], delegated.json()["assignee_id"]) == (other["id"], None)
    bot_server.answers = [(200, {"complete": "HANDOVER"})]
    await _run_jobs(settings, db)
    assert bot_server.types() == ["CONVERSATION_DELEGATED"]
    back = await _conversation(client, agent, cid)
    assert (back["bot_id"], back["assignee_id"], back["status"]) == (None, agent.user_id, "new")

    unknown = await client.post(
        f"/api/v1/conversations/{cid}/delegate", json={"bot_id": "bot_nope"}, headers=agent.headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "bot_id"
    # Resolving a conversation a bot holds takes it from the bot too.
    fresh = (await _inbound(client, admin, channel_id, "v-5", "hi"))["conversation_id"]
    assert (await _conversation(client, agent, fresh))["bot_id"] == holder["id"]
    closed = await client.patch(
        f"/api/v1/conversations/{fresh}", json={"status": "resolved"}, headers=agent.headers
    )
    assert (closed.json()["status"], closed.json()["bot_id"]) == ("resolved", None)

    directory = await client.get("/api/v1/bots/directory", headers=agent.headers)
    assert {b["display_name"] for b in directory.json()["items"]} == {"Concierge VA"}


async def test_a_bot_that_is_down_is_retried_three_times_then_hands_over(
    db: Database, client: httpx.AsyncClient, settings: Settings, bot_server: Bot
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "webchat", "Chat")
    await _register(client, admin, bot_server, channel_id, on_error="resolved")
    bot_server.default = (503, {"error": "down"})
    cid = (await _inbound(client, admin, channel_id, "v-3", "hello"))["conversation_id"]
    for _ in range(40):
        await _run_jobs(settings, db)
        if len(bot_server.received) >= 4:
            break
        await asyncio.sleep(0.5)
    await _run_jobs(settings, db)
    assert bot_server.types() == ["CONVERSATION_STARTED"] * 4
    handed = await _conversation(client, admin, cid)
    assert (handed["bot_id"], handed["status"]) == (None, "resolved")
    # Each attempt carried the same idempotency key.
    assert len({r["json"]["idempotencyKey"] for r in bot_server.received}) == 1


async def test_a_silent_bot_hands_over_after_its_timeout(
    db: Database, client: httpx.AsyncClient, settings: Settings, bot_server: Bot
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "webchat", "Chat")
    await _register(client, admin, bot_server, channel_id, response_timeout_seconds=1)
    cid = (await _inbound(client, admin, channel_id, "v-4", "hello"))["conversation_id"]
    await _run_jobs(settings, db)
    assert (await _conversation(client, admin, cid))["bot_id"] is not None
    await asyncio.sleep(1.2)
    await _run_jobs(settings, db)
    handed = await _conversation(client, admin, cid)
    assert (handed["bot_id"], handed["status"]) == (None, "new")
    assert any(e["kind"] == "bot" and e["reason"] == "bot_timeout" for e in handed["events"]), (
        handed["events"]
    )

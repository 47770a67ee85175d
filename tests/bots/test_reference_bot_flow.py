"""Issue 21's flow with the reference bot as a real process: a web chat visitor is greeted by
the inception bot, gives an order number (stored with source `bot`, never overwritten), says
thanks (resolved); a VIP visitor is handed over at once and is first in the new queue (R4.3)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from builders import Actor, make_attribute, make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.webchat import api as webchat_api
from rolodex.worker import Worker
from support.reference_bot import ReferenceBot
from support.reference_bot import reference_bot as reference_bot


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Test settings with loopback targets allowed (the bot runs on 127.0.0.1)."""
    return settings.model_copy(update={"allow_private_webhook_targets": True})


@pytest.fixture(autouse=True)
async def _fresh_rate_limits() -> None:
    await webchat_api.reset_limits()


class Visitor:
    """A web chat visitor through the public API, as the widget calls it."""

    def __init__(self, client: httpx.AsyncClient, channel_id: str, created: dict[str, Any]):
        self.client = client
        self.base = f"/public/v1/webchat/{channel_id}"
        self.contact_id = str(created["contact_id"])
        self.auth = {"Authorization": f"Bearer {created['session_token']}"}

    async def say(self, text: str) -> None:
        sent = await self.client.post(
            f"{self.base}/messages", json={"text": text}, headers=self.auth
        )
        assert sent.status_code == 201, sent.text

    async def seen(self) -> list[tuple[str, str]]:
        listed = await self.client.get(f"{self.base}/messages", headers=self.auth)
        assert listed.status_code == 200, listed.text
        return [(m["author"]["kind"], m["text"]) for m in listed.json()["items"]]


async def _visitor(client: httpx.AsyncClient, channel_id: str, **fields: Any) -> Visitor:
    created = await client.post(f"/public/v1/webchat/{channel_id}/sessions", json=fields)
    assert created.status_code == 201, created.text
    return Visitor(client, channel_id, created.json())


async def _setup(
    client: httpx.AsyncClient, db: Database, reference_bot: ReferenceBot
) -> tuple[Actor, str, dict[str, Any]]:
    admin = await make_workspace(db)
    connection = {"provider": "widget", "allowed_origins": ["https://shop.example"]}
    channel = await client.post(
        "/api/v1/channels",
        json={"medium": "webchat", "name": "Shop chat", "connection": connection},
        headers=admin.headers,
    )
    assert channel.status_code == 201, channel.text
    channel_id = channel.json()["id"]
    await make_attribute(client, admin, label="Order number", key="order_number")
    routing = await client.patch(
        "/api/v1/settings/routing",
        json={"prioritized_groups": [{"group": "vip", "weight": 5}]},
        headers=admin.headers,
    )
    assert routing.status_code == 200, routing.text
    body = {
        "name": "Shop assistant",
        "webhook_url": reference_bot.url,
        "activation": "inception",
        "channel_ids": [channel_id],
    }
    bot = await client.post("/api/v1/bots", json=body, headers=admin.headers)
    assert bot.status_code == 201, bot.text
    reference_bot.use_secret(bot.json()["secret"])
    return admin, channel_id, bot.json()


async def _conversation(client: httpx.AsyncClient, admin: Actor, contact_id: str) -> dict[str, Any]:
    listed = await client.get(
        "/api/v1/conversations", params={"contact_id": contact_id}, headers=admin.headers
    )
    items: list[dict[str, Any]] = listed.json()["items"]
    assert len(items) == 1, items
    return items[0]


async def test_the_reference_bot_greets_stores_the_order_and_resolves(
    db: Database, client: httpx.AsyncClient, settings: Settings, reference_bot: ReferenceBot
) -> None:
    admin, channel_id, bot = await _setup(client, db, reference_bot)
    worker = Worker(db, settings)
    ana = await _visitor(client, channel_id, first_name="Ana")
    await ana.say("Hello")
    assert (await _conversation(client, admin, ana.contact_id))["bot_name"] == "Shop assistant VA"
    await worker.run_until_idle()

    # The event was signed with the bot's secret: checked with the standard library alone.
    started = reference_bot.events()[0]
    assert started["type"] == "CONVERSATION_STARTED"
    expected = hmac.new(
        bytes.fromhex(bot["secret"]), started["body"].encode(), hashlib.sha256
    ).hexdigest()
    assert started["headers"]["x-sparkcentral-signature"] == expected
    assert started["headers"]["x-hootsuite-signature"] == expected
    assert json.loads(started["body"])["data"]["contactProfile"]["vip"] is False
    seen = await ana.seen()
    assert seen[0] == ("contact", "Hello")
    assert seen[1][0] == "bot"
    assert "order number" in seen[1][1]

    await ana.say("It is A-12345")
    await worker.run_until_idle()
    history = await client.get(
        f"/api/v1/contacts/{ana.contact_id}/history",
        params={"key": "order_number"},
        headers=admin.headers,
    )
    assert [(h["new_value"], h["source"]) for h in history.json()["items"]] == [("A-12345", "bot")]
    assert any("A-12345" in text for kind, text in await ana.seen() if kind == "bot")

    # A second number never overwrites the first.
    await ana.say("Sorry, it is B-99999")
    await worker.run_until_idle()
    contact = await client.get(f"/api/v1/contacts/{ana.contact_id}", headers=admin.headers)
    assert contact.json()["attributes"]["order_number"] == "A-12345"
    log = await client.get(f"/api/v1/bots/{bot['id']}/log", headers=admin.headers)
    assert ("setContactAttributes", "ignored") in {
        (e["type"], e["outcome"]) for e in log.json()["items"]
    }
    # The bot's internal notes are the team's: the visitor never sees them.
    messages = await client.get(
        f"/api/v1/conversations/{(await _conversation(client, admin, ana.contact_id))['id']}"
        "/messages",
        headers=admin.headers,
    )
    notes = [m["text"] for m in messages.json()["items"] if m["internal"]]
    assert notes
    assert not any(text in notes for _, text in await ana.seen())

    await ana.say("Thanks!")
    await worker.run_until_idle()
    done = await _conversation(client, admin, ana.contact_id)
    assert (done["status"], done["bot_id"]) == ("resolved", None)


async def test_a_vip_visitor_is_handed_over_at_once_and_leads_the_queue(
    db: Database, client: httpx.AsyncClient, settings: Settings, reference_bot: ReferenceBot
) -> None:
    admin, channel_id, _bot = await _setup(client, db, reference_bot)
    worker = Worker(db, settings)
    # Someone asks for a person first: handed over, in the queue.
    ben = await _visitor(client, channel_id, first_name="Ben")
    await ben.say("Hi")
    await worker.run_until_idle()
    await ben.say("I want to talk to a person")
    await worker.run_until_idle()
    assert (await _conversation(client, admin, ben.contact_id))["bot_id"] is None

    vip = await _visitor(client, channel_id, first_name="Vera")
    marked = await client.patch(
        f"/api/v1/contacts/{vip.contact_id}/attributes",
        json={"attributes": {"vip": True}},
        headers=admin.headers,
    )
    assert marked.status_code == 200, marked.text
    await vip.say("Hello")
    await worker.run_until_idle()
    # Handed over on CONVERSATION_STARTED: the bot is not sent the message itself.
    last = reference_bot.events()[-1]
    assert last["type"] == "CONVERSATION_STARTED"
    assert json.loads(last["body"])["data"]["contactProfile"]["vip"] is True
    vera = await _conversation(client, admin, vip.contact_id)
    assert (vera["bot_id"], vera["status"]) == (None, "new")
    queue = await client.get("/api/v1/queue", headers=admin.headers)
    order = [item["contact_id"] for item in queue.json()["items"]]
    assert order == [vip.contact_id, ben.contact_id]

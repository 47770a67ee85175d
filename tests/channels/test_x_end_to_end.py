"""X direct messages end to end: a real `rolodex serve` and the platform simulator as separate
processes on loopback, the CRC check and signed Account Activity posts on the real webhook
URL, and replies through the v2 DM endpoint (issue 19)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from builders import make_workspace
from rolodex.db import Database
from support.e2e import Api, eventually
from support.live import LiveRolodex
from support.platform_simulator import PlatformSimulator

pytestmark = pytest.mark.slow
USER = {
    "id": "3001969357",
    "screen_name": "furiouscamper",
    "name": "Jordan Brinks",
    "followers_count": 22,
    "description": "Opinions are my own",
    "location": "Boulder, CO",
}
ACCOUNTS = {"1100000001": "secret-one", "1100000002": "secret-two"}


def _connect(api: Api, sim: PlatformSimulator, user_id: str, name: str) -> dict[str, Any]:
    secret, token = ACCOUNTS[user_id], f"token-{user_id}"
    connection = {
        "provider": "x",
        "account_user_id": user_id,
        "consumer_secret": secret,
        "access_token": token,
        "api_url": sim.url,
    }
    channel: dict[str, Any] = api(
        "POST",
        "/api/v1/channels",
        json={"medium": "twitter", "name": name, "connection": connection},
    )
    # As the admin does in X's developer portal: the webhook registered, CRC-checked.
    sim.x_account(
        user_id=user_id,
        username=name.lower(),
        consumer_secret=secret,
        access_token=token,
        webhook_url=channel["webhook_url"],
        crc=True,
    )
    return channel


async def _api(db: Database, rolodex: LiveRolodex) -> Api:
    admin = await make_workspace(db)
    return Api(rolodex.url, admin.token)


async def test_crc_through_the_real_route(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """The CRC answer equals the HMAC computed here, and X's own check passes."""
    api = await _api(db, rolodex)
    channel = _connect(api, simulator, "1100000001", "Acme")
    answer = api.http.get(channel["webhook_url"], params={"crc_token": "tok-123"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    digest = hmac.new(b"secret-one", b"tok-123", hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    assert answer.json() == {"response_token": expected}
    assert simulator.x_crc("1100000001")["ok"] is True
    assert channel["connection"]["api_url"] == simulator.url
    assert channel["connection"]["consumer_secret_set"] is True
    assert "consumer_secret" not in channel["connection"]
    tested = api("POST", f"/api/v1/channels/{channel['id']}/connection/test")
    assert tested == {"ok": True, "account": "@acme", "error": None}


async def test_one_contact_across_x_channels_echo_media_and_reply(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """A user writing to two X accounts is one contact; echoes are outbound; replies go out."""
    api = await _api(db, rolodex)
    first = _connect(api, simulator, "1100000001", "Acme")
    second = _connect(api, simulator, "1100000002", "AcmeHelp")
    assert simulator.x_dm(account_id="1100000001", user=USER, text="Hi there")["status"] == 200
    assert simulator.x_dm(account_id="1100000002", user=USER, text="Hello?")["status"] == 200
    conversations = eventually(lambda: len(api.conversations()) == 2 and api.conversations())
    assert {c["channel_id"] for c in conversations} == {first["id"], second["id"]}
    assert len({c["contact_id"] for c in conversations}) == 1
    contacts = api("GET", "/api/v1/contacts")["items"]
    assert len(contacts) == 1
    contact = api("GET", f"/api/v1/contacts/{contacts[0]['id']}")
    assert contact["attributes"]["twitter-user-id"] == USER["id"]
    assert contact["attributes"]["twitter-handle"] == "furiouscamper"
    assert contact["attributes"]["twitter-name"] == "Jordan Brinks"
    assert str(contact["attributes"]["twitter-followers"]) == "22"  # numbers read as text
    assert contact["attributes"]["twitter-bio"] == "Opinions are my own"
    assert contact["attributes"]["twitter-location"] == "Boulder, CO"

    conversation = next(c for c in conversations if c["channel_id"] == first["id"])
    simulator.x_dm(account_id="1100000001", user=USER, text="From the X app", echo=True)
    echo = eventually(
        lambda: [m for m in api.messages(conversation["id"]) if m["direction"] == "outbound"]
    )[0]
    assert echo["text"] == "From the X app"
    assert echo["author"]["kind"] == "system"
    assert len(api("GET", "/api/v1/contacts")["items"]) == 1

    simulator.x_dm(account_id="1100000001", user=USER, text="the receipt", media=True)
    image = eventually(
        lambda: [
            m
            for m in api.messages(conversation["id"])
            if m["attachments"] and m["attachments"][0]["status"] == "stored"
        ]
    )[0]
    assert image["text"] == "the receipt"
    assert image["attachments"][0]["content_type"] == "image/png"
    [fetch] = simulator.requests(path_contains="/x-media/")
    assert {k.lower(): v for k, v in fetch["headers"].items()}["authorization"] == (
        "Bearer token-1100000001"
    )

    reply = api(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "On it!"}
    )
    assert reply["delivery"]["status"] == "queued"
    sends = eventually(lambda: simulator.requests(path_contains="/2/dm_conversations/"))
    assert len(sends) == 1
    assert sends[0]["method"] == "POST"
    assert sends[0]["path"] == f"/2/dm_conversations/with/{USER['id']}/messages"
    headers = {k.lower(): v for k, v in sends[0]["headers"].items()}
    assert headers["authorization"] == "Bearer token-1100000001"
    assert sends[0]["json"] == {"text": "On it!"}

    def delivery() -> dict[str, Any]:
        found = next(m for m in api.messages(conversation["id"]) if m["id"] == reply["id"])
        result: dict[str, Any] = found["delivery"]
        return result

    sent = eventually(lambda: delivery()["status"] == "sent" and delivery())
    assert sent["provider_message_id"] == simulator.x_sent()[0]["dm_event_id"]

    # Rate limited twice: retried on the job's backoff, then sent once.
    simulator.x_fail(account_id="1100000001", status=429, times=2)
    again = api("POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "+"})
    eventually(
        lambda: (
            next(m for m in api.messages(conversation["id"]) if m["id"] == again["id"])["delivery"][
                "status"
            ]
            == "sent"
        )
    )
    statuses = [r["status"] for r in simulator.requests(path_contains="/2/dm_conversations/")]
    assert statuses == [201, 429, 429, 201]

    simulator.x_fail(account_id="1100000001", status=403, title="You cannot send messages")
    late = api("POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "?"})

    def late_delivery() -> dict[str, Any] | None:
        found = next(m for m in api.messages(conversation["id"]) if m["id"] == late["id"])
        result: dict[str, Any] = found["delivery"]
        return result if result["status"] == "failed" else None

    failed = eventually(late_delivery)
    assert failed["error"]["code"] == "http_403"
    assert "cannot send" in failed["error"]["title"]


async def test_bad_signature_is_refused_and_nothing_stored(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """A delivery signed with another secret: 401, no event, no contact."""
    api = await _api(db, rolodex)
    channel = _connect(api, simulator, "1100000001", "Acme")
    entry = simulator.x_dm(account_id="1100000001", user=USER, text="Hi", sign="wrong")
    assert entry["status"] == 401
    assert json.loads(entry["response"])["code"] == "bad_signature"
    unsigned = simulator.x_dm(account_id="1100000001", user=USER, text="Hi", sign=False)
    assert unsigned["status"] == 401
    events = api("GET", f"/api/v1/channels/{channel['id']}/webhook-events")["items"]
    assert events == []
    assert api("GET", "/api/v1/contacts")["items"] == []

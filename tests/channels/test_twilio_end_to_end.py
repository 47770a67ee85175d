"""Twilio SMS end to end: a real `rolodex serve` and the platform simulator
(examples/platform_simulator) as separate processes on loopback, real X-Twilio-Signature
over the real webhook URL, Basic-auth REST calls and status callbacks (R11, issue 19)."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from builders import make_workspace
from rolodex.db import Database
from support.e2e import Api, eventually
from support.live import LiveRolodex
from support.platform_simulator import PlatformSimulator

pytestmark = pytest.mark.slow
SID = "AC" + "5a1b" * 8
TOKEN = "twilio-secret-token"
NUMBER = "+15005550006"
CUSTOMER = "+34600111222"


async def _connected(
    db: Database, rolodex: LiveRolodex, sim: PlatformSimulator
) -> tuple[Api, dict[str, Any]]:
    admin = await make_workspace(db)
    api = Api(rolodex.url, admin.token)
    connection = {
        "provider": "twilio",
        "account_sid": SID,
        "auth_token": TOKEN,
        "from_number": NUMBER,
        "api_url": sim.url,
    }
    channel: dict[str, Any] = api(
        "POST", "/api/v1/channels", json={"medium": "sms", "name": "SMS", "connection": connection}
    )
    assert channel["connection"]["auth_token_set"] is True
    assert "auth_token" not in channel["connection"]
    # As the admin does in Twilio's console: the number's messaging webhook is this URL.
    sim.twilio(
        "accounts",
        {
            "account_sid": SID,
            "auth_token": TOKEN,
            "from_number": NUMBER,
            "webhook_url": channel["webhook_url"],
        },
    )
    return api, channel


async def test_sms_in_mms_reply_statuses_and_opt_out(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """Signed SMS → contact, conversation, message; MMS with two images; a reply in Twilio's
    shape with its statuses; 21610 fails at once with its reason."""
    api, channel = await _connected(db, rolodex, simulator)
    posted = simulator.twilio("inbound", {"from": CUSTOMER, "body": "Hi, where is my order?"})
    assert posted["status"] == 200
    assert posted["response"].strip() == "<Response/>"
    conversation = eventually(lambda: api.conversations())[0]
    contact = api("GET", f"/api/v1/contacts/{conversation['contact_id']}")
    assert contact["attributes"]["sms-phone"] == CUSTOMER
    assert contact["channel_id"] == channel["id"]
    [first] = api.messages(conversation["id"])
    assert first["text"] == "Hi, where is my order?"
    assert first["direction"] == "inbound"

    # An MMS with two images: both downloaded by the job, with the account's Basic auth.
    simulator.twilio("inbound", {"from": CUSTOMER, "body": "photos", "media": 2})

    def stored_images() -> list[dict[str, Any]]:
        found = [m for m in api.messages(conversation["id"]) if m["text"] == "photos"]
        files = found[0]["attachments"] if found else []
        return files if len(files) == 2 and all(a["status"] == "stored" for a in files) else []

    images = eventually(stored_images)
    assert all(a["size"] > 0 and a["content_type"] == "image/png" for a in images)
    downloads = simulator.requests(path_contains="/Media/")
    assert len(downloads) == 2
    assert all(r["status"] == 200 for r in downloads)

    # The agent answers: Twilio's Messages resource, form-encoded, Basic auth, StatusCallback.
    reply = api(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "On its way!"}
    )
    assert reply["delivery"]["status"] == "queued"
    sends = eventually(lambda: simulator.requests(path_contains="/Messages.json"))
    assert len(sends) == 1
    send = sends[0]
    assert (send["method"], send["path"]) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json")
    headers = {k.lower(): v for k, v in send["headers"].items()}
    assert (
        headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert send["status"] == 201
    fields = dict(send["twilio"]["fields"])
    assert fields == {
        "To": CUSTOMER,
        "From": NUMBER,
        "Body": "On its way!",
        "StatusCallback": channel["webhook_url"],
    }
    # The simulator's status callbacks (sent, then delivered) move the reply on.
    delivered = eventually(
        lambda: (
            api.delivery(conversation["id"], reply["id"])["status"] == "delivered"
            and api.delivery(conversation["id"], reply["id"])
        )
    )
    assert delivered["provider_message_id"].startswith("SM")
    callbacks = [w for w in simulator.twilio("webhooks")["items"] if w["kind"] == "status"]
    assert [dict(w["fields"])["MessageStatus"] for w in callbacks] == ["sent", "delivered"]
    assert all(w["status"] == 200 for w in callbacks)

    # The customer sent STOP: Twilio refuses with 21610, the reply fails at once, plainly.
    simulator.twilio("fail", {"code": 21610})
    late = api(
        "POST",
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Still there?"},
    )
    failed = eventually(
        lambda: (
            api.delivery(conversation["id"], late["id"])["status"] == "failed"
            and api.delivery(conversation["id"], late["id"])
        )
    )
    assert failed["error"]["code"] == "21610"
    assert "opted out" in failed["error"]["title"]
    assert len(simulator.requests(path_contains="/Messages.json")) == 2  # not retried

    # Over 1,600 characters is refused at once (422 naming the text), nothing stored.
    response = api.http.post(
        f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "x" * 1601}
    )
    assert response.status_code == 422, response.text
    assert "1600" in response.text
    assert "text" in response.text
    assert len(api.messages(conversation["id"])) == 4


async def test_invalid_signature_is_refused_and_nothing_stored(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """A wrong X-Twilio-Signature: 401, no delivery stored, no contact."""
    api, channel = await _connected(db, rolodex, simulator)
    posted = simulator.twilio(
        "inbound", {"from": CUSTOMER, "body": "forged", "bad_signature": True}
    )
    assert posted["status"] == 401
    # Signed for another URL (the same body and token): refused too.
    elsewhere = simulator.twilio(
        "inbound",
        {"from": CUSTOMER, "body": "moved", "sign_url": channel["webhook_url"] + "?x=1"},
    )
    assert elsewhere["status"] == 401
    # And a form with no signature at all.
    bare = api.http.post(
        channel["webhook_url"],
        content=b"From=%2B34600111222&Body=hi&MessageSid=SM1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert bare.status_code == 401
    time.sleep(0.5)
    events = api("GET", f"/api/v1/channels/{channel['id']}/webhook-events")["items"]
    assert events == []
    assert api("GET", "/api/v1/contacts")["items"] == []
    assert api.conversations() == []


async def test_transient_errors_are_retried(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """20429 (too many requests) is retried and then delivered once."""
    api, _channel = await _connected(db, rolodex, simulator)
    simulator.twilio("inbound", {"from": CUSTOMER, "body": "hello"})
    conversation = eventually(lambda: api.conversations())[0]
    simulator.twilio("fail", {"code": 20429, "times": 2})
    reply = api("POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "hi"})
    eventually(
        lambda: api.delivery(conversation["id"], reply["id"])["status"] in ("sent", "delivered"),
        timeout=30,
    )
    sends = simulator.requests(path_contains="/Messages.json")
    assert [r["status"] for r in sends] == [429, 429, 201]
    assert dict(sends[-1]["twilio"]["fields"])["Body"] == "hi"

"""WhatsApp, Messenger and Instagram end to end: a real `rolodex serve` and the platform
simulator (examples/platform_simulator) as separate processes on loopback, real signatures,
the real webhook URL (R11, issue 17)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from builders import make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import Message
from support.e2e import Api, eventually
from support.live import LiveRolodex
from support.meta import PHONE_NUMBER_ID, signed, wa_text
from support.platform_simulator import PlatformSimulator

pytestmark = pytest.mark.slow
PNID = PHONE_NUMBER_ID
PAGE_ID = "1029384756"


async def _admin(db: Database, rolodex: LiveRolodex) -> Api:
    admin = await make_workspace(db)
    return Api(rolodex.url, admin.token)


def _connect(
    api: Api,
    sim: PlatformSimulator,
    medium: str,
    connection: dict[str, Any],
    account: dict[str, Any],
) -> dict[str, Any]:
    channel: dict[str, Any] = api(
        "POST",
        "/api/v1/channels",
        json={"medium": medium, "name": medium.title(), "connection": connection},
    )
    # As the admin does in Meta's dashboard: the callback URL and verify token, verified.
    sim.add_account(
        **account,
        webhook_url=channel["webhook_url"],
        verify_token=channel["connection"]["verify_token"],
        app_secret=connection["app_secret"],
    )
    return channel


def _whatsapp(api: Api, sim: PlatformSimulator) -> dict[str, Any]:
    connection = {
        "provider": "whatsapp_cloud",
        "phone_number_id": PNID,
        "access_token": "EAAG-wa-token",
        "app_secret": "wa-secret",
        "graph_url": sim.url,
    }
    account = {"platform": "whatsapp", "id": PNID, "access_token": "EAAG-wa-token"}
    return _connect(api, sim, "whatsapp", connection, account)


async def test_whatsapp_in_and_out(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """Text and image in; a reply out in the platform's shape; statuses; a 131047 failure."""
    api = await _admin(db, rolodex)
    channel = _whatsapp(api, simulator)
    user = {"phone": "+34 600 111 222", "name": "Kerry Fisher"}
    simulator.inbound(account_id=PNID, user=user, type="text", text="Hola, ¿me ayudáis?")
    conversation = eventually(lambda: api.conversations())[0]
    contact = api("GET", f"/api/v1/contacts/{conversation['contact_id']}")
    assert contact["attributes"]["whatsapp-phone"] == "+34600111222"
    assert contact["attributes"]["whatsapp-profile-name"] == "Kerry Fisher"
    assert contact["channel_id"] == channel["id"]

    simulator.inbound(account_id=PNID, user=user, type="image", text="the receipt")
    image = eventually(
        lambda: [
            m
            for m in api.messages(conversation["id"])
            if m["attachments"] and m["attachments"][0]["status"] == "stored"
        ]
    )[0]
    assert image["attachments"][0]["size"] > 0
    assert simulator.requests(path_contains="whatsapp_business/attachments")  # the download

    reply = api(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "¡Claro!"}
    )
    assert reply["delivery"]["status"] == "queued"
    sends = eventually(lambda: simulator.requests(path_contains=f"/{PNID}/messages"))
    assert len(sends) == 1
    headers = {k.lower(): v for k, v in sends[0]["headers"].items()}
    assert headers["authorization"] == "Bearer EAAG-wa-token"
    assert sends[0]["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "34600111222",
        "type": "text",
        "text": {"preview_url": False, "body": "¡Claro!"},
    }

    def delivery(message_id: str) -> dict[str, Any]:
        found = next(m for m in api.messages(conversation["id"]) if m["id"] == message_id)
        result: dict[str, Any] = found["delivery"]
        return result

    sent = eventually(lambda: delivery(reply["id"])["status"] == "sent" and delivery(reply["id"]))
    wamid = sent["provider_message_id"]
    for status in ("sent", "delivered", "read"):
        simulator.statuses(PNID, wamid, status)
        eventually(lambda status=status: delivery(reply["id"])["status"] == status)

    simulator.fail(account_id=PNID, code=131047)
    late = api(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "¿Sigues?"}
    )
    failed = eventually(lambda: delivery(late["id"])["status"] == "failed" and delivery(late["id"]))
    assert failed["error"]["code"] == "131047"
    assert "Re-engagement" in failed["error"]["title"]


async def test_reply_waits_for_the_platform_and_is_sent_once(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """The platform unreachable: retried with backoff, delivered once it is back, never twice."""
    api = await _admin(db, rolodex)
    _whatsapp(api, simulator)
    simulator.inbound(account_id=PNID, user={"phone": "+34600999888"}, type="text", text="hi")
    conversation = eventually(lambda: api.conversations())[0]
    simulator.stop()
    reply = api(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "one"}
    )
    time.sleep(1.5)  # at least two attempts fail against the closed port
    simulator.restart()

    def status() -> str:
        found = next(m for m in api.messages(conversation["id"]) if m["id"] == reply["id"])
        return str(found["delivery"]["status"])

    eventually(lambda: status() == "sent", timeout=30)
    time.sleep(1.0)  # any stray second attempt would have arrived by now
    assert len(simulator.requests(path_contains=f"/{PNID}/messages")) == 1


async def test_messenger_profile_once_and_echoes(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """The profile is fetched once by a job; an echo is an outbound message, not a contact."""
    api = await _admin(db, rolodex)
    connection = {
        "provider": "messenger",
        "page_id": PAGE_ID,
        "page_access_token": "EAAG-page-token",
        "app_secret": "page-secret",
        "graph_url": simulator.url,
    }
    account = {"platform": "messenger", "id": PAGE_ID, "access_token": "EAAG-page-token"}
    _connect(api, simulator, "facebook", connection, account)
    user = {"id": "6543210987", "first_name": "Peter", "last_name": "Chang"}
    simulator.inbound(account_id=PAGE_ID, user=user, type="text", text="Hello")
    simulator.inbound(account_id=PAGE_ID, user=user, type="text", text="Anyone?")
    conversation = eventually(lambda: api.conversations())[0]
    contact_id = conversation["contact_id"]
    eventually(
        lambda: (
            api("GET", f"/api/v1/contacts/{contact_id}")["attributes"].get("facebook-profile-name")
            == "Peter Chang"
        )
    )
    eventually(lambda: len(api.messages(conversation["id"])) == 2)
    time.sleep(0.5)
    profile_calls = simulator.requests(path_contains="/6543210987")
    assert len([r for r in profile_calls if r["method"] == "GET"]) == 1

    simulator.inbound(
        account_id=PAGE_ID, user=user, type="echo", text="Sent from Meta Business Suite"
    )
    echo = eventually(
        lambda: [m for m in api.messages(conversation["id"]) if m["direction"] == "outbound"]
    )[0]
    assert echo["author"]["kind"] == "system"
    assert echo["delivery"]["status"] == "sent"
    contacts = api("GET", "/api/v1/contacts")["items"]
    assert [c["id"] for c in contacts] == [contact_id]

    # Messenger reports reads by watermark: every reply sent before it is read.
    reply = api(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "Hi!"}
    )

    def status() -> str:
        found = next(m for m in api.messages(conversation["id"]) if m["id"] == reply["id"])
        return str(found["delivery"]["status"])

    eventually(lambda: status() == "sent")
    simulator.read(PAGE_ID, "6543210987")
    eventually(lambda: status() == "read")


async def test_sigkill_during_a_burst_loses_no_acknowledged_delivery(
    db: Database, settings: Settings
) -> None:
    """SIGKILL while 1,000 signed webhooks arrive: each one answered 200 is one message."""
    live = LiveRolodex(settings).start()
    try:
        api = await _admin(db, live)
        connection = {
            "provider": "whatsapp_cloud",
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": "t",
            "app_secret": "burst-secret",
        }
        channel = api(
            "POST",
            "/api/v1/channels",
            json={"medium": "whatsapp", "name": "Burst", "connection": connection},
        )
        bodies = [
            (f"wamid.burst-{i}", wa_text(f"wamid.burst-{i}", wa_id=f"3460000{i % 40:04d}"))
            for i in range(1000)
        ]
        acked: set[str] = set()
        lock = threading.Lock()

        def post(item: tuple[str, bytes]) -> None:
            wamid, body = item
            try:
                answer = httpx.post(
                    channel["webhook_url"],
                    content=body,
                    headers=signed(body, "burst-secret"),
                    timeout=10,
                )
            except httpx.HTTPError:
                return  # the server died under this request: Meta would retry it later
            if answer.status_code == 200:
                with lock:
                    acked.add(wamid)

        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(post, item) for item in bodies]
            eventually(lambda: len(acked) >= 300, timeout=60)
            live.kill()
            for future in futures:
                future.result()
        assert 300 <= len(acked) < 1000
        live.start()
        pending = eventually(lambda: _all_processed(api, channel["id"]), timeout=120)
        assert pending
        async with db.reader() as session:
            stored = list(
                (
                    await session.execute(
                        select(Message.external_id).where(Message.channel_id == channel["id"])
                    )
                ).scalars()
            )
        assert len(stored) == len(set(stored))  # exactly one message per delivery
        assert acked <= set(stored)  # every acknowledged delivery became a message
    finally:
        live.stop()


def _all_processed(api: Api, channel_id: str) -> bool:
    path = f"/api/v1/channels/{channel_id}/webhook-events"
    pending = api("GET", path, params={"status": "pending", "limit": 1})["items"]
    failed = api("GET", path, params={"status": "failed", "limit": 1})["items"]
    assert not failed, failed
    return not pending


PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
IG_ID = "17841400000001"


async def test_instagram_profile_and_a_reply_with_a_file(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """Instagram's profile fills its attributes; a file goes out by a signed public link."""
    api = await _admin(db, rolodex)
    connection = {
        "provider": "instagram",
        "account_id": IG_ID,
        "page_access_token": "EAAG-ig-token",
        "app_secret": "ig-secret",
        "graph_url": simulator.url,
    }
    account = {"platform": "instagram", "id": IG_ID, "access_token": "EAAG-ig-token"}
    _connect(api, simulator, "instagram", connection, account)
    user = {"id": "5544332211", "name": "Ana Ruiz", "username": "ana.ruiz", "follower_count": 812}
    simulator.inbound(account_id=IG_ID, user=user, type="text", text="¿Talla M?")
    conversation = eventually(lambda: api.conversations())[0]
    contact_id = conversation["contact_id"]
    attributes = eventually(
        lambda: (
            (a := api("GET", f"/api/v1/contacts/{contact_id}")["attributes"]).get(
                "instagram-username"
            )
            and a
        )
    )
    assert attributes["instagram-name"] == "Ana Ruiz"
    assert attributes["instagram-user-id"] == "5544332211"

    reply = api(
        "POST",
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={
            "text": "Esta es la guía de tallas",
            "attachments": [
                {"filename": "sizes.png", "content_type": "image/png", "content_base64": PNG}
            ],
        },
    )
    assert reply["attachments"][0]["filename"] == "sizes.png"
    sends = eventually(lambda: simulator.requests(path_contains=f"/{IG_ID}/messages"))
    eventually(lambda: len(simulator.requests(path_contains=f"/{IG_ID}/messages")) == 2)
    sends = simulator.requests(path_contains=f"/{IG_ID}/messages")
    file_send = next(s for s in sends if "attachment" in s["json"]["message"])
    link = file_send["json"]["message"]["attachment"]["payload"]["url"]
    assert link.startswith(f"{rolodex.url}/public/v1/files/")
    async with httpx.AsyncClient(timeout=5) as anonymous:  # the platform holds no token of ours
        fetched = await anonymous.get(link)
        tampered = await anonymous.get(link.replace("signature=", "signature=0"))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert tampered.status_code == 404
    text_send = next(s for s in sends if "text" in s["json"]["message"])
    assert text_send["json"] == {
        "recipient": {"id": "5544332211"},
        "message": {"text": "Esta es la guía de tallas"},
    }


async def test_a_failed_download_keeps_the_message_and_can_be_retried(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """The platform refuses the media look-up: message kept, file failed; Retry fetches it."""
    api = await _admin(db, rolodex)
    _whatsapp(api, simulator)
    simulator.fail(account_id=PNID, http_status=404, on="get", times=1)
    simulator.inbound(account_id=PNID, user={"phone": "+34600555444"}, type="image", text="pic")
    conversation = eventually(lambda: api.conversations())[0]

    def attachment() -> dict[str, Any]:
        files: dict[str, Any] = api.messages(conversation["id"])[0]["attachments"][0]
        return files

    failed = eventually(lambda: attachment()["status"] == "failed" and attachment())
    assert api.messages(conversation["id"])[0]["text"] == "pic"
    again = api.http.post(f"/api/v1/attachments/{failed['id']}/retry")
    assert again.status_code == 202
    stored = eventually(lambda: attachment()["status"] == "stored" and attachment())
    assert stored["size"] > 0
    assert api.http.post(f"/api/v1/attachments/{failed['id']}/retry").status_code == 409


class _StreamReader:
    """The admin's live stream read in a thread: every event's JSON, in order."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=None
        )
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the stream did not open"

    def _read(self) -> None:
        import json

        with self._client.stream("GET", "/api/v1/stream") as response:
            for line in response.iter_lines():
                self._ready.set()
                if line.startswith("data: "):
                    self.events.append(json.loads(line[len("data: ") :]))

    def close(self) -> None:
        """Stop reading."""
        self._client.close()


async def test_the_stream_follows_a_reply_to_read(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """Each delivery status the platform reports reaches the stream as it is, in order.

    The intake applies each delivery in a savepoint: its release must not publish the event
    (the payload would be read before the commit, showing the status before).
    """
    admin = await make_workspace(db)
    api = Api(rolodex.url, admin.token)
    _whatsapp(api, simulator)
    simulator.inbound(account_id=PNID, user={"phone": "+34600555444"}, type="text", text="hi")
    conversation = eventually(lambda: api.conversations())[0]
    stream = _StreamReader(rolodex.url, admin.token)
    try:
        reply = api(
            "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "hey"}
        )

        def last_status() -> str | None:
            about = [
                e
                for e in stream.events
                if e["type"].startswith("message.") and e["message_id"] == reply["id"]
            ]
            return about[-1]["message"]["delivery"]["status"] if about else None

        assert eventually(lambda: last_status() == "sent")
        sent = next(m for m in api.messages(conversation["id"]) if m["id"] == reply["id"])
        for status in ("delivered", "read"):
            simulator.statuses(PNID, sent["delivery"]["provider_message_id"], status)
            # What the stream said of the reply, shown if it never says the new status.
            said = lambda: [  # noqa: E731
                (e["type"], (e.get("message") or {}).get("delivery")) for e in stream.events
            ]
            assert eventually(lambda status=status: last_status() == status, 10, said)
        kinds = [e["type"] for e in stream.events if e.get("message_id") == reply["id"]]
        assert kinds[0] == "message.created"
    finally:
        stream.close()

"""The platform simulator alone: Meta's wire contract (webhooks out, Graph in), its SMTP sink."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import smtplib
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.platform_simulator import PlatformSimulator, SimulatorError

SECRET = "app-secret-1"
TOKEN = "wa-token-1"
PNID = "106540352242922"
PAGE_ID = "100200300400500"
IG_ID = "17841400000000001"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Receiver:
    """A stand-in for Rolodex's webhook URL: answers Meta's handshake, records every POST."""

    def __init__(self, verify_token: str = "verify-me") -> None:
        self.verify_token = verify_token
        self.posts: list[dict[str, Any]] = []
        self.gets: list[dict[str, Any]] = []
        self.files: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, content type)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                if split.path in receiver.files:
                    data, content_type = receiver.files[split.path]
                    self._answer(200, data, content_type)
                    return
                query = dict(urllib.parse.parse_qsl(split.query))
                receiver.gets.append({"path": split.path, "query": query})
                if query.get("hub.verify_token") == receiver.verify_token:
                    self._answer(200, query["hub.challenge"].encode(), "text/plain")
                else:
                    self._answer(403, b"forbidden", "text/plain")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.posts.append({"path": self.path, "headers": headers, "body": body})
                self._answer(200, b"EVENT_RECEIVED", "text/plain")

            def _answer(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/webhooks/channel-1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def bodies(self) -> list[Any]:
        """The posted bodies, parsed."""
        return [json.loads(p["body"]) for p in self.posts]

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on a free loopback port."""
    running = Receiver()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def running_sim() -> Iterator[PlatformSimulator]:
    """One platform simulator process for the module (starting one costs a Python start)."""
    with PlatformSimulator() as running:
        yield running


@pytest.fixture
def sim(running_sim: PlatformSimulator) -> PlatformSimulator:
    """The simulator, with no accounts, recordings, failures or threads."""
    running_sim.reset(accounts=True)
    return running_sim


def whatsapp(receiver: Receiver, **extra: Any) -> dict[str, Any]:
    """A WhatsApp account's registration pointing at the receiver."""
    return {
        "platform": "whatsapp",
        "id": PNID,
        "access_token": TOKEN,
        "app_secret": SECRET,
        "webhook_url": receiver.url,
    } | extra


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def wa_text(to: str = "34600111222", body: str = "Hello from Acme") -> dict[str, Any]:
    """A WhatsApp text send, as the contract writes it."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }


def wait_for(check: Callable[[], bool], timeout: float = 3.0) -> None:
    """Poll until check() holds (background posts), or fail."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def signed(body: bytes, secret: str = SECRET) -> str:
    """The X-Hub-Signature-256 Meta would send for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_inbound_text_is_a_signed_whatsapp_webhook(
    sim: PlatformSimulator, receiver: Receiver
) -> None:
    sim.add_account(**whatsapp(receiver, verify_token="verify-me"))
    handshake = receiver.gets[0]["query"]
    assert handshake["hub.mode"] == "subscribe"
    assert handshake["hub.verify_token"] == "verify-me"

    user = {"phone": "+34 600 111 222", "name": "Kerry Fisher"}
    answer = sim.inbound(account_id=PNID, user=user, type="text", text="Hi")

    assert answer["statuses"] == [200]
    post = receiver.posts[-1]
    assert post["headers"]["content-type"] == "application/json"
    assert post["headers"]["x-hub-signature-256"] == signed(post["body"])
    doc = json.loads(post["body"])
    assert doc == answer["body"]
    assert doc["object"] == "whatsapp_business_account"
    change = doc["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "15550100", "phone_number_id": PNID}
    assert value["contacts"] == [{"profile": {"name": "Kerry Fisher"}, "wa_id": "34600111222"}]
    message = value["messages"][0]
    assert message["from"] == "34600111222"
    assert message["id"] == answer["message_id"]
    assert message["id"].startswith("wamid.")
    assert message["timestamp"].isdigit()
    assert message["type"] == "text"
    assert message["text"] == {"body": "Hi"}
    thread = sim.thread(PNID, "+34 600 111 222")
    assert [(e["direction"], e["text"]) for e in thread] == [("in", "Hi")]


def test_repeat_posts_identical_bodies_and_signing_can_be_off_or_wrong(
    sim: PlatformSimulator, receiver: Receiver
) -> None:
    sim.add_account(**whatsapp(receiver))

    answer = sim.inbound(account_id=PNID, user={"phone": "34600111222"}, text="x", repeat=3)

    assert answer["statuses"] == [200, 200, 200]
    assert len({p["body"] for p in receiver.posts}) == 1
    assert len(receiver.posts) == 3
    sim.inbound(account_id=PNID, user={"phone": "34600111222"}, text="x", sign=False)
    assert "x-hub-signature-256" not in receiver.posts[-1]["headers"]
    sim.inbound(account_id=PNID, user={"phone": "34600111222"}, text="x", sign="wrong")
    wrong = receiver.posts[-1]
    assert wrong["headers"]["x-hub-signature-256"] != signed(wrong["body"])
    assert sim.raw(PNID, body_text='{"object": "page"  }') == 200
    assert receiver.posts[-1]["body"] == b'{"object": "page"  }'
    assert receiver.posts[-1]["headers"]["x-hub-signature-256"] == signed(b'{"object": "page"  }')


def test_registration_fails_when_the_handshake_fails(
    sim: PlatformSimulator, receiver: Receiver
) -> None:
    with pytest.raises(SimulatorError) as refused:
        sim.add_account(**whatsapp(receiver, verify_token="not-the-token"))

    assert refused.value.status == 400
    assert "403" in refused.value.body["error"]
    assert receiver.gets[0]["query"]["hub.verify_token"] == "not-the-token"
    assert sim.accounts() == []


def test_whatsapp_send_needs_the_accounts_bearer(
    sim: PlatformSimulator, receiver: Receiver
) -> None:
    sim.add_account(**whatsapp(receiver))
    path = f"/v21.0/{PNID}/messages"

    ok = sim.http.post(path, json=wa_text(), headers=bearer(TOKEN))
    wrong = sim.http.post(path, json=wa_text(), headers=bearer("someone-else"))
    missing = sim.http.post(path, json=wa_text())

    assert ok.status_code == 200
    sent = ok.json()
    assert sent["messaging_product"] == "whatsapp"
    assert sent["contacts"] == [{"input": "34600111222", "wa_id": "34600111222"}]
    assert sent["messages"][0]["id"].startswith("wamid.")
    for refused in (wrong, missing):
        assert refused.status_code == 401
        error = refused.json()["error"]
        assert error["code"] == 190
        assert error["type"] == "OAuthException"
        assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
        assert error["fbtrace_id"]
    recorded = sim.requests(account_id=PNID, path_contains="/messages")
    assert [r["status"] for r in recorded] == [200, 401, 401]
    assert recorded[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert recorded[0]["json"] == wa_text()
    assert recorded[0]["method"] == "POST"
    thread = sim.thread(PNID, "34600111222")
    assert [(e["direction"], e["id"], e["status"]) for e in thread] == [
        ("out", sent["messages"][0]["id"], "sent")
    ]
    test = sim.http.get(
        f"/v99.9/{PNID}",
        params={"fields": "display_phone_number,verified_name"},
        headers=bearer(TOKEN),
    )
    assert test.json() == {"display_phone_number": "15550100", "verified_name": "Acme", "id": PNID}


@pytest.mark.parametrize(
    ("change", "which"),
    [
        ({"to": None}, "to"),
        ({"to": "+34600111222"}, "to"),
        ({"messaging_product": None}, "messaging_product"),
        ({"type": "template"}, "type"),
        ({"text": {"preview_url": False}}, "text.body"),
        ({"text": {"body": "x", "bold": True}}, "bold"),
        ({"image": {"id": "1"}}, "image"),
    ],
)
def test_malformed_whatsapp_sends_are_graph_error_100(
    sim: PlatformSimulator, receiver: Receiver, change: dict[str, Any], which: str
) -> None:
    sim.add_account(**whatsapp(receiver))
    body = {k: v for k, v in (wa_text() | change).items() if v is not None}

    answer = sim.http.post(f"/v21.0/{PNID}/messages", json=body, headers=bearer(TOKEN))

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == 100
    assert error["message"] == "(#100) Invalid parameter"
    assert which in error["error_data"]["details"]
    assert sim.thread(PNID, "34600111222") == []


def test_injected_failures_then_success(sim: PlatformSimulator, receiver: Receiver) -> None:
    sim.add_account(**whatsapp(receiver))
    path = f"/v21.0/{PNID}/messages"
    sim.fail(account_id=PNID, code=131047)

    first = sim.http.post(path, json=wa_text(), headers=bearer(TOKEN))
    second = sim.http.post(path, json=wa_text(), headers=bearer(TOKEN))

    assert first.status_code == 400
    error = first.json()["error"]
    assert error["code"] == 131047
    assert error["message"] == "(#131047) Re-engagement message"
    assert error["error_data"]["details"] == (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    )
    assert second.status_code == 200

    sim.fail(http_status=503, times=2)
    outages = [sim.http.post(path, json=wa_text(), headers=bearer(TOKEN)) for _ in range(3)]
    assert [r.status_code for r in outages] == [503, 503, 200]
    assert outages[0].json()["error"]["code"] == 2
    assert outages[0].json()["error"]["message"] == "(#2) Service temporarily unavailable"

    sim.fail(code=130429)
    limited = sim.http.post(path, json=wa_text(), headers=bearer(TOKEN)).json()["error"]
    assert (limited["code"], limited["message"]) == (130429, "(#130429) Rate limit hit")

    sim.fail(delay_seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        sim.http.post(path, json=wa_text(), headers=bearer(TOKEN), timeout=0.2)
    sent = [e for e in sim.thread(PNID, "34600111222") if e["direction"] == "out"]
    assert len(sent) == 3  # the slow one is accepted, as Meta may have after a client timeout
    wait_for(lambda: len(sim.requests(path_contains="/messages")) == 7)
    assert sim.requests(path_contains="/messages")[-1]["injected"]["delay_seconds"] == 0.5


def test_media_upload_and_two_step_download(sim: PlatformSimulator, receiver: Receiver) -> None:
    sim.add_account(**whatsapp(receiver))
    data = b"\xff\xd8\xff\xe0 a tiny jpeg \r\n\x00\xff"
    upload = sim.http.post(
        f"/v21.0/{PNID}/media",
        data={"messaging_product": "whatsapp", "type": "image/jpeg"},
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers=bearer(TOKEN),
    )
    assert upload.status_code == 200
    media_id = upload.json()["id"]
    assert media_id.isdigit()
    recorded = sim.requests(path_contains="/media")[-1]
    assert recorded["form"]["messaging_product"] == "whatsapp"
    assert recorded["form"]["file"] == {
        "filename": "photo.jpg",
        "content_type": "image/jpeg",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }

    image = {"id": media_id, "caption": "Your invoice"}
    body = wa_text() | {"type": "image", "image": image}
    del body["text"]
    assert sim.http.post(f"/v21.0/{PNID}/messages", json=body, headers=bearer(TOKEN)).is_success

    info = sim.http.get(f"/v21.0/{media_id}", headers=bearer(TOKEN)).json()
    assert info["messaging_product"] == "whatsapp"
    assert info["mime_type"] == "image/jpeg"
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["file_size"] == len(data)
    assert info["id"] == media_id
    download = sim.http.get(info["url"], headers=bearer(TOKEN))
    assert download.content == data
    assert download.headers["content-type"] == "image/jpeg"
    assert sim.http.get(info["url"]).status_code == 401
    assert sim.http.get(f"/v21.0/{media_id}", headers=bearer("nope")).status_code == 401

    mismatch = sim.http.post(
        f"/v21.0/{PNID}/media",
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers=bearer(TOKEN),
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["code"] == 100

    inbound = sim.inbound(account_id=PNID, user={"phone": "34600111222"}, type="image")
    sent_image = inbound["body"]["entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    info = sim.http.get(f"/v21.0/{sent_image['id']}", headers=bearer(TOKEN)).json()
    picture = sim.http.get(info["url"], headers=bearer(TOKEN)).content
    assert picture.startswith(PNG_MAGIC)
    assert hashlib.sha256(picture).hexdigest() == sent_image["sha256"] == info["sha256"]
    assert sent_image["mime_type"] == info["mime_type"] == "image/png"


def test_statuses_and_auto_statuses(sim: PlatformSimulator, receiver: Receiver) -> None:
    sim.add_account(**whatsapp(receiver))
    path = f"/v21.0/{PNID}/messages"
    wamid = sim.http.post(path, json=wa_text(), headers=bearer(TOKEN)).json()["messages"][0]["id"]

    delivered = sim.statuses(PNID, wamid, "delivered")
    failed = sim.statuses(PNID, wamid, "failed")

    assert delivered["status"] == 200
    item = receiver.bodies()[0]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert item["id"] == wamid
    assert item["status"] == "delivered"
    assert item["recipient_id"] == "34600111222"
    assert item["timestamp"].isdigit()
    assert "errors" not in item
    error = failed["body"]["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]
    assert error["code"] == 131047
    assert error["title"] == "Re-engagement message"
    assert error["error_data"]["details"].startswith("Message failed to send")
    assert sim.thread(PNID, "34600111222")[0]["status"] == "failed"

    receiver.posts.clear()
    sim.add_account(**whatsapp(receiver, auto_status="read"))
    wamid = sim.http.post(path, json=wa_text(), headers=bearer(TOKEN)).json()["messages"][0]["id"]
    wait_for(lambda: len(receiver.posts) == 3)
    reported = [b["entry"][0]["changes"][0]["value"]["statuses"][0] for b in receiver.bodies()]
    assert [(s["id"], s["status"]) for s in reported] == [
        (wamid, "sent"),
        (wamid, "delivered"),
        (wamid, "read"),
    ]
    assert all(p["headers"]["x-hub-signature-256"] == signed(p["body"]) for p in receiver.posts)
    assert sim.thread(PNID, "34600111222")[-1]["status"] == "read"


def test_the_customer_reading_posts_read_statuses(
    sim: PlatformSimulator, receiver: Receiver
) -> None:
    sim.add_account(**whatsapp(receiver))
    path = f"/v21.0/{PNID}/messages"
    ids = [
        sim.http.post(path, json=wa_text(body=t), headers=bearer(TOKEN)).json()["messages"][0]["id"]
        for t in ("one", "two")
    ]

    read = sim.read(PNID, "34600111222")

    assert read == {"read": ids, "statuses": [200, 200]}
    reported = [b["entry"][0]["changes"][0]["value"]["statuses"][0] for b in receiver.bodies()]
    assert [(s["id"], s["status"]) for s in reported] == [(ids[0], "read"), (ids[1], "read")]
    assert [e["status"] for e in sim.thread(PNID, "34600111222")] == ["read", "read"]
    assert sim.read(PNID, "34600111222") == {"read": [], "statuses": []}


def test_messenger_profile_sends_and_statuses(sim: PlatformSimulator, receiver: Receiver) -> None:
    sim.add_account(
        platform="messenger",
        id=PAGE_ID,
        access_token="page-token",
        app_secret=SECRET,
        webhook_url=receiver.url,
    )
    answer = sim.inbound(account_id=PAGE_ID, user={"id": "PSID-1", "name": "Peter Chang"})
    doc = json.loads(receiver.posts[-1]["body"])
    assert receiver.posts[-1]["headers"]["x-hub-signature-256"] == signed(
        receiver.posts[-1]["body"]
    )
    assert doc["object"] == "page"
    entry = doc["entry"][0]
    assert entry["id"] == PAGE_ID
    event = entry["messaging"][0]
    assert event["sender"] == {"id": "PSID-1"}
    assert event["recipient"] == {"id": PAGE_ID}
    assert event["message"] == {"mid": answer["message_id"], "text": "Hello"}
    assert answer["message_id"].startswith("m_")

    fields = {"fields": "first_name,last_name,profile_pic,locale"}
    profile = sim.http.get("/v21.0/PSID-1", params=fields, headers=bearer("page-token"))
    assert profile.status_code == 200
    person = profile.json()
    assert (person["first_name"], person["last_name"], person["locale"]) == (
        "Peter",
        "Chang",
        "en_US",
    )
    assert person["id"] == "PSID-1"
    assert sim.http.get(person["profile_pic"]).content.startswith(PNG_MAGIC)
    assert sim.http.get("/v21.0/PSID-1", params=fields, headers=bearer(TOKEN)).status_code == 401
    odd = sim.http.get("/v21.0/PSID-1", params={"fields": "email"}, headers=bearer("page-token"))
    assert odd.json()["error"]["code"] == 100

    sent = sim.http.post(
        f"/v21.0/{PAGE_ID}/messages",
        data={
            "recipient": json.dumps({"id": "PSID-1"}),
            "messaging_type": "RESPONSE",
            "message": json.dumps(
                {"attachment": {"type": "file", "payload": {"is_reusable": False}}}
            ),
        },
        files={"filedata": ("invoice.pdf", b"%PDF-1.4 hi", "application/pdf")},
        headers=bearer("page-token"),
    )
    assert sent.status_code == 200
    assert sent.json()["recipient_id"] == "PSID-1"
    mid = sent.json()["message_id"]
    assert mid.startswith("m_")
    recorded = sim.requests(account_id=PAGE_ID, path_contains="/messages")[-1]
    assert recorded["form"]["filedata"]["sha256"] == hashlib.sha256(b"%PDF-1.4 hi").hexdigest()
    assert recorded["form"]["messaging_type"] == "RESPONSE"
    no_type = {"recipient": {"id": "PSID-1"}, "message": {"text": "hi"}}
    refused = sim.http.post(
        f"/v21.0/{PAGE_ID}/messages", json=no_type, headers=bearer("page-token")
    )
    assert refused.status_code == 400
    assert "messaging_type" in refused.json()["error"]["error_data"]["details"]

    with pytest.raises(SimulatorError) as no_sent:
        sim.statuses(PAGE_ID, mid, "sent")
    assert no_sent.value.status == 400
    delivery = sim.statuses(PAGE_ID, mid, "delivered")["body"]["entry"][0]["messaging"][0]
    assert delivery["delivery"]["mids"] == [mid]
    assert isinstance(delivery["delivery"]["watermark"], int)
    read = sim.read(PAGE_ID, "PSID-1")
    assert read["read"] == [mid]
    watermark = receiver.bodies()[-1]["entry"][0]["messaging"][0]["read"]
    assert set(watermark) == {"watermark"}

    image = sim.inbound(account_id=PAGE_ID, user={"id": "PSID-1"}, type="image")
    attachment = image["body"]["entry"][0]["messaging"][0]["message"]["attachments"][0]
    assert attachment["type"] == "image"
    assert sim.http.get(attachment["payload"]["url"]).content.startswith(PNG_MAGIC)
    echo = sim.inbound(account_id=PAGE_ID, user={"id": "PSID-1"}, type="echo", text="From MBS")
    echoed = echo["body"]["entry"][0]["messaging"][0]
    assert echoed["sender"] == {"id": PAGE_ID}
    assert echoed["message"]["is_echo"] is True


def test_instagram_fetches_attachments_by_url(sim: PlatformSimulator, receiver: Receiver) -> None:
    sim.add_account(
        platform="instagram",
        id=IG_ID,
        access_token="ig-token",
        app_secret=SECRET,
        webhook_url=receiver.url,
    )
    sim.inbound(account_id=IG_ID, user={"id": "IGSID-1", "name": "Peter Chang"})
    assert receiver.bodies()[-1]["object"] == "instagram"
    fields = {"fields": "name,username,profile_pic,follower_count"}
    profile = sim.http.get("/v21.0/IGSID-1", params=fields, headers=bearer("ig-token")).json()
    assert profile["name"] == "Peter Chang"
    assert profile["username"] == "peter.chang"
    assert isinstance(profile["follower_count"], int)
    receiver.files["/files/photo.png"] = (PNG_MAGIC + b"rest", "image/png")
    path = f"/v21.0/{IG_ID}/messages"

    def attachment(url: str) -> dict[str, Any]:
        payload = {"type": "image", "payload": {"url": url}}
        return {"recipient": {"id": "IGSID-1"}, "message": {"attachment": payload}}

    ok = sim.http.post(
        path, json=attachment(f"{receiver.base}/files/photo.png"), headers=bearer("ig-token")
    )
    broken = sim.http.post(
        path, json=attachment(f"{receiver.base}/files/gone.png"), headers=bearer("ig-token")
    )

    assert ok.status_code == 200
    assert ok.json()["recipient_id"] == "IGSID-1"
    fetched = sim.requests(account_id=IG_ID, path_contains="/messages")[0]["fetched"][0]
    assert (fetched["status"], fetched["size"]) == (200, len(PNG_MAGIC) + 4)
    assert fetched["content_type"] == "image/png"
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == 100
    multipart = sim.http.post(
        path,
        data={"recipient": json.dumps({"id": "IGSID-1"}), "message": "{}"},
        files={"filedata": ("a.png", b"x", "image/png")},
        headers=bearer("ig-token"),
    )
    assert multipart.status_code == 400
    thread = sim.thread(IG_ID, "IGSID-1")
    assert thread[-1]["attachments"][0]["size"] == len(PNG_MAGIC) + 4
    read = sim.read(IG_ID, "IGSID-1")
    assert receiver.bodies()[-1]["entry"][0]["messaging"][0]["read"] == {"mid": read["read"][-1]}


def test_page_accounts_file_and_restart(tmp_path: Path, receiver: Receiver) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps([whatsapp(receiver, verify_token="verify-me")]))
    with PlatformSimulator("--accounts", str(accounts)) as sim:
        assert [a["id"] for a in sim.accounts()] == [PNID]
        assert receiver.gets == []  # loaded as is: Rolodex may not be running yet
        page = sim.http.get("/")
        assert page.headers["content-type"].startswith("text/html")
        for text in ("Customer's phone", 'role="log"', 'aria-label="Conversation"'):
            assert text in page.text
        assert "Verify and save" in page.text
        sim.add_account(**whatsapp(receiver, id="999000111", verify_token="verify-me"))
        port = sim.port

        sim.restart()

        assert sim.port == port
        assert sorted(a["id"] for a in sim.accounts()) == sorted([PNID, "999000111"])
        assert len(receiver.gets) == 2  # verified again when registered again


# Email: the SMTP sink (the company's mail server) and the customer's mail (mail.py)


@pytest.fixture(scope="module")
def mail_sim() -> Iterator[PlatformSimulator]:
    """A simulator with its SMTP sink, for the module."""
    with PlatformSimulator(smtp=True) as running:
        yield running


@pytest.fixture
def mailer(mail_sim: PlatformSimulator) -> PlatformSimulator:
    """The simulator with its sink emptied."""
    mail_sim.reset()
    return mail_sim


def reply_mail(to: str = "kerry@example.com") -> EmailMessage:
    """A reply as Rolodex sends it: threaded, with a file."""
    message = EmailMessage()
    message["From"] = "Acme Support <support@acme.test>"
    message["To"] = to
    message["Subject"] = "Re: My order"
    message["Message-ID"] = "<msg_1@rolodex.acme.test>"
    message["In-Reply-To"] = "<first@example.com>"
    message["References"] = "<first@example.com> <second@example.com>"
    message.set_content("It ships today.\n")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    return message


def test_the_sink_records_mail_with_or_without_tls_and_auth(
    mailer: PlatformSimulator, running_sim: PlatformSimulator
) -> None:
    assert running_sim.http.get("/_sim/smtp").status_code == 404  # started without a sink
    assert mailer.http.get("/_sim/smtp").json() == {"host": "127.0.0.1", "port": mailer.smtp_port}
    assert mailer.smtp_port
    with smtplib.SMTP("127.0.0.1", mailer.smtp_port, timeout=5) as client:
        client.send_message(reply_mail())  # no AUTH, no TLS
    certificate = mailer.http.get("/_sim/smtp/certificate").text
    with smtplib.SMTP("127.0.0.1", mailer.smtp_port, timeout=5) as client:
        client.starttls(context=ssl.create_default_context(cadata=certificate))
        client.login("acme-user", "any password")
        client.send_message(reply_mail(), to_addrs=["other@example.com"])
    with smtplib.SMTP("127.0.0.1", mailer.smtp_port, timeout=5) as client:
        client.login("plain-user", "over plain text")  # a test double accepts that too
        client.send_message(reply_mail())

    first, second, third = mailer.mails()
    assert first["id"] < second["id"] < third["id"]
    assert first["mail_from"] == "support@acme.test"
    assert first["rcpt_tos"] == ["kerry@example.com"]
    assert first["auth_username"] is None
    assert first["subject"] == "Re: My order"
    assert first["from"] == "Acme Support <support@acme.test>"
    assert first["to"] == "kerry@example.com"
    assert first["message_id"] == "<msg_1@rolodex.acme.test>"
    assert first["in_reply_to"] == "<first@example.com>"
    assert first["references"] == ["<first@example.com>", "<second@example.com>"]
    assert first["text"] == "It ships today."
    assert first["attachments"] == [
        {"filename": "a.pdf", "content_type": "application/pdf", "size": 8}
    ]
    assert "In-Reply-To: <first@example.com>" in first["raw"]
    assert first["received_at"].endswith("Z")
    assert (second["auth_username"], second["rcpt_tos"]) == ("acme-user", ["other@example.com"])
    assert third["auth_username"] == "plain-user"
    assert [m["id"] for m in mailer.mails(to="Other@Example.com")] == [second["id"]]


def test_the_sink_refuses_the_next_mails_when_told(mailer: PlatformSimulator) -> None:
    assert mailer.smtp_port
    mailer.smtp_fail(550, "5.1.1 no such user", count=2)
    mailer.smtp_fail(451, "4.3.0 try again later")
    refusals = []
    for _ in range(3):
        with (
            smtplib.SMTP("127.0.0.1", mailer.smtp_port, timeout=5) as client,
            pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
        ):
            client.send_message(reply_mail(), to_addrs=["kerry@example.com", "ana@example.com"])
        refusals.append(refused.value.recipients)
    assert refusals[0] == {
        "kerry@example.com": (550, b"5.1.1 no such user"),
        "ana@example.com": (550, b"5.1.1 no such user"),  # one mail counts once
    }
    assert refusals[1]["kerry@example.com"] == (550, b"5.1.1 no such user")
    assert refusals[2]["kerry@example.com"] == (451, b"4.3.0 try again later")
    with smtplib.SMTP("127.0.0.1", mailer.smtp_port, timeout=5) as client:
        client.send_message(reply_mail())
    assert len(mailer.mails()) == 1
    with pytest.raises(SimulatorError) as error:
        mailer.smtp_fail(250, "fine")
    assert error.value.status == 400


def test_the_customer_mails_rolodex_with_smtplib(
    mailer: PlatformSimulator, tmp_path: Path, receiver: Receiver
) -> None:
    # The sink stands in for Rolodex's listener: a second simulator's customer writes to it.
    accounts = tmp_path / "accounts.json"
    twilio = {"platform": "twilio", "account_sid": "AC" + "1" * 32, "auth_token": "t" * 32}
    twilio |= {"from_number": "+15005550006", "webhook_url": receiver.url}
    x = {"platform": "x", "user_id": "42", "consumer_secret": "cs", "access_token": "at"}
    x |= {"webhook_url": receiver.url}
    mailbox = {"platform": "email", "address": "support@acme.test", "name": "Acme"}
    accounts.write_text(json.dumps([whatsapp(receiver), twilio, x, mailbox]))
    target = f"127.0.0.1:{mailer.smtp_port}"
    with PlatformSimulator("--accounts", str(accounts), "--rolodex-smtp", target) as customer:
        # Twilio and X accounts load from the same file as Meta's (without a CRC check).
        assert [a["account_sid"] for a in customer.twilio("accounts")["items"]] == [
            twilio["account_sid"]
        ]
        assert [a["user_id"] for a in customer.http.get("/_sim/x/accounts").json()] == ["42"]
        assert receiver.gets == []
        mailboxes = customer.http.get("/_sim/email/mailboxes").json()
        assert mailboxes == [{"address": "support@acme.test", "name": "Acme"}]
        png = base64.b64encode(PNG_MAGIC).decode()
        sent = customer.email_send(
            from_="kerry@example.com",
            from_name="Kerry",
            to="support@acme.test",
            subject="Re: My order",
            text="Thanks!",
            html="<p>Thanks!</p>",
            in_reply_to="<msg_1@rolodex.acme.test>",
            references=["<first@example.com>", "<msg_1@rolodex.acme.test>"],
            headers={"Auto-Submitted": "auto-replied"},
            attachments=[{"filename": "p.png", "content_type": "image/png", "data_base64": png}],
        )
        mailer.smtp_fail(550, "5.1.1 unknown mailbox")
        refused = customer.email_send(to="nobody@acme.test", text="Hello?")
        unreachable = customer.email_send(port=1, to="support@acme.test", text="Hello?")
        assert customer.http.get("/_sim/smtp").status_code == 404
        mailbox_rows = customer.http.get("/_sim/email/thread?address=kerry@example.com").json()

    assert sent["accepted"] is True
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>", sent["message_id"])
    (mail,) = mailer.mails()
    assert mail["message_id"] == sent["message_id"]
    assert (mail["mail_from"], mail["rcpt_tos"]) == ("kerry@example.com", ["support@acme.test"])
    assert (mail["from"], mail["subject"], mail["text"]) == (
        "Kerry <kerry@example.com>",
        "Re: My order",
        "Thanks!",
    )
    assert mail["in_reply_to"] == "<msg_1@rolodex.acme.test>"
    assert mail["references"] == ["<first@example.com>", "<msg_1@rolodex.acme.test>"]
    assert "Auto-Submitted: auto-replied" in mail["raw"]
    assert "text/html" in mail["raw"]
    assert mail["attachments"] == [
        {"filename": "p.png", "content_type": "image/png", "size": len(PNG_MAGIC)}
    ]
    assert refused == {
        "message_id": refused["message_id"],
        "accepted": False,
        "code": 550,
        "error": "5.1.1 unknown mailbox",
    }
    assert (unreachable["accepted"], unreachable["code"]) == (False, None)
    assert "Connection" in unreachable["error"] or "refused" in unreachable["error"]
    assert [(r["direction"], r["accepted"]) for r in mailbox_rows] == [
        ("in", True),
        ("in", False),
        ("in", False),
    ]
    # In the sink's own process, the customer's mailbox shows the mail sent to them.
    with smtplib.SMTP("127.0.0.1", mailer.smtp_port or 0, timeout=5) as client:
        client.send_message(reply_mail())
    rows = mailer.http.get("/_sim/email/thread", params={"address": "kerry@example.com"}).json()
    assert [(r["direction"], r["subject"], r["text"]) for r in rows] == [
        ("out", "Re: My order", "It ships today.")
    ]
    assert rows[0]["message_id"] == "<msg_1@rolodex.acme.test>"


def test_the_page_shows_sms_and_x_conversations(sim: PlatformSimulator, receiver: Receiver) -> None:
    account = sim.twilio("accounts", {"webhook_url": receiver.url, "auto_statuses": False})
    sim.twilio("inbound", {"from": "+34600111222", "body": "Where is my order?"})
    basic = base64.b64encode(f"{account['account_sid']}:{account['auth_token']}".encode())
    sent = sim.http.post(
        f"/2010-04-01/Accounts/{account['account_sid']}/Messages.json",
        data={"To": "+34600111222", "From": account["from_number"], "Body": "Today!"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert sent.status_code == 201
    sim.twilio("status", {"message_sid": sent.json()["sid"], "status": "delivered"})
    thread = sim.http.get("/_sim/twilio/thread", params={"number": "+34600111222"}).json()
    assert [(e["direction"], e["text"], e["status"]) for e in thread["items"]] == [
        ("in", "Where is my order?", None),
        ("out", "Today!", "delivered"),  # the Messages log follows the status callbacks
    ]

    sim.x_account(user_id="42", consumer_secret="cs", access_token="at", webhook_url=receiver.url)
    sim.x_dm(account_id="42", user={"id": "777", "screen_name": "kim"}, text="Hi on X")
    answer = sim.http.post(
        "/2/dm_conversations/with/777/messages", json={"text": "Hello Kim"}, headers=bearer("at")
    )
    assert answer.status_code == 201
    rows = sim.http.get("/_sim/x/thread", params={"account_id": "42", "user_id": "777"}).json()
    assert [(r["direction"], r["text"]) for r in rows] == [("in", "Hi on X"), ("out", "Hello Kim")]

    page = sim.http.get("/").text
    for heading in ("SMS (Twilio)", "X direct message", "Email", 'aria-label="Mailbox"'):
        assert heading in page

"""Twilio connector: X-Twilio-Signature exactly as Twilio computes it, inbound SMS/MMS and
status callbacks parsed, and the REST calls against a local recording server."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from rolodex.catalogue import Medium
from rolodex.channels.connectors import connector_for
from rolodex.channels.connectors.base import (
    InboundItem,
    MediaRef,
    OutboundFile,
    PayloadRejected,
    PlatformError,
    StatusItem,
)
from rolodex.channels.connectors.twilio import connector as twilio
from rolodex.channels.connectors.twilio import signature, signature_valid
from rolodex.channels.schemas import ConnectionInput

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token"
NUMBER = "+15017122661"
HOOK = "https://rolodex.example.com/webhooks/chn_1"
CONNECTION = {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER}


def form(fields: dict[str, str]) -> bytes:
    """A form-encoded body as Twilio posts it."""
    return urlencode(fields).encode()


def signed(fields: dict[str, str], url: str = HOOK) -> dict[str, str]:
    """Headers with Twilio's signature of these fields at this URL."""
    return {"x-twilio-signature": signature(TOKEN, url, list(fields.items()))}


# --- Signatures ------------------------------------------------------------------------------


def test_signature_reproduces_twilios_documented_example() -> None:
    # Twilio's webhook security guide: auth token 12345, this URL and these POST fields.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature("12345", url, list(params.items())) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    body = form(params)
    assert signature_valid("12345", url, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", body)
    assert not signature_valid("12346", url, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", body)


def test_signature_reproduces_twilio_rubys_voice_request() -> None:
    # twilio-ruby's spec/util/request_validator_spec.rb: blanks kept, 26 fields sorted.
    params = {
        "ToState": "California",
        "CalledState": "California",
        "Direction": "inbound",
        "FromState": "CA",
        "AccountSid": "ACba8bc05eacf94afdae398e642c9cc32d",
        "Caller": "+14153595711",
        "CallerZip": "94108",
        "CallerCountry": "US",
        "From": "+14153595711",
        "FromCity": "SAN FRANCISCO",
        "CallerCity": "SAN FRANCISCO",
        "To": "+14157669926",
        "FromZip": "94108",
        "FromCountry": "US",
        "ToCity": "",
        "CallStatus": "ringing",
        "CalledCity": "",
        "CallerState": "CA",
        "CalledZip": "",
        "ToZip": "",
        "ToCountry": "US",
        "CallSid": "CA136d09cd59a3c0ec8dbff44da5c03f31",
        "CalledCountry": "US",
        "Called": "+14157669926",
        "ApiVersion": "2010-04-01",
        "ApplicationSid": "AP44efecad51364e80b133bb7c07eb8204",
    }
    token, url = "2bd9e9638872de601313dc77410d3b23", "http://twiliotests.heroku.com/validate/voice"
    assert signature(token, url, list(params.items())) == "oVb2kXoVy8GEfwBDjR8bk/ZZ6eA="
    assert signature_valid(token, url, "oVb2kXoVy8GEfwBDjR8bk/ZZ6eA=", form(params))


def test_signature_with_and_without_the_default_port() -> None:
    fields = {"From": "+34600111222", "Body": "hola", "MessageSid": "SM1"}
    body = form(fields)
    with_port = "https://rolodex.example.com:443/webhooks/chn_1"
    # Signed with the port, checked against the URL without it, and the other way round.
    assert twilio.verify(CONNECTION, HOOK, signed(fields, with_port), body)
    assert twilio.verify(CONNECTION, with_port, signed(fields, HOOK), body)
    # Another port is another URL.
    assert not twilio.verify(
        CONNECTION, HOOK, signed(fields, HOOK.replace(".com", ".com:8443")), body
    )


@pytest.mark.parametrize(
    ("headers", "body", "connection"),
    [
        ({}, form({"Body": "x"}), CONNECTION),  # no signature
        ({"x-twilio-signature": "AAAA"}, form({"Body": "x"}), CONNECTION),
        (signed({"Body": "x"}), form({"Body": "y"}), CONNECTION),  # body changed
        (signed({"Body": "x"}), form({"Body": "x", "Extra": ""}), CONNECTION),  # field added
        (signed({"Body": "x"}), form({"Body": "x"}), {**CONNECTION, "auth_token": "other"}),
        (signed({"Body": "x"}), form({"Body": "x"}), {**CONNECTION, "auth_token": None}),
        (signed({"Body": "x"}), b"\xff\xfe", CONNECTION),  # not UTF-8
    ],
)
def test_wrong_signatures(headers: dict[str, str], body: bytes, connection: dict[str, Any]) -> None:
    assert not twilio.verify(connection, HOOK, headers, body)


def test_signature_is_over_the_url_twilio_called() -> None:
    fields = {"Body": "x", "MessageSid": "SM1"}
    assert twilio.verify(CONNECTION, HOOK, signed(fields), form(fields))
    assert not twilio.verify(CONNECTION, HOOK + "?a=1", signed(fields), form(fields))
    assert not twilio.verify(
        CONNECTION, HOOK.replace("https", "http"), signed(fields), form(fields)
    )


def test_connector_attributes_and_acknowledgement() -> None:
    assert connector_for("twilio") is twilio
    assert (twilio.provider, twilio.medium) == ("twilio", Medium.SMS)
    assert twilio.secret_fields == ("auth_token",)
    assert twilio.defaults == {"api_url": "https://api.twilio.com"}
    assert twilio.url_field == "api_url"
    assert twilio.max_text_length == 1600
    ack = twilio.acknowledgement()
    assert (ack.status, ack.body, ack.media_type) == (200, "<Response/>", "text/xml")
    assert twilio.handshake(CONNECTION, {}).status == 405


def test_connection_schema() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(ConnectionInput)
    parsed = adapter.validate_python({"provider": "twilio", **CONNECTION})
    assert (parsed.account_sid, parsed.from_number, parsed.api_url) == (SID, NUMBER, None)
    for wrong in (
        {"from_number": "15017122661"},  # not E.164
        {"from_number": "+0123456"},
        {"account_sid": "SK" + "0" * 32},
        {"account_sid": "AC123"},
    ):
        with pytest.raises(ValidationError):
            adapter.validate_python({"provider": "twilio", **CONNECTION, **wrong})


# --- Parsing ---------------------------------------------------------------------------------

INBOUND = {
    "ToCountry": "US",
    "SmsMessageSid": "SM9f1a",
    "NumMedia": "0",
    "SmsSid": "SM9f1a",
    "SmsStatus": "received",
    "Body": "Hello, is my order shipped?",
    "To": NUMBER,
    "NumSegments": "1",
    "MessageSid": "SM9f1a",
    "AccountSid": SID,
    "From": "+34600111222",
    "ApiVersion": "2010-04-01",
}


def test_inbound_sms() -> None:
    parsed = twilio.parse(CONNECTION, form(INBOUND), "application/x-www-form-urlencoded")
    [item] = parsed.items
    assert isinstance(item, InboundItem)
    assert (item.external_id, item.contact_id, item.text) == (
        "SM9f1a",
        "+34600111222",
        "Hello, is my order shipped?",
    )
    assert item.attributes == {"phone": "+34600111222"}
    assert item.media == []
    assert not item.echo


def test_inbound_mms_keeps_every_file() -> None:
    base = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages/MM1/Media"
    fields = {
        **INBOUND,
        "MessageSid": "MM1",
        "Body": "",
        "NumMedia": "3",
        "MediaContentType0": "image/jpeg",
        "MediaUrl0": f"{base}/ME1",
        "MediaContentType1": "image/png",
        "MediaUrl1": f"{base}/ME2",
        "MediaContentType2": "video/mp4",
        "MediaUrl2": f"{base}/ME3",
    }
    [item] = twilio.parse(CONNECTION, form(fields), "").items
    assert isinstance(item, InboundItem)
    assert item.text == ""
    assert item.media == [
        MediaRef(f"{base}/ME1", "image/jpeg", "ME1.jpeg"),
        MediaRef(f"{base}/ME2", "image/png", "ME2.png"),
        MediaRef(f"{base}/ME3", "video/mp4", "ME3.mp4"),
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("sent", "sent"), ("delivered", "delivered"), ("read", "read")],
)
def test_status_callbacks(status: str, expected: str) -> None:
    fields = {
        "MessageSid": "SMout",
        "MessageStatus": status,
        "AccountSid": SID,
        "To": "+34600111222",
    }
    [item] = twilio.parse(CONNECTION, form(fields), "").items
    assert isinstance(item, StatusItem)
    assert (item.provider_message_id, item.status, item.error_code) == ("SMout", expected, None)


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_failed_status_callbacks_keep_the_code(status: str) -> None:
    fields = {"MessageSid": "SMout", "MessageStatus": status, "ErrorCode": "30003"}
    [item] = twilio.parse(CONNECTION, form(fields), "").items
    assert isinstance(item, StatusItem)
    assert (item.status, item.error_code) == ("failed", "30003")
    assert item.error_title


def test_opted_out_status_says_so_plainly() -> None:
    fields = {"MessageSid": "SMout", "MessageStatus": "failed", "ErrorCode": "21610"}
    [item] = twilio.parse(CONNECTION, form(fields), "").items
    assert isinstance(item, StatusItem)
    assert item.error_code == "21610"
    assert "opted out" in (item.error_title or "")


@pytest.mark.parametrize("status", ["queued", "accepted", "sending", "scheduled"])
def test_intermediate_statuses_are_ignored_and_counted(status: str) -> None:
    parsed = twilio.parse(CONNECTION, form({"MessageSid": "SM1", "MessageStatus": status}), "")
    assert parsed.items == []
    assert parsed.ignored == {f"status:{status}": 1}


def test_other_numbers_and_accounts_are_ignored() -> None:
    other_number = twilio.parse(CONNECTION, form({**INBOUND, "To": "+15550000000"}), "")
    assert (other_number.items, other_number.ignored) == ([], {"other_number": 1})
    other_account = twilio.parse(CONNECTION, form({**INBOUND, "AccountSid": "AC" + "f" * 32}), "")
    assert (other_account.items, other_account.ignored) == ([], {"other_account": 1})
    empty = twilio.parse(CONNECTION, form({**INBOUND, "Body": ""}), "")
    assert (empty.items, empty.ignored) == ([], {"message:empty": 1})


@pytest.mark.parametrize(
    "body", [b"", form({"Body": "no sid", "From": "+1555"}), form({"MessageSid": "SM1"}), b"\xff"]
)
def test_rejects_what_is_not_twilio(body: bytes) -> None:
    with pytest.raises(PayloadRejected):
        twilio.parse(CONNECTION, body, "")


# --- REST calls against a recording server -------------------------------------------------


@dataclass
class Recorded:
    """One request the fake Twilio API received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        """The form fields, repeated ones as lists."""
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class FakeTwilio:
    """Answers every request with the next queued answer (201 message JSON by default)."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    answers: list[tuple[Any, ...]] = field(default_factory=list)

    def next_answer(self) -> tuple[Any, ...]:
        """(status, JSON document or bytes, content type[, headers])."""
        if self.answers:
            return self.answers.pop(0)
        return 201, {"sid": "SM" + "a" * 32, "status": "queued"}, "application/json"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    """A fake Twilio REST API on loopback."""
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake.requests.append(Recorded(self.command, self.path, headers, body))
            status, doc, kind, *extra = fake.next_answer()
            data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            for name, value in (extra[0] if extra else {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def conn(fake: FakeTwilio) -> dict[str, Any]:
    """The connection pointed at the fake, with the webhook URL delivery adds."""
    return {**CONNECTION, "api_url": fake.url, "webhook_url": HOOK}


BASIC = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()


async def test_send_request_shape(fake: FakeTwilio) -> None:
    files = [
        OutboundFile("a.png", "image/png", b"1", "https://rolodex.example.com/public/v1/files/a?x"),
        OutboundFile(
            "b.pdf", "application/pdf", b"2", "https://rolodex.example.com/public/v1/files/b?y"
        ),
    ]
    async with httpx.AsyncClient() as http:
        sent = await twilio.send(http, conn(fake), "+34600111222", "Your order shipped", files)
    assert sent.provider_message_id == "SM" + "a" * 32
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json")
    assert request.headers["authorization"] == BASIC
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {
        "To": ["+34600111222"],
        "From": [NUMBER],
        "Body": ["Your order shipped"],
        "MediaUrl": [files[0].url, files[1].url],
        "StatusCallback": [HOOK],
    }


async def test_send_text_only(fake: FakeTwilio) -> None:
    async with httpx.AsyncClient() as http:
        await twilio.send(http, conn(fake), "+34600111222", "hi", [])
    assert "MediaUrl" not in fake.requests[0].form()


def twilio_error(status: int, code: int, message: str) -> tuple[int, Any, str]:
    """An error as Twilio's REST API words it."""
    doc = {"code": code, "message": message, "more_info": "", "status": status}
    return status, doc, "application/json"


@pytest.mark.parametrize(
    ("answer", "code", "retryable"),
    [
        (twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"), "21610", False),
        (twilio_error(429, 20429, "Too Many Requests"), "20429", True),
        (twilio_error(400, 20429, "Too Many Requests"), "20429", True),
        (twilio_error(503, 20500, "Service unavailable"), "20500", True),
        (twilio_error(400, 21211, "Invalid 'To' Phone Number"), "21211", False),
        (twilio_error(401, 20003, "Authenticate"), "20003", False),
        ((502, b"<html>bad gateway</html>", "text/html"), "http_502", True),
    ],
)
async def test_send_errors(
    fake: FakeTwilio, answer: tuple[Any, ...], code: str, retryable: bool
) -> None:
    fake.answers.append(answer)
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await twilio.send(http, conn(fake), "+34600111222", "hi", [])
    assert (caught.value.code, caught.value.retryable) == (code, retryable)
    if code == "21610":
        assert "opted out" in caught.value.title


async def test_send_refuses_nothing_and_files_without_a_url(fake: FakeTwilio) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError):
            await twilio.send(http, conn(fake), "+34600111222", "", [])
        with pytest.raises(PlatformError) as caught:
            await twilio.send(
                http, conn(fake), "+3460", "x", [OutboundFile("a", "image/png", b"", None)]
            )
    assert caught.value.code == "no_public_url"
    assert fake.requests == []


async def test_test_gets_the_account(fake: FakeTwilio) -> None:
    fake.answers.append((200, {"sid": SID, "friendly_name": "Acme support"}, "application/json"))
    async with httpx.AsyncClient() as http:
        assert await twilio.test(http, conn(fake)) == "Acme support"
    [request] = fake.requests
    assert (request.method, request.path) == ("GET", f"/2010-04-01/Accounts/{SID}.json")
    assert request.headers["authorization"] == BASIC


async def test_download_with_basic_auth(fake: FakeTwilio) -> None:
    fake.answers.append((200, b"\x89PNG...", "image/png"))
    ref = MediaRef(
        f"{fake.url}/2010-04-01/Accounts/{SID}/Messages/MM1/Media/ME1", "image/png", "ME1.png"
    )
    async with httpx.AsyncClient() as http:
        media = await twilio.download(http, conn(fake), ref, 1000)
    assert (media.data, media.content_type, media.filename) == (
        b"\x89PNG...",
        "image/png",
        "ME1.png",
    )
    assert fake.requests[0].headers["authorization"] == BASIC


async def test_download_follows_one_redirect_without_credentials(fake: FakeTwilio) -> None:
    # Twilio answers a MediaUrl with a redirect to its storage: followed, credentials dropped.
    stored = f"{fake.url}/s3/ME1"
    fake.answers += [
        (307, b"", "text/plain", {"Location": stored}),
        (307, b"", "text/plain", {"Location": stored}),
        (200, b"JPEGDATA", "image/jpeg"),
    ]
    url = f"{fake.url}/2010-04-01/Accounts/{SID}/Messages/MM1/Media/ME1"
    async with httpx.AsyncClient() as http:
        media = await twilio.download(http, conn(fake), MediaRef(url, "image/jpeg", "x.jpg"), 1000)
    assert media.data == b"JPEGDATA"
    assert [r.path for r in fake.requests][-1] == "/s3/ME1"
    assert "authorization" not in fake.requests[-1].headers

"""The reference bot (examples/reference_bot) alone, as a real process: signed events in, the
Inbox 2.0 / Sparkcentral virtual-agent answers out. No Rolodex, no database."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

SERVER = Path(__file__).resolve().parents[2] / "examples" / "reference_bot" / "server.py"
SECRET = "5e" * 32


class Bot:
    """A running reference bot and a client to it."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            _, err = self.process.communicate(timeout=5)
            raise RuntimeError(f"reference bot did not start: {line!r} {err}")
        self.url = line.rsplit(" ", 1)[1].strip()
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def post(self, body: bytes, signature: str | None) -> httpx.Response:
        """POST raw bytes to /webhook with this X-Sparkcentral-Signature (None: no header)."""
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Sparkcentral-Signature"] = signature
        return self.http.post("/webhook", content=body, headers=headers)

    def send(self, kind: str, data: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        """A signed event, as Rolodex sends it."""
        body = envelope(kind, data)
        return self.post(body, sign(body, secret))

    def answer(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """The bot's 200 answer to a signed event."""
        response = self.send(kind, data)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def events(self) -> list[dict[str, Any]]:
        """What the bot recorded."""
        events: list[dict[str, Any]] = self.http.get("/_events").json()
        return events

    def stop(self) -> str:
        """Stop the process; its stderr (the log)."""
        self.http.close()
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


def sign(body: bytes, secret: str = SECRET) -> str:
    """An independent HMAC-SHA256 of the raw body, keyed with the hex secret's bytes."""
    return hmac.new(bytes.fromhex(secret), body, hashlib.sha256).hexdigest()


def envelope(kind: str, data: dict[str, Any]) -> bytes:
    """The contract's envelope, serialized the way a sender might (spacing kept as is)."""
    doc = {
        "timestamp": 1764860000000,
        "idempotencyKey": f"key-{kind}",
        "version": 1,
        "type": kind,
        "data": data,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()


def started(
    *,
    name: str = "Maria Garcia",
    vip: bool = False,
    language: str | None = "en",
    attributes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """CONVERSATION_STARTED's data for a web chat visitor."""
    return {
        "conversationId": "conv_1",
        "medium": {"id": "rtm"},
        "channel": {"id": "ch_1", "name": "Shop chat"},
        "language": language,
        "contactProfile": {
            "id": "cp_1",
            "mediumContactProfileId": "wc-1",
            "primaryIdentifier": name,
            "secondaryIdentifier": None,
            "pictureUrl": None,
            "vip": vip,
        },
        "contactAttributes": attributes or [],
    }


def message(text: str, **extra: Any) -> dict[str, Any]:
    """INBOUND_MESSAGE_RECEIVED's data."""
    data = started(**extra)
    data["message"] = {"messageId": "msg_1", "text": text, "payload": None}
    return data


def order(value: str) -> list[dict[str, Any]]:
    """contactAttributes holding an order number."""
    return [{"attribute": "order_number", "value": value, "source": "BOT"}]


@pytest.fixture
def bot() -> Iterator[Bot]:
    running = Bot("--secret", SECRET)
    try:
        yield running
    finally:
        running.stop()


def test_a_bad_or_missing_signature_is_refused(bot: Bot) -> None:
    body = envelope("CONVERSATION_STARTED", started())
    assert bot.post(body, sign(body, "ab" * 32)).status_code == 401
    assert bot.post(body, None).status_code == 401
    assert bot.post(body + b" ", sign(body)).status_code == 401, "signed bytes, not the JSON"
    events = bot.events()
    assert [e["signature_ok"] for e in events] == [False, False, False]
    assert all(e["status"] == 401 and e["answer"] == {"error": "bad_signature"} for e in events)
    assert bot.post(body, sign(body).upper()).status_code == 200, "hex case does not matter"


def test_a_new_conversation_is_asked_for_its_order_number(bot: Bot) -> None:
    answer = bot.answer("CONVERSATION_STARTED", started())
    assert answer == {
        "sendMessage": {"text": "Hi Maria! I'm the shop's assistant. What's your order number?"}
    }
    anonymous = bot.answer("CONVERSATION_DELEGATED", started(name="visitor-3f2a9c"))
    assert anonymous["sendMessage"]["text"].startswith("Hi! I'm the shop's assistant.")
    assert "complete" not in anonymous


def test_a_known_order_number_is_named_in_the_greeting(bot: Bot) -> None:
    answer = bot.answer("CONVERSATION_STARTED", started(attributes=order("A-12345")))
    text = "Hi Maria! I see your order A-12345. How can I help?"
    assert answer == {"sendMessage": {"text": text}}
    empty = bot.answer("CONVERSATION_STARTED", started(attributes=order("")))
    assert "order number" in empty["sendMessage"]["text"], "an empty value is no order"


def test_a_vip_is_handed_over_at_once_with_a_note(bot: Bot) -> None:
    for kind in ("CONVERSATION_STARTED", "CONVERSATION_DELEGATED"):
        answer = bot.answer(kind, started(vip=True, attributes=order("123456")))
        assert answer == {
            "sendMessage": {
                "text": "Welcome back! A person from our team is with you in a moment."
            },
            "applyConversationNotes": ["VIP contact: handed to a person at once."],
            "complete": "HANDOVER",
        }


def test_an_order_number_is_noted_in_the_contact_attribute(bot: Bot) -> None:
    answer = bot.answer("INBOUND_MESSAGE_RECEIVED", message("It's order a-98765, please help"))
    assert answer["setContactAttributes"] == {"order_number": "a-98765"}, "as written"
    assert answer["sendMessage"]["text"].startswith("Thanks, I noted order a-98765.")
    assert answer["applyConversationNotes"] == ["Order number given: a-98765"]
    assert "complete" not in answer
    digits = bot.answer("INBOUND_MESSAGE_RECEIVED", message("order #123456"))
    assert digits["setContactAttributes"] == {"order_number": "123456"}


def test_the_order_attribute_can_be_another_one() -> None:
    other = Bot("--secret", SECRET, "--order-attribute", "order_id")
    try:
        answer = other.answer("INBOUND_MESSAGE_RECEIVED", message("B-4242"))
        assert answer["setContactAttributes"] == {"order_id": "B-4242"}
        known = [{"attribute": "order_id", "value": "B-4242", "source": "BOT"}]
        greeting = other.answer("CONVERSATION_STARTED", started(attributes=known))
        assert "B-4242" in greeting["sendMessage"]["text"]
    finally:
        other.stop()


def test_no_order_number_asks_again(bot: Bot) -> None:
    answer = bot.answer("INBOUND_MESSAGE_RECEIVED", message("where is my parcel? it's 123"))
    assert list(answer) == ["sendMessage"]
    assert "order number" in answer["sendMessage"]["text"]
    known = bot.answer("INBOUND_MESSAGE_RECEIVED", message("ok", attributes=order("A-1234")))
    assert "A-1234" in known["sendMessage"]["text"], "not asked again once it is known"


def test_a_bare_hello_is_left_to_the_greeting(bot: Bot) -> None:
    """The first message comes as INBOUND_MESSAGE_RECEIVED too, after CONVERSATION_STARTED's
    greeting asked for the order number: a bare hello is not asked twice."""
    for text in ("Hello", "hi!", "Good morning", "Hola", "¡Buenas tardes!"):
        assert bot.answer("INBOUND_MESSAGE_RECEIVED", message(text)) == {}, text
    hello_there = bot.answer("INBOUND_MESSAGE_RECEIVED", message("Hello, where is my parcel?"))
    assert "order number" in hello_there["sendMessage"]["text"]


def test_thanks_resolves_and_asking_for_a_person_hands_over(bot: Bot) -> None:
    for text in ("Thanks a lot!", "thank you", "THANKS"):
        answer = bot.answer("INBOUND_MESSAGE_RECEIVED", message(text))
        assert answer["complete"] == "RESOLVED", text
        assert answer["sendMessage"]["text"]
    for text in ("talk to a person", "I want a human", "Agent please"):
        answer = bot.answer("INBOUND_MESSAGE_RECEIVED", message(text))
        assert answer["complete"] == "HANDOVER", text
        assert answer["sendMessage"]["text"]


def test_spanish_when_the_conversation_is_in_spanish(bot: Bot) -> None:
    greeting = bot.answer("CONVERSATION_STARTED", started(name="Lucía F.", language="es-ES"))
    assert greeting["sendMessage"]["text"].startswith("¡Hola, Lucía! Soy el asistente")
    vip = bot.answer("CONVERSATION_STARTED", started(vip=True, language="es"))
    assert vip["sendMessage"]["text"].startswith("¡Hola de nuevo!")
    assert vip["complete"] == "HANDOVER"
    thanks = bot.answer("INBOUND_MESSAGE_RECEIVED", message("¡Muchas gracias!", language="es"))
    assert thanks["complete"] == "RESOLVED"
    assert thanks["sendMessage"]["text"] == "¡De nada! Que tengas un buen día."
    person = bot.answer("INBOUND_MESSAGE_RECEIVED", message("Quiero un agente", language="es"))
    assert person["complete"] == "HANDOVER"
    noted = bot.answer("INBOUND_MESSAGE_RECEIVED", message("Pedido 55210", language="es"))
    assert noted["sendMessage"]["text"].startswith("Gracias, he anotado el pedido 55210.")
    english = bot.answer("CONVERSATION_STARTED", started(language=None))
    assert english["sendMessage"]["text"].startswith("Hi Maria!")


def test_unknown_events_are_answered_with_an_empty_object(bot: Bot) -> None:
    assert bot.answer("CONVERSATION_ASSIGNED", {"conversationId": "conv_1"}) == {}
    assert bot.answer("SOMETHING_NEW", {}) == {}


def test_a_silent_bot_answers_empty_objects() -> None:
    silent = Bot("--secret", SECRET, "--silent")
    try:
        assert silent.answer("CONVERSATION_STARTED", started(vip=True)) == {}
        assert silent.answer("INBOUND_MESSAGE_RECEIVED", message("thanks")) == {}
        body = envelope("CONVERSATION_STARTED", started())
        assert silent.post(body, "00").status_code == 401, "still checks the signature"
    finally:
        silent.stop()


def test_a_failing_bot_answers_500() -> None:
    down = Bot("--secret", SECRET, "--fail")
    try:
        response = down.send("CONVERSATION_STARTED", started())
        assert response.status_code == 500
        assert down.http.get("/healthz").status_code == 200
        assert [e["status"] for e in down.events()] == [500]
    finally:
        down.stop()


def test_the_secret_file_is_read_on_every_request(tmp_path: Path) -> None:
    secret_file = tmp_path / "bot-secret"
    running = Bot("--secret-file", str(secret_file))  # not written yet: a warning, then 401
    try:
        assert running.send("CONVERSATION_STARTED", started()).status_code == 401
        secret_file.write_text(SECRET + "\n")
        assert running.send("CONVERSATION_STARTED", started()).status_code == 200
        rotated = "c0" * 32
        secret_file.write_text(rotated)
        assert running.send("CONVERSATION_STARTED", started()).status_code == 401
        assert running.send("CONVERSATION_STARTED", started(), secret=rotated).status_code == 200
    finally:
        log = running.stop()
    assert "warning" in log


def test_events_record_raw_bodies_and_headers_and_reset(bot: Bot) -> None:
    assert bot.http.get("/healthz").text == "ok"
    body = envelope("INBOUND_MESSAGE_RECEIVED", message("Pedido Nº 1234 — ¿dónde está?"))
    signature = sign(body)
    response = bot.post(body, signature)
    assert response.status_code == 200
    events = bot.events()
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "INBOUND_MESSAGE_RECEIVED"
    assert event["signature_ok"] is True
    assert event["body"].encode() == body, "the raw body, byte for byte"
    assert event["headers"]["x-sparkcentral-signature"] == signature
    assert event["headers"]["content-type"] == "application/json"
    assert event["answer"] == response.json()
    # The tests' own check: the recorded body verifies with an independent HMAC.
    recorded = event["body"].encode()
    assert hmac.compare_digest(sign(recorded), event["headers"]["x-sparkcentral-signature"])
    assert bot.http.post("/_reset").status_code == 200
    assert bot.events() == []


def test_one_log_line_per_event() -> None:
    running = Bot("--secret", SECRET)
    try:
        running.answer("CONVERSATION_STARTED", started(vip=True))
        running.answer("INBOUND_MESSAGE_RECEIVED", message("thanks"))
    finally:
        log = running.stop()
    lines = [line for line in log.splitlines() if "conv_1" in line]
    assert len(lines) == 2, log
    assert lines[0].startswith("CONVERSATION_STARTED conv_1 -> ")
    assert "complete=HANDOVER" in lines[0]
    assert "complete=RESOLVED" in lines[1]

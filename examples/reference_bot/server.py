"""A reference virtual agent (bot) speaking Rolodex's Inbox 2.0 / Sparkcentral bot contract.

Rolodex POSTs signed events to `/webhook`; the bot answers each one synchronously with its
actions (sendMessage, setContactAttributes, applyConversationNotes, complete…). It is a
small shop assistant: it greets, asks for an order number, notes it in a contact attribute,
hands over to a person when asked (or at once for VIP contacts) and resolves on "thanks".
It keeps no state per conversation: everything it needs comes in the event.

Standard library only. Its test panel (no authentication: a test double, keep it on loopback):
  GET  /_events   every request received on /webhook, oldest first: type, signature_ok,
                  headers (lower-case names), body (the raw body as text), status, answer
  POST /_reset    forget them
  GET  /healthz   200 "ok"
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

JSONObject = dict[str, Any]
SIGNATURE_HEADER = "x-sparkcentral-signature"
MAX_BODY = 1024 * 1024

# An order number: optionally 1 to 3 letters and a dash, then 4 to 10 digits (A-12345, 123456).
ORDER_NUMBER = re.compile(r"\b(?:[A-Za-z]{1,3}-)?\d{4,10}\b")
THANKS = re.compile(r"thank|gracias", re.IGNORECASE)
HUMAN = re.compile(r"\b(?:human|humano|agent|agente|person|persona|people)s?\b", re.IGNORECASE)
ANONYMOUS = re.compile(r"^visitor-", re.IGNORECASE)
# A bare hello: the conversation's first message often is one, and Rolodex sends it as
# INBOUND_MESSAGE_RECEIVED right after CONVERSATION_STARTED, whose greeting answered it.
HELLO = re.compile(
    r"\W*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|hola|buenas"
    r"(?: tardes| noches)?|buenos d[ií]as)\W*",
    re.IGNORECASE,
)

# What the bot says, in English and Spanish ({hi} is "hi" or "hi_name": see greet()).
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "vip": "Welcome back! A person from our team is with you in a moment.",
        "hi": "Hi!",
        "hi_name": "Hi {name}!",
        "known_order": "{hi} I see your order {order}. How can I help?",
        "ask_order": "{hi} I'm the shop's assistant. What's your order number?",
        "goodbye": "You're welcome! Have a nice day.",
        "handover": "Of course: I'm passing you to a person from our team.",
        "noted": (
            "Thanks, I noted order {order}. Tell me what you need, or say "
            "'talk to a person' and someone from our team takes it from here."
        ),
        "again": (
            "Could you give me your order number? It looks like A-12345 or 123456. "
            "You can also say 'talk to a person'."
        ),
        "have_order": (
            "I have your order {order} noted. Say 'talk to a person' for more help, "
            "or 'thanks' when you're done."
        ),
    },
    "es": {
        "vip": "¡Hola de nuevo! Una persona de nuestro equipo te atiende en un momento.",
        "hi": "¡Hola!",
        "hi_name": "¡Hola, {name}!",
        "known_order": "{hi} Veo tu pedido {order}. ¿En qué puedo ayudarte?",
        "ask_order": "{hi} Soy el asistente de la tienda. ¿Cuál es tu número de pedido?",
        "goodbye": "¡De nada! Que tengas un buen día.",
        "handover": "Claro: te paso con una persona de nuestro equipo.",
        "noted": (
            "Gracias, he anotado el pedido {order}. Dime qué necesitas, o escribe "
            "«hablar con una persona» y alguien de nuestro equipo seguirá contigo."
        ),
        "again": (
            "¿Me das tu número de pedido? Tiene la forma A-12345 o 123456. "
            "También puedes escribir «hablar con una persona»."
        ),
        "have_order": (
            "Tengo anotado tu pedido {order}. Escribe «hablar con una persona» si necesitas "
            "más ayuda, o «gracias» cuando hayas terminado."
        ),
    },
}
VIP_NOTE = "VIP contact: handed to a person at once."


def language(data: JSONObject) -> str:
    """Spanish when the conversation's language starts with "es", else English."""
    value = data.get("language")
    return "es" if isinstance(value, str) and value.lower().startswith("es") else "en"


def first_name(data: JSONObject) -> str | None:
    """The first word of the contact's primary identifier, unless it is not a name."""
    profile = data.get("contactProfile")
    identifier = profile.get("primaryIdentifier") if isinstance(profile, dict) else None
    if not isinstance(identifier, str) or not identifier.split():
        return None
    word = identifier.split()[0]
    # visitor-3f2a (an anonymous web chat visitor), an address, a handle or a phone number.
    if ANONYMOUS.match(word) or "@" in word or any(c.isdigit() for c in word):
        return None
    return word


def attribute_value(data: JSONObject, alias: str) -> str | None:
    """The contact's value of one attribute, from the event's contactAttributes."""
    entries = data.get("contactAttributes")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("attribute") == alias:
            value = entry.get("value")
            if value not in (None, ""):
                return str(value)
    return None


def say(text: str, **actions: Any) -> JSONObject:
    """An answer sending one message, with any other actions."""
    return {"sendMessage": {"text": text}, **actions}


def greet(data: JSONObject, order_attribute: str) -> JSONObject:
    """The answer to a conversation the bot has just been given."""
    texts = TEXTS[language(data)]
    profile = data.get("contactProfile")
    if isinstance(profile, dict) and profile.get("vip") is True:
        return say(texts["vip"], applyConversationNotes=[VIP_NOTE], complete="HANDOVER")
    name = first_name(data)
    hi = texts["hi_name"].format(name=name) if name else texts["hi"]
    order = attribute_value(data, order_attribute)
    if order is not None:
        return say(texts["known_order"].format(hi=hi, order=order))
    return say(texts["ask_order"].format(hi=hi))


def reply(data: JSONObject, order_attribute: str) -> JSONObject:
    """The answer to a customer's message."""
    texts = TEXTS[language(data)]
    message = data.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    text = text if isinstance(text, str) else ""
    if THANKS.search(text):
        return say(texts["goodbye"], complete="RESOLVED")
    if HUMAN.search(text):
        return say(texts["handover"], complete="HANDOVER")
    found = ORDER_NUMBER.search(text)
    if found:
        order = found.group(0)
        return {
            "setContactAttributes": {order_attribute: order},
            "sendMessage": {"text": texts["noted"].format(order=order)},
            "applyConversationNotes": [f"Order number given: {order}"],
        }
    if HELLO.fullmatch(text):
        return {}  # the greeting (CONVERSATION_STARTED) already asked for what it needs
    known = attribute_value(data, order_attribute)
    if known is not None:
        return say(texts["have_order"].format(order=known))
    return say(texts["again"])


def answer(event: Any, order_attribute: str) -> JSONObject:
    """The bot's actions for one event; `{}` for an event it does not know (the contract)."""
    if not isinstance(event, dict):
        return {}
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    kind = event.get("type")
    if kind in ("CONVERSATION_STARTED", "CONVERSATION_DELEGATED"):
        return greet(data, order_attribute)
    if kind == "INBOUND_MESSAGE_RECEIVED":
        return reply(data, order_attribute)
    return {}


def summary(reply_body: JSONObject) -> str:
    """What an answer does, for the log line."""
    parts = []
    for key, value in reply_body.items():
        parts.append(f"{key}={value}" if key == "complete" else key)
    return ",".join(parts) or "{}"


class Bot:
    """The bot's settings and its request log, shared by the handler threads."""

    def __init__(
        self,
        *,
        secret_hex: str | None,
        secret_file: Path | None,
        order_attribute: str,
        silent: bool = False,
        fail: bool = False,
    ) -> None:
        self._secret_hex = secret_hex
        self._secret_file = secret_file
        self.order_attribute = order_attribute
        self.silent = silent
        self.fail = fail
        self._lock = threading.Lock()
        self._events: list[JSONObject] = []

    def key(self) -> bytes | None:
        """The signing key; the secret file is read afresh each time (rotation)."""
        secret = self._secret_hex
        if self._secret_file is not None:
            try:
                secret = self._secret_file.read_text(encoding="utf-8")
            except OSError:
                return None
        try:
            return bytes.fromhex((secret or "").strip()) or None
        except ValueError:
            return None

    def signature_ok(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether X-Sparkcentral-Signature is the hex HMAC-SHA256 of exactly these bytes."""
        key = self.key()
        if key is None:
            return False
        given = headers.get(SIGNATURE_HEADER, "").strip().lower()
        expected = hmac.new(key, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.encode(), expected.encode())

    def webhook(self, headers: dict[str, str], body: bytes) -> tuple[int, JSONObject]:
        """One event: checked, answered, recorded and logged."""
        ok = self.signature_ok(headers, body)
        try:
            event: Any = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            event = None
        kind = event.get("type") if isinstance(event, dict) else None
        data = event.get("data") if isinstance(event, dict) else None
        conversation = data.get("conversationId") if isinstance(data, dict) else None
        status, reply_body = self._decide(ok, event)
        with self._lock:
            self._events.append(
                {
                    "type": kind,
                    "signature_ok": ok,
                    "headers": headers,
                    "body": body.decode("utf-8", "replace"),
                    "status": status,
                    "answer": reply_body,
                }
            )
        what = summary(reply_body) if status == 200 else f"{status} {reply_body.get('error')}"
        print(f"{kind} {conversation} -> {what}", file=sys.stderr, flush=True)  # noqa: T201
        return status, reply_body

    def _decide(self, signature_ok: bool, event: Any) -> tuple[int, JSONObject]:
        if self.fail:
            return 500, {"error": "bot_down"}
        if not signature_ok:
            return 401, {"error": "bad_signature"}
        if event is None:
            return 400, {"error": "bad_json"}
        if self.silent:
            return 200, {}
        return 200, answer(event, self.order_attribute)

    def events(self) -> list[JSONObject]:
        """Every request received on /webhook, oldest first."""
        with self._lock:
            return list(self._events)

    def reset(self) -> None:
        """Forget the received requests."""
        with self._lock:
            self._events.clear()


class Handler(BaseHTTPRequestHandler):
    """Moves bytes between HTTP and the bot; keep-alive needs HTTP/1.1 and Content-Length."""

    protocol_version = "HTTP/1.1"
    server: BotServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the bot logs one line per event itself."""

    def do_GET(self) -> None:
        """Handle a GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Handle a POST."""
        self._handle("POST")

    def _handle(self, method: str) -> None:
        bot = self.server.bot
        path = urllib.parse.urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._send(413, {"error": "too_large"})
            return
        body = self.rfile.read(length) if length > 0 else b""
        if (method, path) == ("POST", "/webhook"):
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._send(*bot.webhook(headers, body))
        elif (method, path) == ("GET", "/_events"):
            self._send(200, bot.events())
        elif (method, path) == ("POST", "/_reset"):
            bot.reset()
            self._send(200, {"reset": True})
        elif (method, path) == ("GET", "/healthz"):
            self._send(200, b"ok")
        else:
            self._send(404, {"error": "not_found"})

    def _send(self, status: int, reply_body: Any) -> None:
        if isinstance(reply_body, bytes):
            payload, kind = reply_body, "text/plain; charset=utf-8"
        else:
            payload, kind = json.dumps(reply_body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class BotServer(ThreadingHTTPServer):
    """A thread per connection, so one slow client never holds up another."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], bot: Bot) -> None:
        super().__init__(address, Handler)
        self.bot = bot


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8030, help="0 picks a free port")
    secret = parser.add_mutually_exclusive_group(required=True)
    secret.add_argument("--secret", help="the bot's signing secret as Rolodex shows it (hex)")
    secret.add_argument(
        "--secret-file",
        type=Path,
        help="a file holding the hex secret, read on every request (a rotated secret works)",
    )
    parser.add_argument(
        "--order-attribute",
        default="order_number",
        help="the custom attribute key the order number goes to (default: order_number)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--silent", action="store_true", help="answer {} to every event")
    mode.add_argument("--fail", action="store_true", help="answer 500 to every event (down)")
    args = parser.parse_args(argv)
    if args.secret is not None:
        try:
            if not bytes.fromhex(args.secret.strip()):
                parser.error("--secret is empty")
        except ValueError:
            parser.error("--secret must be hex")
    return args


def build_server(args: argparse.Namespace) -> BotServer:
    """A bound, not yet serving server (port 0: a free one)."""
    bot = Bot(
        secret_hex=args.secret,
        secret_file=args.secret_file,
        order_attribute=args.order_attribute,
        silent=args.silent,
        fail=args.fail,
    )
    return BotServer((args.host, args.port), bot)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    args = parse_args(argv)
    server = build_server(args)
    if server.bot.key() is None:
        print(  # noqa: T201
            f"warning: no hex secret in {args.secret_file} yet: every event gets 401",
            file=sys.stderr,
            flush=True,
        )
    port = server.server_address[1]
    print(f"reference bot listening on http://{args.host}:{port}", flush=True)  # noqa: T201

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever() to return, so it cannot run on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A simulator of the messaging platforms Rolodex connects to, for tests and the demo.

Meta's (WhatsApp Cloud API, Messenger, Instagram) here; Twilio SMS (twilio.py), X direct
messages (x.py) and email (mail.py: an SMTP sink and the customer's mail client) beside it.
It plays both sides a Rolodex channel talks to: the platform API Rolodex calls (connection
tests, sends, media, profiles) and the customer whose messages arrive as signed webhooks (or
mail). The wire formats are the contracts Rolodex speaks (see README.md). A test double: no
authentication on the control API (/_sim/...), state in memory.
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import signal
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import mail as mail_platform  # the SMTP sink and the customer's mail (mail.py, beside this file)
import twilio as twilio_platform  # Twilio SMS/MMS (twilio.py, beside this file)
import x as x_platform  # X's DM API and Account Activity (x.py, beside this file)
from common import now_iso, tiny_png  # (common.py, beside this file)

JSONObject = dict[str, Any]

PAGE = Path(__file__).with_name("page.html")
PLATFORMS = ("whatsapp", "messenger", "instagram")
OBJECTS = {"whatsapp": "whatsapp_business_account", "messenger": "page", "instagram": "instagram"}
VERSION = re.compile(r"v\d+\.\d+")
ACCOUNT_ID = re.compile(r"[A-Za-z0-9_.-]+")
SIGN_VALUES = (True, False, "wrong")
POST_TIMEOUT = 10.0  # seconds, for webhook posts, the handshake and attachment fetches
MAX_FETCH = 25 * 1024 * 1024  # Meta's attachment limit
# Status progressions, in the order the platforms report them.
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3}
AUTO_STATUSES = {"whatsapp": ["sent", "delivered", "read"], "other": ["delivered", "read"]}
AUTO_STATUS_GAP = 0.05

ACCOUNT_FIELDS = {
    "platform",
    "id",
    "access_token",
    "app_secret",
    "webhook_url",
    "verify_token",
    "name",
    "display_phone_number",
    "username",
    "waba_id",
    "auto_status",
}
USER_FIELDS = {"id", "name", "first_name", "last_name", "username", "follower_count", "phone"}
USER_FIELDS |= {"locale"}

# Inbound message types each platform has (the simulator refuses the others with 400).
COMMON_TYPES = {"text", "image", "document", "audio", "video", "sticker", "reaction", "unsupported"}
INBOUND_TYPES = {
    "whatsapp": COMMON_TYPES | {"location", "contacts", "interactive", "button"},
    "messenger": COMMON_TYPES | {"location", "echo", "postback", "quick_reply"},
    "instagram": COMMON_TYPES
    | {"echo", "postback", "quick_reply"}
    | {"share", "story_mention", "ig_reel", "reel"},
}
INBOUND_FIELDS = {
    "account_id",
    "user",
    "type",
    "text",
    "target_message_id",
    "emoji",
    "repeat",
    "sign",
    "message_id",
    "caption",
    "filename",
    "mime_type",
    "content_base64",
    "latitude",
    "longitude",
    "location_name",
    "address",
    "payload",
    "reply_id",
    "interactive_type",
    "description",
    "contact_name",
    "contact_phone",
    "reply_to",
    "url",
    "app_id",
    "raw_type",
}
# Meta's reaction names for the emoji its apps offer.
REACTION_NAMES = {"😀": "smile", "😆": "smile", "😍": "love", "❤️": "love", "😮": "wow"}
REACTION_NAMES |= {"😢": "sad", "😠": "angry", "👍": "like", "👎": "dislike"}
# The Page inbox app: echoes of what the business wrote in Meta Business Suite carry its id.
PAGE_INBOX_APP_ID = 263902037430900

WA_SEND_TYPES = ("text", "image", "video", "audio", "document")
WA_MEDIA_KEYS = {"image": {"id", "caption"}, "video": {"id", "caption"}, "audio": {"id"}}
WA_MEDIA_KEYS["document"] = {"id", "caption", "filename"}
META_ATTACHMENT_TYPES = ("image", "video", "audio", "file")
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
SENDER_ACTIONS = ("mark_seen", "typing_on", "typing_off")

# Fields each Graph node answers; asking for another is Graph's error 100.
NODE_FIELDS = {
    "whatsapp": {"id", "display_phone_number", "verified_name", "quality_rating"},
    "messenger": {"id", "name", "username"},
    "instagram": {"id", "username", "name", "followers_count"},
}
NODE_DEFAULT_FIELDS = {
    "whatsapp": ["display_phone_number", "verified_name", "id"],
    "messenger": ["name", "id"],
    "instagram": ["username", "name", "id"],
}
PROFILE_FIELDS = {
    "messenger": {"id", "first_name", "last_name", "name", "profile_pic", "locale"},
    "instagram": {"id", "name", "username", "profile_pic", "follower_count"}
    | {"is_verified_user", "is_user_follow_business", "is_business_follow_user"},
}
PROFILE_DEFAULT_FIELDS = {
    "messenger": ["first_name", "last_name", "profile_pic", "id"],
    "instagram": ["name", "username", "profile_pic", "id"],
}

# Graph error codes the simulator can inject: (default HTTP status, title, details).
RE_ENGAGEMENT = (
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number."
)
GRAPH_ERRORS: dict[int, tuple[int, str, str]] = {
    1: (500, "An unknown error occurred", "An unknown error occurred."),
    2: (503, "Service temporarily unavailable", "Service temporarily unavailable."),
    4: (400, "Application request limit reached", "Application request limit reached."),
    10: (400, "Application does not have permission for this action", "Permission denied."),
    17: (400, "User request limit reached", "User request limit reached."),
    32: (400, "Page request limit reached", "Page request limit reached."),
    100: (400, "Invalid parameter", "Invalid parameter."),
    190: (401, "Invalid OAuth access token - Cannot parse access token", ""),
    200: (403, "Permissions error", "Permissions error."),
    368: (400, "Temporarily blocked for policies violations", "Policy violation."),
    551: (400, "This person isn't available right now.", "The recipient is unavailable."),
    613: (400, "Calls to this api have exceeded the rate limit.", "Rate limit exceeded."),
    1200: (400, "Temporary send message failure. Please try again later", "Try again later."),
    80007: (400, "Rate limit issues", "The WhatsApp Business Account reached its rate limit."),
    130429: (400, "Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131005: (403, "Access denied", "Permission is either not granted or has been removed."),
    131008: (400, "Required parameter is missing", "A required parameter is missing."),
    131009: (400, "Parameter value is not valid", "A parameter value is not valid."),
    131016: (503, "Service unavailable", "A service is temporarily unavailable."),
    131021: (400, "Recipient cannot be sender", "Sender and recipient are the same number."),
    131026: (400, "Message undeliverable", "Unable to deliver message."),
    131031: (403, "Account has been locked", "The business account is locked."),
    131047: (400, "Re-engagement message", RE_ENGAGEMENT),
    131051: (400, "Unsupported message type", "Message type is currently not supported."),
    131052: (400, "Media download error", "Unable to download the media sent by the user."),
    131053: (400, "Media upload error", "Unable to upload the media used in the message."),
    131056: (
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from this number to the same number in a short period.",
    ),
}
FAIL_KINDS = ("send", "media", "get", "download", "any")
FAIL_FIELDS = {"account_id", "code", "http_status", "times", "delay_seconds", "message"}
FAIL_FIELDS |= {"error_subcode", "details", "on", "disconnect"}


class Problem(Exception):
    """A control-API error answer: status and a human message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class GraphError(Exception):
    """A Graph API error answer, in Graph's `{"error": {...}}` shape."""

    def __init__(
        self,
        status: int,
        code: int,
        title: str,
        details: str | None = None,
        subcode: int | None = None,
    ) -> None:
        super().__init__(title)
        self.status, self.code, self.title = status, code, title
        self.details, self.subcode = details, subcode

    @classmethod
    def invalid(cls, details: str, subcode: int | None = None) -> GraphError:
        """Graph's "(#100) Invalid parameter", with which parameter in error_data.details."""
        return cls(400, 100, "Invalid parameter", details, subcode)

    @classmethod
    def token(cls) -> GraphError:
        """A missing or wrong access token."""
        return cls(401, 190, GRAPH_ERRORS[190][1])

    @classmethod
    def unsupported(cls, method: str, object_id: str) -> GraphError:
        """An object that does not exist or does not take this call."""
        title = (
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not "
            "exist, cannot be loaded due to missing permissions, or does not support this "
            "operation."
        )
        return cls(400, 100, title, subcode=33)

    def body(self, platform: str | None) -> JSONObject:
        """The error document."""
        error: JSONObject = {
            "message": f"(#{self.code}) {self.title}" if self.code != 190 else self.title,
            "type": "OAuthException",
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details:
            data: JSONObject = {"details": self.details}
            if platform == "whatsapp":
                data = {"messaging_product": "whatsapp"} | data
            error["error_data"] = data
            if self.code == 100:
                error["error_user_msg"] = self.details  # Graph's readable "which parameter"
        if self.status >= 500 or self.code in (1, 2):
            error["is_transient"] = True
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
        return {"error": error}


@dataclass
class Reply:
    """An answer: JSON (or raw bytes with a content type), maybe slow or dropped."""

    status: int
    body: Any = None
    content_type: str = "application/json"
    delay: float = 0.0
    disconnect: bool = False


@dataclass
class Incoming:
    """One HTTP request, and what the simulator learnt while handling it (for the record)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lowercased
    body: bytes
    account_id: str | None = None
    extra: JSONObject = field(default_factory=dict)
    _form: tuple[dict[str, str], dict[str, JSONObject]] | None = None

    @property
    def content_type(self) -> str:
        """The media type, without parameters, lowercased."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON (forms are not)."""
        if not self.body or self.content_type.startswith(("multipart/", "application/x-www")):
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    def form(self) -> tuple[dict[str, str], dict[str, JSONObject]]:
        """Form fields and files (multipart or urlencoded); files keep their bytes."""
        if self._form is None:
            self._form = {}, {}
            if self.content_type == "multipart/form-data":
                self._form = parse_multipart(self.headers.get("content-type", ""), self.body)
            elif self.content_type == "application/x-www-form-urlencoded":
                text = self.body.decode("utf-8", "replace")
                self._form = dict(urllib.parse.parse_qsl(text, keep_blank_values=True)), {}
        return self._form

    def bearer(self) -> str | None:
        """The Bearer token of the Authorization header."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, JSONObject]]:
    """Split a multipart/form-data body with the email package (cgi is deprecated)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, JSONObject] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode("utf-8", "replace")
        else:
            announced = part.get("Content-Type")
            files[name] = {
                "filename": filename,
                "content_type": str(announced).split(";")[0].strip() if announced else None,
                "data": data,
            }
    return fields, files


def file_summary(part: JSONObject) -> JSONObject:
    """What the request record keeps of an uploaded file."""
    data: bytes = part["data"]
    summary = {"filename": part["filename"], "content_type": part["content_type"]}
    return summary | {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def now_ms() -> int:
    """Milliseconds since the epoch, as Messenger and Instagram timestamp events."""
    return int(time.time() * 1000)


def numeric_id(digits: int = 16) -> str:
    """A Graph-style numeric id (no leading zero)."""
    return str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))


def wamid() -> str:
    """A fresh WhatsApp message id."""
    return "wamid." + secrets.token_urlsafe(30)


def mid() -> str:
    """A fresh Messenger/Instagram message id."""
    return "m_" + secrets.token_urlsafe(40)


def stable_digits(seed: str, count: int) -> str:
    """Digits derived from a seed, so one name always makes the same default user id."""
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(number % 10**count).zfill(count)


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends: HMAC-SHA256 keyed with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# Small, valid-enough files for inbound media: real headers, so sniffing tools agree.


def sample_file(kind: str) -> tuple[bytes, str, str]:
    """Bytes, content type and file name for a generated inbound file of this kind."""
    salt = secrets.token_hex(8).encode()
    if kind in ("image", "story_mention"):
        return tiny_png(), "image/png", "image.png"
    if kind == "sticker":
        webp = b"WEBPVP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + salt
        return b"RIFF" + struct.pack("<I", len(webp)) + webp, "image/webp", "sticker.webp"
    if kind == "audio":
        return b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead" + salt, "audio/ogg", "voice.ogg"
    if kind in ("video", "ig_reel", "reel"):
        box = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        return box + b"\x00\x00\x00\x10free" + salt, "video/mp4", "video.mp4"
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + salt + b"\ntrailer << >>\n%%EOF\n"
    return pdf, "application/pdf", "document.pdf"


def http_call(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int | None, bytes, str | None, str | None]:
    """One outgoing request: (status or None, body, content type, error)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return None, b"", None, f"not an http(s) URL: {url!r}"
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT) as response:  # noqa: S310
            return (
                response.status,
                response.read(MAX_FETCH + 1),
                response.headers.get("Content-Type"),
                None,
            )
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type"), None
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
        return None, b"", None, f"{type(exc).__name__}: {exc}"


def string(doc: JSONObject, key: str, *, required: bool = True) -> str | None:
    """A string field of a control-API document, or a 400."""
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise Problem(400, f"{key} must be a non-empty string")
    return value


def clean_account(doc: Any) -> JSONObject:
    """Check an account document and fill its defaults."""
    if not isinstance(doc, dict):
        raise Problem(400, "an account is a JSON object")
    unknown = sorted(set(doc) - ACCOUNT_FIELDS)
    if unknown:
        raise Problem(400, f"unknown account field(s): {', '.join(unknown)}")
    platform = doc.get("platform")
    if platform not in PLATFORMS:
        raise Problem(400, f"platform must be one of {', '.join(PLATFORMS)}")
    account: JSONObject = {"platform": platform}
    for key in ("id", "access_token", "app_secret", "webhook_url"):
        account[key] = string(doc, key)
    if not ACCOUNT_ID.fullmatch(account["id"]):
        raise Problem(400, "id may hold letters, digits, '.', '_' and '-' only")
    if urllib.parse.urlsplit(account["webhook_url"]).scheme not in ("http", "https"):
        raise Problem(400, "webhook_url must be an http(s) URL")
    for key in ("verify_token", "name", "display_phone_number", "username", "waba_id"):
        account[key] = string(doc, key, required=False)
    auto = doc.get("auto_status")
    if auto not in (None, "sent", "delivered", "read"):
        raise Problem(400, "auto_status must be null, sent, delivered or read")
    account["auto_status"] = auto
    account["name"] = account["name"] or "Acme"
    if platform == "whatsapp":
        account["display_phone_number"] = account["display_phone_number"] or "15550100"
        account["waba_id"] = account["waba_id"] or numeric_id(15)
    if platform == "instagram":
        account["username"] = account["username"] or "acme"
    return {k: v for k, v in account.items() if v is not None or k == "auto_status"}


class Simulator:
    """The platforms' state and every route; the HTTP handler only moves bytes."""

    def __init__(self, public_url: str = "") -> None:
        self.public_url = public_url
        self.lock = threading.RLock()
        self.accounts: dict[str, JSONObject] = {}
        self.users: dict[str, dict[str, JSONObject]] = {}  # account id -> user id -> user
        self.files: dict[str, JSONObject] = {}  # media and CDN files, by id
        self.threads: dict[tuple[str, str], list[JSONObject]] = {}
        self.messages: dict[str, tuple[str, str]] = {}  # message id -> (account id, user id)
        self.requests: list[JSONObject] = []
        self.webhooks: list[JSONObject] = []
        self.failures: list[JSONObject] = []
        self._request_ids = itertools.count(1)
        self._webhook_ids = itertools.count(1)
        self.x = x_platform.XPlatform(self)
        self.twilio = twilio_platform.TwilioPlatform(self)
        self.smtp: mail_platform.SmtpSink | None = None  # only with --smtp-port
        self.email = mail_platform.Customer()

    # ---------------------------------------------------------------- dispatch

    def dispatch(self, request: Incoming) -> Reply:
        """Route one request; everything but the page and the control API is recorded."""
        path, method = request.path, request.method
        if path == "/" and method == "GET":
            return Reply(200, PAGE.read_bytes(), "text/html; charset=utf-8")
        if path == "/favicon.ico":  # browsers ask; it is no platform call worth recording
            return Reply(404, {"error": "not_found"})
        if path.startswith("/_sim/"):
            try:
                return self.control(request)
            except Problem as problem:
                return Reply(problem.status, {"error": problem.message})
            except Exception as exc:  # a bug: say so rather than drop the connection
                return Reply(500, {"error": f"simulator bug: {type(exc).__name__}: {exc}"})
        try:
            reply = self.platform(request)
        except GraphError as error:
            platform = self.accounts.get(request.account_id or "", {}).get("platform")
            reply = Reply(error.status, error.body(platform))
        except Exception as exc:  # a bug here should show in the record, not drop the socket
            reply = Reply(500, {"error": f"simulator bug: {type(exc).__name__}: {exc}"})
        self.record(request, None if reply.disconnect else reply.status)
        return reply

    def record(self, request: Incoming, status: int | None) -> None:
        """Keep one received request (Graph calls and downloads), before it is answered."""
        fields, files = ({}, {}) if request.method == "GET" else request.form()
        form: JSONObject | None = None
        if fields or files:
            form = dict(fields) | {name: file_summary(part) for name, part in files.items()}
        entry: JSONObject = {
            "id": next(self._request_ids),
            "at": now_iso(),
            "account_id": request.account_id,
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": request.headers,
            "json": request.json(),
            "form": form,
            "status": status,
        }
        with self.lock:
            self.requests.append(entry | request.extra)

    # ---------------------------------------------------------------- Graph and downloads

    def platform(self, request: Incoming) -> Reply:
        """Graph calls (/vNN.N/...), WhatsApp media downloads and the CDN."""
        segments = [s for s in request.path.split("/") if s]
        method = request.method
        if segments[:2] == ["whatsapp_business", "attachments"] and method == "GET":
            return self.download(request)
        if len(segments) == 2 and segments[0] == "cdn" and method == "GET":
            return self.cdn(request, segments[1])
        if segments[:1] in (["2"], ["x-media"]):
            return Reply(*self.x.platform(request))
        if segments[:1] == [twilio_platform.API_VERSION]:
            return Reply(*self.twilio.platform(request))
        if not segments or not VERSION.fullmatch(segments[0]):
            raise GraphError(400, 2500, f"Unknown path components: {request.path}")
        rest = segments[1:]
        if len(rest) == 1 and method == "GET":
            return self.graph_get(request, rest[0])
        if len(rest) == 2 and method == "POST" and rest[1] in ("messages", "media"):
            account = self.account_for(request, rest[0], method)
            if rest[1] == "media":
                if account["platform"] != "whatsapp":
                    raise GraphError.unsupported(method, rest[0] + "/media")
                return self.upload(request, account)
            return self.send(request, account)
        raise GraphError(400, 2500, f"Unknown path components: /{'/'.join(rest)}")

    def token_known(self, token: str | None) -> bool:
        """Whether any account has this access token."""
        with self.lock:
            return token is not None and any(
                a["access_token"] == token for a in self.accounts.values()
            )

    def resolve_me(self, object_id: str, token: str | None) -> str:
        """Graph's `me`: the account whose token this is (Pages are often addressed so)."""
        if object_id != "me":
            return object_id
        with self.lock:
            mine = [a["id"] for a in self.accounts.values() if a["access_token"] == token]
        return mine[0] if mine else object_id

    def account_for(self, request: Incoming, account_id: str, method: str) -> JSONObject:
        """The account a path names, once the Bearer token is its own."""
        token = request.bearer()
        account_id = self.resolve_me(account_id, token)
        with self.lock:
            account = self.accounts.get(account_id)
        if account is None:
            if self.token_known(token):
                raise GraphError.unsupported(method, account_id)
            raise GraphError.token()
        request.account_id = account_id
        if token != account["access_token"]:
            raise GraphError.token()
        return account

    def graph_get(self, request: Incoming, object_id: str) -> Reply:
        """A GET of one node: an account (connection test), a media id or a user (profile)."""
        token = request.bearer()
        object_id = self.resolve_me(object_id, token)
        with self.lock:
            account = self.accounts.get(object_id)
            media = self.files.get(object_id)
            owners = [
                self.accounts[a]
                for a, users in self.users.items()
                if object_id in users and a in self.accounts
            ]
        if account is not None:
            self.account_for(request, object_id, "GET")
            return self.inject(request, "get", account, self.node(request, account))
        if media is not None and media["kind"] == "whatsapp":
            request.account_id = media["account_id"]
            owner = self.accounts.get(media["account_id"])
            if owner is None or token != owner["access_token"]:
                raise GraphError.token()
            return self.inject(request, "get", owner, Reply(200, self.media_info(media)))
        owners = [a for a in owners if a["platform"] in PROFILE_FIELDS]
        if owners:
            mine = [a for a in owners if a["access_token"] == token]
            request.account_id = (mine or owners)[0]["id"]
            if not mine:
                raise GraphError.token()
            return self.inject(request, "get", mine[0], self.profile(request, mine[0], object_id))
        if self.token_known(token):
            raise GraphError.unsupported("GET", object_id)
        raise GraphError.token()

    @staticmethod
    def wanted_fields(request: Incoming, allowed: set[str], default: list[str]) -> list[str]:
        """The `fields` asked for, or Graph's error 100 for one the node does not have."""
        raw = request.query.get("fields")
        if raw is None:
            return default
        wanted = [f.strip() for f in raw.split(",") if f.strip()]
        for name in wanted:
            if name not in allowed:
                raise GraphError(400, 100, f"Tried accessing nonexisting field ({name})")
        return wanted

    def node(self, request: Incoming, account: JSONObject) -> Reply:
        """The connection test: the phone number, Page or Instagram account itself."""
        platform = account["platform"]
        values = {
            "id": account["id"],
            "display_phone_number": account.get("display_phone_number"),
            "verified_name": account["name"],
            "quality_rating": "GREEN",
            "name": account["name"],
            "username": account.get("username") or account["name"].lower().replace(" ", ""),
            "followers_count": 1000,
        }
        wanted = self.wanted_fields(request, NODE_FIELDS[platform], NODE_DEFAULT_FIELDS[platform])
        return Reply(200, {name: values[name] for name in wanted} | {"id": account["id"]})

    def profile(self, request: Incoming, account: JSONObject, user_id: str) -> Reply:
        """A Messenger or Instagram user's profile, as remembered from inbound messages."""
        platform = account["platform"]
        with self.lock:
            user = dict(self.users[account["id"]][user_id])
        values = dict(user) | {"is_verified_user": False, "is_user_follow_business": False}
        values["is_business_follow_user"] = False
        wanted = self.wanted_fields(
            request, PROFILE_FIELDS[platform], PROFILE_DEFAULT_FIELDS[platform]
        )
        answer = {name: values[name] for name in wanted if values.get(name) is not None}
        return Reply(200, answer | {"id": user_id})

    def media_info(self, media: JSONObject) -> JSONObject:
        """WhatsApp's media metadata, with the URL to download the bytes from."""
        url = f"{self.public_url}/whatsapp_business/attachments/?mid={media['id']}"
        return {
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": media["mime_type"],
            "sha256": media["sha256"],
            "file_size": media["size"],
            "id": media["id"],
        }

    def download(self, request: Incoming) -> Reply:
        """The second step of a WhatsApp media download: the bytes, with the same Bearer."""
        with self.lock:
            media = self.files.get(request.query.get("mid", ""))
        if media is None or media["kind"] != "whatsapp":
            if not self.token_known(request.bearer()):
                raise GraphError.token()
            return Reply(404, {"error": "not_found"})
        request.account_id = media["account_id"]
        owner = self.accounts.get(media["account_id"])
        if owner is None or request.bearer() != owner["access_token"]:
            raise GraphError.token()
        return self.inject(
            request, "download", owner, Reply(200, media["data"], media["mime_type"])
        )

    def cdn(self, request: Incoming, file_id: str) -> Reply:
        """Messenger/Instagram attachment URLs and profile pictures: no authentication."""
        with self.lock:
            media = self.files.get(file_id)
        if media is None or media["kind"] != "cdn":
            return Reply(404, {"error": "not_found"})
        request.account_id = media["account_id"]
        owner = self.accounts.get(media["account_id"]) or {"id": media["account_id"]}
        return self.inject(
            request, "download", owner, Reply(200, media["data"], media["mime_type"])
        )

    def add_file(
        self, account_id: str, kind: str, data: bytes, mime_type: str, filename: str | None
    ) -> JSONObject:
        """Store bytes: kind "whatsapp" (a media id) or "cdn" (served at /cdn/<id>)."""
        media: JSONObject = {
            "id": numeric_id(),
            "account_id": account_id,
            "kind": kind,
            "data": data,
            "mime_type": mime_type,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "filename": filename,
        }
        with self.lock:
            self.files[media["id"]] = media
        return media

    def cdn_url(self, media: JSONObject) -> str:
        """The public URL of a CDN file."""
        return f"{self.public_url}/cdn/{media['id']}"

    # ---------------------------------------------------------------- failures

    def take_failure(self, account_id: str, kind: str) -> JSONObject | None:
        """The first pending failure for this account and kind of call, counted down."""
        with self.lock:
            for failure in self.failures:
                if failure["account_id"] not in (None, account_id):
                    continue
                if failure["on"] not in ("any", kind):
                    continue
                failure["times"] -= 1
                if failure["times"] <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    def inject(self, request: Incoming, kind: str, account: JSONObject, reply: Reply) -> Reply:
        """The reply, or the injected failure due for this call (slow, dropped or an error)."""
        failure = self.take_failure(account["id"], kind)
        if failure is None:
            return reply
        request.extra["injected"] = {k: v for k, v in failure.items() if k != "times"}
        code: int | None = failure["code"]
        status: int | None = failure["http_status"]
        reply.delay, reply.disconnect = failure["delay_seconds"], failure["disconnect"]
        if reply.disconnect or (code is None and status is None):
            return reply  # only slow, or dropped: no error answer
        if code is None:
            code = 2 if status is None or status >= 500 else {429: 4, 401: 190}.get(status, 100)
        default_status, title, details = GRAPH_ERRORS.get(code, (400, "Simulated error", ""))
        error = GraphError(
            status or default_status,
            code,
            failure.get("message") or title,
            failure.get("details") or details or None,
            failure.get("error_subcode"),
        )
        body = error.body(account.get("platform"))
        if code == 190:
            body["error"].pop("error_data", None)
        return Reply(error.status, body, delay=failure["delay_seconds"])

    # ---------------------------------------------------------------- sends

    def json_object(self, request: Incoming) -> JSONObject:
        """A JSON object body, or Graph's error 100."""
        if request.content_type != "application/json":
            raise GraphError.invalid("the body must be JSON (Content-Type: application/json)")
        doc = request.json()
        if not isinstance(doc, dict):
            raise GraphError.invalid("the body must be a JSON object")
        return doc

    def upload(self, request: Incoming, account: JSONObject) -> Reply:
        """WhatsApp POST /{PNID}/media: multipart messaging_product, type and file."""
        if request.content_type != "multipart/form-data":
            raise GraphError.invalid("media upload must be multipart/form-data")
        fields, files = request.form()
        unknown = sorted((set(fields) | set(files)) - {"messaging_product", "type", "file"})
        if unknown:
            raise GraphError.invalid(f"unexpected parameter(s): {', '.join(unknown)}")
        if fields.get("messaging_product") != "whatsapp":
            raise GraphError.invalid('messaging_product must be "whatsapp"')
        mime = fields.get("type", "").split(";")[0].strip()
        if not re.fullmatch(r"[\w.+-]+/[\w.+-]+", mime):
            raise GraphError.invalid("type must be the file's MIME type, e.g. image/jpeg")
        part = files.get("file")
        if part is None or "file" in fields:
            raise GraphError.invalid("file is required (a file part with a filename)")
        if not part["content_type"]:
            raise GraphError.invalid("the file part needs a Content-Type")
        if part["content_type"].split(";")[0].strip().lower() != mime.lower():
            raise GraphError.invalid(
                f"type ({mime}) differs from the file's Content-Type ({part['content_type']})"
            )
        if not part["data"]:
            raise GraphError.invalid("file is empty")
        reply = self.inject(request, "media", account, Reply(200, None))
        if reply.status != 200:
            return reply
        media = self.add_file(account["id"], "whatsapp", part["data"], mime, part["filename"])
        reply.body = {"id": media["id"]}
        return reply

    def send(self, request: Incoming, account: JSONObject) -> Reply:
        """POST /{id}/messages: validate, maybe fail, then accept and remember the reply."""
        platform = account["platform"]
        if platform == "whatsapp":
            doc = self.json_object(request)
            if doc.get("status") == "read" and "message_id" in doc:
                return self.mark_read(doc)
            user_id, entry, answer = self.whatsapp_send(account, doc)
        else:
            action = self.sender_action(request)
            if action is not None:
                return Reply(200, {"recipient_id": action})
            user_id, entry = self.meta_send(request, account)
            answer = {"recipient_id": user_id}
        reply = self.inject(request, "send", account, Reply(200, None))
        if reply.status != 200:
            return reply
        message_id = wamid() if platform == "whatsapp" else mid()
        if platform == "whatsapp":
            reply.body = answer | {"messages": [{"id": message_id}]}
        else:
            reply.body = answer | {"message_id": message_id}
            if entry.pop("attachment_id", None):
                reply.body["attachment_id"] = entry["attachments"][0]["media_id"]
        entry = {"direction": "out", "id": message_id} | entry
        self.add_to_thread(account["id"], user_id, entry | {"status": "sent", "at": now_iso()})
        if account.get("auto_status"):
            threading.Thread(
                target=self.auto_statuses, args=(account, message_id), daemon=True
            ).start()
        return reply

    @staticmethod
    def mark_read(doc: JSONObject) -> Reply:
        """WhatsApp's "mark as read" call (the business read an inbound message)."""
        if doc.get("messaging_product") != "whatsapp" or not isinstance(doc["message_id"], str):
            raise GraphError.invalid("mark as read takes messaging_product and message_id")
        return Reply(200, {"success": True})

    def whatsapp_send(
        self, account: JSONObject, doc: JSONObject
    ) -> tuple[str, JSONObject, JSONObject]:
        """Check a WhatsApp message send; (recipient, thread entry, answer without the id)."""
        invalid = GraphError.invalid
        if doc.get("messaging_product") != "whatsapp":
            raise invalid('messaging_product must be "whatsapp"')
        if doc.get("recipient_type", "individual") != "individual":
            raise invalid('recipient_type must be "individual"')
        to = doc.get("to")
        if not isinstance(to, str) or not re.fullmatch(r"\d{6,15}", to):
            raise invalid("to must be the recipient's wa_id: 6 to 15 digits, no '+'")
        mtype = doc.get("type")
        if mtype not in WA_SEND_TYPES:
            raise invalid(f"type must be one of {', '.join(WA_SEND_TYPES)}")
        allowed = {"messaging_product", "recipient_type", "to", "type", mtype, "context"}
        unknown = sorted(set(doc) - allowed - {"biz_opaque_callback_data"})
        if unknown:
            raise invalid(f"unexpected parameter(s) for type {mtype}: {', '.join(unknown)}")
        context = doc.get("context")
        if context is not None and not (
            isinstance(context, dict) and isinstance(context.get("message_id"), str)
        ):
            raise invalid("context must be {message_id}")
        content = doc.get(mtype)
        if not isinstance(content, dict):
            raise invalid(f"{mtype} must be an object")
        if mtype == "text":
            extra = sorted(set(content) - {"body", "preview_url"})
            if extra:
                raise invalid(f"unexpected parameter(s) in text: {', '.join(extra)}")
            body = content.get("body")
            if not isinstance(body, str) or not body.strip():
                raise invalid("text.body is required")
            if len(body) > 4096:
                raise invalid("text.body is longer than 4096 characters")
            if not isinstance(content.get("preview_url", False), bool):
                raise invalid("text.preview_url must be a boolean")
            entry: JSONObject = {"type": "text", "text": body, "attachments": []}
        else:
            entry = self.whatsapp_media_entry(account, mtype, content)
        answer = {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}]}
        return to, entry, answer

    def whatsapp_media_entry(
        self, account: JSONObject, mtype: str, content: JSONObject
    ) -> JSONObject:
        """Check a media message's object (an uploaded media id) and describe the reply."""
        invalid = GraphError.invalid
        if "link" in content:
            raise invalid(f"{mtype}.link is not used by this contract: upload, then send the id")
        extra = sorted(set(content) - WA_MEDIA_KEYS[mtype])
        if extra:
            raise invalid(f"unexpected parameter(s) in {mtype}: {', '.join(extra)}")
        media_id = content.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise invalid(f"{mtype}.id is required")
        with self.lock:
            media = self.files.get(media_id)
        if media is None or media["kind"] != "whatsapp" or media["account_id"] != account["id"]:
            raise invalid(f"{mtype}.id {media_id} is not media uploaded to this phone number")
        mime = media["mime_type"].lower()
        ok = {
            "image": mime in ("image/jpeg", "image/png"),
            "video": mime.startswith("video/"),
            "audio": mime.startswith("audio/"),
            "document": True,
        }[mtype]
        if not ok:
            raise invalid(f"media {media_id} ({mime}) cannot be sent as {mtype}")
        for key in ("caption", "filename"):
            if key in content and not isinstance(content[key], str):
                raise invalid(f"{mtype}.{key} must be a string")
        caption = content.get("caption", "")
        if len(caption) > 1024:
            raise invalid(f"{mtype}.caption is longer than 1024 characters")
        attachment = {"type": mtype, "media_id": media_id, "mime_type": media["mime_type"]}
        attachment |= {"size": media["size"], "filename": content.get("filename")}
        attachment["filename"] = attachment["filename"] or media["filename"]
        return {"type": mtype, "text": caption, "attachments": [attachment]}

    def sender_action(self, request: Incoming) -> str | None:
        """A Messenger/Instagram sender action (mark_seen, typing_…): the recipient, or None."""
        doc = request.json() if request.content_type == "application/json" else None
        if not isinstance(doc, dict) or "sender_action" not in doc:
            return None
        recipient = doc.get("recipient")
        if not isinstance(recipient, dict) or not isinstance(recipient.get("id"), str):
            raise GraphError.invalid("recipient.id is required")
        if doc["sender_action"] not in SENDER_ACTIONS or "message" in doc:
            raise GraphError.invalid(f"sender_action must be one of {', '.join(SENDER_ACTIONS)}")
        return str(recipient["id"])

    def meta_send(self, request: Incoming, account: JSONObject) -> tuple[str, JSONObject]:
        """Check a Messenger/Instagram send (JSON, or Messenger multipart with filedata)."""
        invalid = GraphError.invalid
        platform = account["platform"]
        upload: JSONObject | None = None
        if request.content_type == "multipart/form-data":
            if platform == "instagram":
                raise invalid("Instagram takes attachments by payload.url only, not multipart")
            fields, files = request.form()
            unknown = sorted(
                (set(fields) | set(files))
                - {"recipient", "messaging_type"}
                - {"message", "filedata", "tag"}
            )
            if unknown:
                raise invalid(f"unexpected parameter(s): {', '.join(unknown)}")
            doc: JSONObject = {k: v for k, v in fields.items() if k in ("messaging_type", "tag")}
            for key in ("recipient", "message"):
                try:
                    doc[key] = json.loads(fields[key]) if key in fields else None
                except ValueError:
                    raise invalid(f"{key} must be a JSON-encoded object") from None
            upload = files.get("filedata")
            if upload is None:
                raise invalid("filedata is required in a multipart send")
        else:
            doc = self.json_object(request)
            unknown = sorted(set(doc) - {"recipient", "messaging_type", "message", "tag"})
            if unknown:
                raise invalid(f"unexpected parameter(s): {', '.join(unknown)}")
        recipient = doc.get("recipient")
        if not isinstance(recipient, dict) or set(recipient) != {"id"}:
            raise invalid("recipient must be {id}")
        user_id = recipient["id"]
        if not isinstance(user_id, str) or not user_id:
            raise invalid("recipient.id must be a non-empty string")
        messaging_type = doc.get("messaging_type")
        if platform == "messenger" and messaging_type is None:
            raise invalid("messaging_type is required (RESPONSE, UPDATE or MESSAGE_TAG)")
        if messaging_type is not None and messaging_type not in MESSAGING_TYPES:
            raise invalid(f"messaging_type must be one of {', '.join(MESSAGING_TYPES)}")
        if messaging_type == "MESSAGE_TAG" and not isinstance(doc.get("tag"), str):
            raise invalid("tag is required with messaging_type MESSAGE_TAG")
        message = doc.get("message")
        if not isinstance(message, dict):
            raise invalid("message must be an object")
        extra = sorted(set(message) - {"text", "attachment", "quick_replies", "metadata"})
        if extra:
            raise invalid(f"unexpected parameter(s) in message: {', '.join(extra)}")
        if ("text" in message) == ("attachment" in message):
            raise invalid("message needs exactly one of text and attachment")
        if "text" in message:
            if upload is not None:
                raise invalid("filedata goes with message.attachment, not message.text")
            text = self.meta_text(platform, message["text"])
            return user_id, {"type": "text", "text": text, "attachments": []}
        return user_id, self.meta_attachment(request, account, message["attachment"], upload)

    @staticmethod
    def meta_text(platform: str, text: Any) -> str:
        """Check message.text against the platform's limit."""
        if not isinstance(text, str) or not text.strip():
            raise GraphError.invalid("message.text must be a non-empty string")
        if platform == "messenger" and len(text) > 2000:
            raise GraphError.invalid("message.text is longer than 2000 characters")
        if platform == "instagram" and len(text.encode()) > 1000:
            raise GraphError.invalid("message.text is longer than 1000 bytes")
        return text

    def meta_attachment(
        self, request: Incoming, account: JSONObject, attachment: Any, upload: JSONObject | None
    ) -> JSONObject:
        """Check message.attachment; fetch payload.url (as Meta does) or keep the upload."""
        invalid = GraphError.invalid
        if not isinstance(attachment, dict) or set(attachment) != {"type", "payload"}:
            raise invalid("message.attachment must be {type, payload}")
        atype, payload = attachment["type"], attachment["payload"]
        if atype not in META_ATTACHMENT_TYPES:
            raise invalid(f"attachment.type must be one of {', '.join(META_ATTACHMENT_TYPES)}")
        if not isinstance(payload, dict):
            raise invalid("attachment.payload must be an object")
        if not isinstance(payload.get("is_reusable", False), bool):
            raise invalid("attachment.payload.is_reusable must be a boolean")
        reusable = bool(payload.get("is_reusable"))
        if upload is not None:
            if set(payload) - {"is_reusable"}:
                raise invalid("with filedata, attachment.payload takes only is_reusable")
            if not upload["content_type"]:
                raise invalid("the filedata part needs a Content-Type")
            if not upload["data"]:
                raise invalid("filedata is empty")
            data, mime, filename = upload["data"], upload["content_type"], upload["filename"]
            source = None
        else:
            allowed = {"url"} if account["platform"] == "instagram" else {"url", "is_reusable"}
            if set(payload) - allowed or not isinstance(payload.get("url"), str):
                raise invalid(f"attachment.payload must be {{{', '.join(sorted(allowed))}}}")
            source = payload["url"]
            data, mime = self.fetch(request, source)
            filename = urllib.parse.unquote(urllib.parse.urlsplit(source).path.rsplit("/", 1)[-1])
        media = self.add_file(account["id"], "cdn", data, mime, filename or None)
        item = {"type": atype, "media_id": media["id"], "url": self.cdn_url(media)}
        item |= {"mime_type": mime, "size": len(data), "filename": filename or None}
        if source:
            item["source_url"] = source
        entry = {"type": atype, "text": "", "attachments": [item]}
        return entry | ({"attachment_id": True} if reusable else {})

    def fetch(self, request: Incoming, url: str) -> tuple[bytes, str]:
        """Download an attachment URL the way Meta does; Graph error 100 when it cannot."""
        status, data, content_type, error = http_call(
            "GET", url, headers={"User-Agent": "facebookexternalhit/1.1"}
        )
        fetched: JSONObject = {"url": url, "status": status, "size": len(data)}
        fetched |= {"content_type": content_type, "sha256": hashlib.sha256(data).hexdigest()}
        if error:
            fetched["error"] = error
        request.extra.setdefault("fetched", []).append(fetched)
        if status != 200 or error or len(data) > MAX_FETCH:
            why = error or f"it answered HTTP {status}"
            if len(data) > MAX_FETCH:
                why = "it is larger than 25 MB"
            raise GraphError.invalid(
                f"could not fetch attachment payload.url {url}: {why}", 2018047
            )
        mime = (content_type or "application/octet-stream").split(";")[0].strip()
        return data, mime

    # ---------------------------------------------------------------- threads and statuses

    def add_to_thread(self, account_id: str, user_id: str, entry: JSONObject) -> None:
        """Append to what the customer sees, and remember whose message an id is."""
        with self.lock:
            self.threads.setdefault((account_id, user_id), []).append(entry)
            if entry.get("id"):
                self.messages[entry["id"]] = (account_id, user_id)

    def set_status(self, message_id: str, status: str) -> None:
        """Move a business reply's status forward (never back; failed is final)."""
        with self.lock:
            where = self.messages.get(message_id)
            for entry in self.threads.get(where, []) if where else []:
                if entry["id"] != message_id or entry["direction"] != "out":
                    continue
                current = entry.get("status")
                if current == "failed":
                    continue
                if status == "failed" or STATUS_RANK[status] > STATUS_RANK.get(str(current), 0):
                    entry["status"] = status

    def auto_statuses(self, account: JSONObject, message_id: str) -> None:
        """After an accepted send, report its statuses up to the account's auto_status."""
        order = AUTO_STATUSES["whatsapp" if account["platform"] == "whatsapp" else "other"]
        target = account["auto_status"]
        for status in order[: order.index(target) + 1] if target in order else []:
            time.sleep(AUTO_STATUS_GAP)
            with self.lock:
                current = self.accounts.get(account["id"])
            if current is None:
                return
            try:
                self.post_status(current, message_id, status, {}, True)
            except Problem:
                return

    def status_body(
        self, account: JSONObject, message_id: str, status: str, user_id: str, doc: JSONObject
    ) -> JSONObject:
        """The webhook body reporting one status of a business message."""
        platform = account["platform"]
        if platform == "whatsapp":
            item: JSONObject = {"id": message_id, "status": status}
            item |= {"timestamp": str(int(time.time())), "recipient_id": user_id}
            if status == "failed":
                code = doc.get("error_code", 131047)
                _, title, details = GRAPH_ERRORS.get(code, (400, "Simulated error", ""))
                title = doc.get("error_title") or title
                details = doc.get("error_details") or details or title
                error = {"code": code, "title": title, "message": title}
                item["errors"] = [error | {"error_data": {"details": details}}]
            return self.whatsapp_envelope(account, {"statuses": [item]})
        if status not in ("delivered", "read"):
            raise Problem(400, f"{platform} has no '{status}' status (only delivered and read)")
        event: JSONObject = {"sender": {"id": user_id}, "recipient": {"id": account["id"]}}
        event["timestamp"] = now_ms()
        if status == "delivered":
            event["delivery"] = {"mids": [message_id], "watermark": now_ms()}
        elif platform == "messenger":
            event["read"] = {"watermark": now_ms()}
        else:
            event["read"] = {"mid": message_id}
        return self.meta_envelope(account, [event])

    def post_status(
        self, account: JSONObject, message_id: str, status: str, doc: JSONObject, sign: Any
    ) -> JSONObject:
        """Post one status webhook and update the thread; the webhook record."""
        with self.lock:
            where = self.messages.get(message_id)
        user_id = doc.get("user_id") or (where[1] if where else None)
        if user_id is None:
            raise Problem(404, f"unknown message_id {message_id}: give user_id")
        body = self.status_body(account, message_id, status, user_id, doc)
        self.set_status(message_id, status)
        return self.post_webhook(account, encode(body), sign, "status")

    def whatsapp_envelope(self, account: JSONObject, value: JSONObject) -> JSONObject:
        """A WhatsApp webhook body with one `messages` change for this phone number."""
        metadata = {"display_phone_number": account["display_phone_number"]}
        metadata["phone_number_id"] = account["id"]
        change_value = {"messaging_product": "whatsapp", "metadata": metadata} | value
        change = {"field": "messages", "value": change_value}
        return {
            "object": OBJECTS["whatsapp"],
            "entry": [{"id": account["waba_id"], "changes": [change]}],
        }

    def meta_envelope(self, account: JSONObject, events: list[JSONObject]) -> JSONObject:
        """A Messenger or Instagram webhook body with these messaging events."""
        entry = {"id": account["id"], "time": now_ms(), "messaging": events}
        return {"object": OBJECTS[account["platform"]], "entry": [entry]}

    # ---------------------------------------------------------------- webhooks out

    def post_webhook(self, account: JSONObject, body: bytes, sign: Any, kind: str) -> JSONObject:
        """POST a body to the account's webhook URL, signed as asked; keep and return the record."""
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if sign is True:
            headers["X-Hub-Signature-256"] = signature(account["app_secret"], body)
        elif sign == "wrong":
            headers["X-Hub-Signature-256"] = signature("wrong-" + account["app_secret"], body)
        status, answer, _, error = http_call("POST", account["webhook_url"], body, headers)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        entry: JSONObject = {
            "id": next(self._webhook_ids),
            "at": now_iso(),
            "account_id": account["id"],
            "kind": kind,
            "method": "POST",
            "url": account["webhook_url"],
            "headers": headers,
            "body": parsed,
            "body_text": None if parsed is not None else body.decode("utf-8", "replace"),
            "status": status,
            "response": answer[:2000].decode("utf-8", "replace"),
            "error": error,
        }
        with self.lock:
            self.webhooks.append(entry)
        return entry

    def verify(self, account: JSONObject) -> None:
        """Meta's subscription handshake: GET hub.* and require the challenge echoed back."""
        challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
        query = urllib.parse.urlencode(
            {
                "hub.mode": "subscribe",
                "hub.verify_token": account["verify_token"],
                "hub.challenge": challenge,
            }
        )
        url = account["webhook_url"]
        url += ("&" if "?" in url else "?") + query
        status, answer, _, error = http_call("GET", url, headers={"User-Agent": "facebookplatform"})
        text = answer.decode("utf-8", "replace")
        entry = {"id": next(self._webhook_ids), "at": now_iso(), "account_id": account["id"]}
        entry |= {"kind": "verification", "method": "GET", "url": url, "headers": {}}
        entry |= {"body": None, "body_text": None, "status": status, "response": text[:2000]}
        with self.lock:
            self.webhooks.append(entry | {"error": error})
        if status != 200 or text != challenge:
            got = error or f"HTTP {status} {text[:300]!r}"
            raise Problem(
                400,
                f"webhook verification failed: {account['webhook_url']} answered {got}; "
                f"expected 200 with exactly the challenge {challenge!r}",
            )

    # ---------------------------------------------------------------- customers

    def remember_user(self, account: JSONObject, given: Any) -> JSONObject:
        """The customer writing, created or updated from the fields given."""
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise Problem(400, "user must be an object")
        unknown = sorted(set(given) - USER_FIELDS)
        if unknown:
            raise Problem(400, f"unknown user field(s): {', '.join(unknown)}")
        follower_count = given.get("follower_count")
        if follower_count is not None and (
            not isinstance(follower_count, int) or isinstance(follower_count, bool)
        ):
            raise Problem(400, "user.follower_count must be an integer")
        for key in USER_FIELDS - {"follower_count"}:
            if given.get(key) is not None and not isinstance(given[key], str):
                raise Problem(400, f"user.{key} must be a string")
        platform = account["platform"]
        name = given.get("name")
        user_id = self.user_id_of(platform, given)
        with self.lock:
            users = self.users.setdefault(account["id"], {})
            user = users.setdefault(user_id, {"id": user_id})
            user.update({k: v for k, v in given.items() if v is not None and k != "id"})
            if name is None and user.get("name") is None:
                first_last = " ".join(filter(None, [user.get("first_name"), user.get("last_name")]))
                user["name"] = first_last or f"Customer {user_id[-4:]}"
            if platform == "whatsapp":
                user["phone"] = "+" + user_id
            if platform == "messenger":
                first, _, last = user["name"].partition(" ")
                if name is not None or user.get("first_name") is None:
                    user["first_name"] = given.get("first_name") or first
                    user["last_name"] = given.get("last_name") or last
                user.setdefault("locale", "en_US")
            if platform == "instagram":
                slug = re.sub(r"[^a-z0-9_.]", "", user["name"].lower().replace(" ", "."))
                user.setdefault("username", slug or f"user{user_id[-6:]}")
                user.setdefault("follower_count", 100)
            has_picture = "profile_pic" in user
        if platform != "whatsapp" and not has_picture:
            picture = self.add_file(account["id"], "cdn", tiny_png(), "image/png", "profile.png")
            with self.lock:
                user["profile_pic"] = self.cdn_url(picture)
        with self.lock:
            return dict(user)

    @staticmethod
    def user_id_of(platform: str, given: JSONObject) -> str:
        """The customer's platform id: a wa_id from the phone, a PSID/IGSID, or a default."""
        if platform == "whatsapp":
            raw = given.get("phone") or given.get("id")
            if raw is not None:
                digits = re.sub(r"\D", "", raw)
                if not 6 <= len(digits) <= 15:
                    raise Problem(400, "a WhatsApp user's phone (or id) needs 6 to 15 digits")
                return digits
            return "3460" + stable_digits(given.get("name") or "customer", 8)
        if given.get("id"):
            return str(given["id"])
        return "2" + stable_digits(f"{platform}:{given.get('name') or 'customer'}", 15)

    def inbound(self, doc: JSONObject) -> JSONObject:
        """Build the platform's webhook for a customer's message and post it (repeat times)."""
        unknown = sorted(set(doc) - INBOUND_FIELDS)
        if unknown:
            raise Problem(400, f"unknown field(s): {', '.join(unknown)}")
        account = self.account(doc.get("account_id"))
        platform = account["platform"]
        kind = doc.get("type", "text")
        if kind not in INBOUND_TYPES[platform]:
            raise Problem(400, f"{platform} has no inbound type {kind!r}")
        repeat, sign = doc.get("repeat", 1), doc.get("sign", True)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or not 1 <= repeat <= 100:
            raise Problem(400, "repeat must be an integer from 1 to 100")
        if sign not in SIGN_VALUES:
            raise Problem(400, 'sign must be true, false or "wrong"')
        for key in ("text", "target_message_id", "emoji", "message_id", "caption", "filename"):
            if doc.get(key) is not None and not isinstance(doc[key], str):
                raise Problem(400, f"{key} must be a string")
        user = self.remember_user(account, doc.get("user"))
        if platform == "whatsapp":
            message_id, body, entry = self.whatsapp_inbound(account, user, kind, doc)
        else:
            message_id, body, entry = self.meta_inbound(account, user, kind, doc)
        if entry is not None:
            self.add_to_thread(account["id"], user["id"], entry | {"at": now_iso()})
        raw = encode(body)
        posts = [self.post_webhook(account, raw, sign, "inbound") for _ in range(repeat)]
        answer = {"message_id": message_id, "body": body, "statuses": [p["status"] for p in posts]}
        errors = [p["error"] for p in posts if p["error"]]
        return answer | {"user": user} | ({"errors": errors} if errors else {})

    def inbound_file(
        self, account: JSONObject, kind: str, doc: JSONObject, store: str
    ) -> JSONObject:
        """The file an inbound media message carries: generated, or from content_base64."""
        data, mime, filename = sample_file(kind)
        if doc.get("content_base64") is not None:
            try:
                data = base64.b64decode(doc["content_base64"], validate=True)
            except (ValueError, TypeError):
                raise Problem(400, "content_base64 must be base64") from None
        mime = doc.get("mime_type") or mime
        filename = doc.get("filename") or filename
        return self.add_file(account["id"], store, data, mime, filename)

    def whatsapp_inbound(
        self, account: JSONObject, user: JSONObject, kind: str, doc: JSONObject
    ) -> tuple[str | None, JSONObject, JSONObject | None]:
        """A WhatsApp `messages` webhook for one customer message."""
        message_id = doc.get("message_id") or wamid()
        text = doc.get("text")
        message: JSONObject = {"from": user["id"], "id": message_id}
        message |= {"timestamp": str(int(time.time())), "type": kind}
        if doc.get("reply_to"):
            display = re.sub(r"\D", "", account["display_phone_number"])
            message["context"] = {"from": display, "id": doc["reply_to"]}
        entry: JSONObject = {"direction": "in", "id": message_id, "type": kind}
        entry |= {"text": text or "", "attachments": [], "status": None}
        if kind == "text":
            message["text"] = {"body": text or "Hello"}
            entry["text"] = message["text"]["body"]
        elif kind in ("image", "video", "audio", "sticker", "document"):
            media = self.inbound_file(account, kind, doc, "whatsapp")
            content: JSONObject = {"id": media["id"], "mime_type": media["mime_type"]}
            content["sha256"] = media["sha256"]
            caption = doc.get("caption") or text
            if caption and kind in ("image", "video", "document"):
                content["caption"] = caption
            if kind == "document":
                content["filename"] = media["filename"]
            if kind == "audio":
                content["voice"] = media["mime_type"].startswith("audio/ogg")
            if kind == "sticker":
                content["animated"] = False
            message[kind] = content
            entry["text"] = content.get("caption", "")
            attachment = {"type": kind, "media_id": media["id"], "mime_type": media["mime_type"]}
            entry["attachments"] = [
                attachment | {"size": media["size"], "filename": media["filename"]}
            ]
        elif kind == "location":
            location = self.location(doc)
            message["location"] = location
            entry["text"] = f"📍 {location['latitude']}, {location['longitude']}"
        elif kind == "contacts":
            phone = doc.get("contact_phone") or "+34 600 222 333"
            card_name = doc.get("contact_name") or text or "Ana López"
            phones = [{"phone": phone, "wa_id": re.sub(r"\D", "", phone), "type": "CELL"}]
            message["contacts"] = [{"name": {"formatted_name": card_name}, "phones": phones}]
            entry["text"] = f"👤 {card_name} {phone}"
        elif kind == "interactive":
            itype = doc.get("interactive_type", "button_reply")
            if itype not in ("button_reply", "list_reply"):
                raise Problem(400, "interactive_type must be button_reply or list_reply")
            reply = {"id": doc.get("reply_id") or "option-1", "title": text or "Yes"}
            if itype == "list_reply" and doc.get("description"):
                reply["description"] = doc["description"]
            message["interactive"] = {"type": itype, itype: reply}
            entry["text"] = reply["title"]
        elif kind == "button":
            button_text = text or "Yes"
            message["button"] = {"text": button_text, "payload": doc.get("payload") or button_text}
            entry["text"] = button_text
        elif kind == "reaction":
            target = self.reaction_target(account, user, doc)
            emoji = doc.get("emoji", "👍")
            message["reaction"] = {"message_id": target, "emoji": emoji or ""}
            entry = {"direction": "in", "id": message_id, "type": "reaction", "status": None}
            entry |= {"text": emoji or "", "attachments": [], "target_message_id": target}
        else:  # unsupported: what newer clients send that the Cloud API cannot describe
            message["type"] = doc.get("raw_type") or "unsupported"
            message["errors"] = [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ]
            entry = {}  # nothing the customer sees
        contacts = [{"profile": {"name": user["name"]}, "wa_id": user["id"]}]
        body = self.whatsapp_envelope(account, {"contacts": contacts, "messages": [message]})
        return message_id, body, entry or None

    @staticmethod
    def location(doc: JSONObject) -> JSONObject:
        """latitude/longitude (default Madrid) and the optional name and address."""
        latitude, longitude = doc.get("latitude", 40.4168), doc.get("longitude", -3.7038)
        for value in (latitude, longitude):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise Problem(400, "latitude and longitude must be numbers")
        location: JSONObject = {"latitude": latitude, "longitude": longitude}
        for key, name in (("location_name", "name"), ("address", "address")):
            if doc.get(key):
                location[name] = doc[key]
        return location

    def reaction_target(self, account: JSONObject, user: JSONObject, doc: JSONObject) -> str:
        """The message reacted to: target_message_id, else the thread's last message."""
        if doc.get("target_message_id"):
            return str(doc["target_message_id"])
        with self.lock:
            thread = self.threads.get((account["id"], user["id"]), [])
            ids = [e["id"] for e in thread if e.get("id") and e.get("type") != "reaction"]
        if not ids:
            raise Problem(400, "target_message_id is required (the thread has no message yet)")
        return str(ids[-1])

    def meta_inbound(
        self, account: JSONObject, user: JSONObject, kind: str, doc: JSONObject
    ) -> tuple[str | None, JSONObject, JSONObject | None]:
        """A Messenger or Instagram `messaging` event for one customer action."""
        message_id = doc.get("message_id") or mid()
        text = doc.get("text")
        event: JSONObject = {"sender": {"id": user["id"]}, "recipient": {"id": account["id"]}}
        event["timestamp"] = now_ms()
        entry: JSONObject = {"direction": "in", "id": message_id, "type": kind}
        entry |= {"text": text or "", "attachments": [], "status": None}
        if kind in ("text", "quick_reply"):
            event["message"] = {"mid": message_id, "text": text or "Hello"}
            if kind == "quick_reply":
                event["message"]["quick_reply"] = {"payload": doc.get("payload") or "QUICK_REPLY"}
            entry["text"] = event["message"]["text"]
        elif kind == "echo":
            event["sender"], event["recipient"] = {"id": account["id"]}, {"id": user["id"]}
            app_id = doc.get("app_id", PAGE_INBOX_APP_ID)
            event["message"] = {"mid": message_id, "text": text or "Hello from our team"}
            event["message"] |= {"is_echo": True, "app_id": app_id}
            entry = {"direction": "out", "id": message_id, "type": "text", "status": "sent"}
            entry |= {"text": event["message"]["text"], "attachments": [], "echo": True}
        elif kind == "postback":
            title = text or "Get started"
            payload = doc.get("payload") or "GET_STARTED"
            event["postback"] = {"mid": message_id, "title": title, "payload": payload}
            entry["text"] = title
        elif kind == "reaction":
            target = self.reaction_target(account, user, doc)
            emoji = doc.get("emoji", "👍")
            if emoji:
                reaction = {"mid": target, "action": "react", "emoji": emoji}
                reaction["reaction"] = REACTION_NAMES.get(emoji, "other")
            else:
                reaction = {"mid": target, "action": "unreact"}
            event["reaction"] = reaction
            entry = {"direction": "in", "id": None, "type": "reaction", "status": None}
            entry |= {"text": emoji or "", "attachments": [], "target_message_id": target}
            message_id = None
        elif kind == "location":
            location = self.location(doc)
            lat, long = location["latitude"], location["longitude"]
            payload = {"url": f"https://www.google.com/maps/search/?api=1&query={lat},{long}"}
            payload["coordinates"] = {"lat": lat, "long": long}
            event["message"] = {
                "mid": message_id,
                "attachments": [{"type": "location", "payload": payload}],
            }
            entry["text"] = f"📍 {lat}, {long}"
        elif kind == "share":
            url = doc.get("url") or "https://www.instagram.com/p/C0ffee/"
            event["message"] = {
                "mid": message_id,
                "attachments": [{"type": "share", "payload": {"url": url}}],
            }
            entry["text"] = url
        elif kind == "unsupported":
            event["referral"] = {"ref": "simulator", "source": "SHORTLINK", "type": "OPEN_THREAD"}
            entry, message_id = {}, None
        else:  # files: image, video, audio, document (file), sticker, story_mention, reels
            media = self.inbound_file(account, kind, doc, "cdn")
            atype = {"document": "file", "sticker": "image"}.get(kind, kind)
            payload = {"url": doc.get("url") or self.cdn_url(media)}
            if kind == "sticker":
                payload["sticker_id"] = 369239263222822
            event["message"] = {
                "mid": message_id,
                "attachments": [{"type": atype, "payload": payload}],
            }
            if kind == "sticker":
                event["message"]["sticker_id"] = 369239263222822
            attachment = {"type": atype, "media_id": media["id"], "url": payload["url"]}
            attachment |= {"mime_type": media["mime_type"], "size": media["size"]}
            entry["attachments"] = [attachment | {"filename": media["filename"]}]
            entry["text"] = ""
        if doc.get("reply_to") and "message" in event:
            event["message"]["reply_to"] = {"mid": doc["reply_to"]}
        return message_id, self.meta_envelope(account, [event]), entry or None

    # ---------------------------------------------------------------- the control API

    def account(self, account_id: Any) -> JSONObject:
        """A registered account, or a 404."""
        with self.lock:
            account = self.accounts.get(account_id) if isinstance(account_id, str) else None
        if account is None:
            raise Problem(404, f"unknown account_id {account_id!r}")
        return account

    def register(self, doc: Any, *, verify: bool = True) -> JSONObject:
        """Add or replace an account, after Meta's handshake when it has a verify_token."""
        account = clean_account(doc)
        if verify and account.get("verify_token"):
            self.verify(account)
        with self.lock:
            self.accounts[account["id"]] = account
        return dict(account)

    def load(self, doc: Any) -> None:
        """An account of the --accounts file: Meta's, or `platform` "twilio" or "x"."""
        platform = doc.get("platform") if isinstance(doc, dict) else None
        if platform not in ("twilio", "x", "email"):
            self.register(doc, verify=False)  # Rolodex may not be up yet: no handshake
            return
        fields = {k: v for k, v in doc.items() if k != "platform"}
        try:
            if platform == "twilio":
                self.twilio.register(fields)
            elif platform == "x":
                self.x.register(fields)  # no CRC check: Rolodex may not be up yet
            else:
                self.email.add_mailbox(fields)
        except (
            twilio_platform.TwilioProblem,
            x_platform.XProblem,
            mail_platform.MailProblem,
        ) as exc:
            raise Problem(exc.status, f"{platform} account: {exc.message}") from None

    def control(self, request: Incoming) -> Reply:
        """The /_sim/ routes (no authentication: a test double)."""
        method, path, query = request.method, request.path, request.query
        section = path.removeprefix("/_sim/").split("/", 1)[0]
        if section in self.sections:
            return Reply(*self.sections[section](request))
        if method == "GET":
            views = {
                "/_sim/accounts": self.list_accounts,
                "/_sim/requests": self.list_requests,
                "/_sim/webhooks": self.list_webhooks,
                "/_sim/thread": self.list_thread,
                "/_sim/users": self.list_users,
                "/_sim/fail": self.list_failures,
            }
            if path in views:
                return Reply(200, views[path](query))
        if method == "DELETE" and path.startswith("/_sim/accounts/"):
            account_id = urllib.parse.unquote(path.removeprefix("/_sim/accounts/"))
            with self.lock:
                removed = self.accounts.pop(account_id, None)
            if removed is None:
                raise Problem(404, f"unknown account_id {account_id!r}")
            return Reply(200, {"deleted": account_id})
        if method != "POST":
            raise Problem(404 if method == "GET" else 405, f"no route {method} {path}")
        body: Any = {}
        if request.body.strip():
            try:
                body = json.loads(request.body)
            except (ValueError, UnicodeDecodeError):
                raise Problem(400, "the body must be JSON") from None
        actions = {
            "/_sim/accounts": lambda: self.register(body),
            "/_sim/inbound": lambda: self.inbound(self.obj(body)),
            "/_sim/raw": lambda: self.raw(self.obj(body)),
            "/_sim/statuses": lambda: self.statuses(self.obj(body)),
            "/_sim/fail": lambda: self.fail(self.obj(body)),
            "/_sim/read": lambda: self.read(self.obj(body)),
            "/_sim/reset": lambda: self.reset(self.obj(body)),
        }
        if path not in actions:
            raise Problem(404, f"no route {method} {path}")
        return Reply(200, actions[path]())

    @property
    def sections(self) -> dict[str, Any]:
        """The other platforms' control routes, by their first path segment under /_sim/."""
        return {
            "x": self.x.control,
            "twilio": self.twilio.control,
            "smtp": self.smtp_control,
            "email": self.email.control,
        }

    def smtp_control(self, request: Incoming) -> tuple[int, Any, str]:
        """The SMTP sink's routes, or 404 when the simulator runs without one."""
        if self.smtp is None:
            error = {"error": "no SMTP sink: start the simulator with --smtp-port"}
            return 404, error, "application/json"
        return self.smtp.control(request)

    @staticmethod
    def obj(body: Any) -> JSONObject:
        """The control request's body as an object, or a 400."""
        if not isinstance(body, dict):
            raise Problem(400, "the body must be a JSON object")
        return body

    def list_accounts(self, query: dict[str, str]) -> list[JSONObject]:
        """Every account, tokens and secrets included (a test double)."""
        with self.lock:
            return [dict(a) for a in self.accounts.values()]

    def list_requests(self, query: dict[str, str]) -> list[JSONObject]:
        """Recorded requests, oldest first, filtered by account_id and path_contains."""
        account_id, part = query.get("account_id"), query.get("path_contains")
        with self.lock:
            rows = list(self.requests)
        return [
            r
            for r in rows
            if (not account_id or r["account_id"] == account_id) and (not part or part in r["path"])
        ]

    def list_webhooks(self, query: dict[str, str]) -> list[JSONObject]:
        """What the simulator posted (and the handshakes it made), oldest first."""
        account_id = query.get("account_id")
        with self.lock:
            rows = list(self.webhooks)
        return [r for r in rows if not account_id or r["account_id"] == account_id]

    def list_users(self, query: dict[str, str]) -> list[JSONObject]:
        """The customers an account has seen."""
        with self.lock:
            return [dict(u) for u in self.users.get(query.get("account_id", ""), {}).values()]

    def list_failures(self, query: dict[str, str]) -> list[JSONObject]:
        """Failures still pending."""
        with self.lock:
            return [dict(f) for f in self.failures]

    def thread_key(self, account_id: Any, user_id: Any) -> tuple[str, str]:
        """(account id, user id), a WhatsApp phone reduced to its wa_id digits."""
        account = self.account(account_id)
        if not isinstance(user_id, str) or not user_id:
            raise Problem(400, "user_id is required")
        if account["platform"] == "whatsapp":
            user_id = re.sub(r"\D", "", user_id)
        return account["id"], user_id

    def list_thread(self, query: dict[str, str]) -> list[JSONObject]:
        """The conversation as the customer sees it."""
        key = self.thread_key(query.get("account_id"), query.get("user_id"))
        with self.lock:
            return [dict(e) for e in self.threads.get(key, [])]

    def raw(self, doc: JSONObject) -> JSONObject:
        """Post exactly the body given (a JSON value, or body_text as is)."""
        account = self.account(doc.get("account_id"))
        sign = doc.get("sign", True)
        if sign not in SIGN_VALUES:
            raise Problem(400, 'sign must be true, false or "wrong"')
        if "body_text" in doc:
            if not isinstance(doc["body_text"], str):
                raise Problem(400, "body_text must be a string")
            raw = doc["body_text"].encode()
        elif "body" in doc:
            raw = encode(doc["body"])
        else:
            raise Problem(400, "give body (a JSON value) or body_text (a string)")
        post = self.post_webhook(account, raw, sign, "raw")
        return {"status": post["status"], "error": post["error"], "response": post["response"]}

    def statuses(self, doc: JSONObject) -> JSONObject:
        """Post a status webhook for a business message."""
        account = self.account(doc.get("account_id"))
        message_id, status = doc.get("message_id"), doc.get("status")
        if not isinstance(message_id, str) or not message_id:
            raise Problem(400, "message_id is required")
        if status not in ("sent", "delivered", "read", "failed"):
            raise Problem(400, "status must be sent, delivered, read or failed")
        code = doc.get("error_code", 131047)
        if not isinstance(code, int) or isinstance(code, bool):
            raise Problem(400, "error_code must be an integer")
        sign = doc.get("sign", True)
        if sign not in SIGN_VALUES:
            raise Problem(400, 'sign must be true, false or "wrong"')
        post = self.post_status(account, message_id, status, doc, sign)
        return {"status": post["status"], "body": post["body"], "error": post["error"]}

    def fail(self, doc: JSONObject) -> JSONObject:
        """Queue failures for the next calls (sends by default)."""
        unknown = sorted(set(doc) - FAIL_FIELDS)
        if unknown:
            raise Problem(400, f"unknown field(s): {', '.join(unknown)}")
        failure: JSONObject = {"account_id": doc.get("account_id"), "on": doc.get("on", "send")}
        if failure["account_id"] is not None:
            self.account(failure["account_id"])
        if failure["on"] not in FAIL_KINDS:
            raise Problem(400, f"on must be one of {', '.join(FAIL_KINDS)}")
        for key in ("code", "http_status", "error_subcode"):
            value = doc.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise Problem(400, f"{key} must be an integer")
            failure[key] = value
        if failure["http_status"] is not None and not 400 <= failure["http_status"] <= 599:
            raise Problem(400, "http_status must be 4xx or 5xx")
        times, delay = doc.get("times", 1), doc.get("delay_seconds", 0)
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise Problem(400, "times must be a positive integer")
        if not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= 120:
            raise Problem(400, "delay_seconds must be a number from 0 to 120")
        disconnect = doc.get("disconnect", False)
        if not isinstance(disconnect, bool):
            raise Problem(400, "disconnect must be a boolean")
        for key in ("message", "details"):
            if doc.get(key) is not None and not isinstance(doc[key], str):
                raise Problem(400, f"{key} must be a string")
            failure[key] = doc.get(key)
        failure |= {"times": times, "delay_seconds": float(delay), "disconnect": disconnect}
        if failure["code"] is None and failure["http_status"] is None and not (delay or disconnect):
            raise Problem(400, "give code, http_status, delay_seconds or disconnect")
        with self.lock:
            self.failures.append(failure)
            return {"pending": [dict(f) for f in self.failures]}

    def read(self, doc: JSONObject) -> JSONObject:
        """The customer reads the conversation: unread business replies become read."""
        account = self.account(doc.get("account_id"))
        key = self.thread_key(account["id"], doc.get("user_id"))
        with self.lock:
            unread = [
                e["id"]
                for e in self.threads.get(key, [])
                if e["direction"] == "out"
                and e.get("status") not in ("read", "failed")
                and not e.get("echo")
            ]
        if not unread:
            return {"read": [], "statuses": []}
        if account["platform"] == "whatsapp":
            ids = unread
        elif account["platform"] == "messenger":
            ids = unread[-1:]  # one watermark covers them all
        else:
            ids = unread[-1:]  # Instagram reports the last message read
        posts = [self.post_status(account, i, "read", {"user_id": key[1]}, True) for i in ids]
        for message_id in unread:
            self.set_status(message_id, "read")
        return {"read": unread, "statuses": [p["status"] for p in posts]}

    def reset(self, doc: JSONObject) -> JSONObject:
        """Forget recordings, failures and threads (every platform's, and the mail); accounts
        too with {"accounts": true}."""
        self.x.reset(doc)
        self.twilio.reset(doc)
        if self.smtp is not None:
            self.smtp.reset()
        self.email.reset()
        with self.lock:
            self.requests.clear()
            self.webhooks.clear()
            self.failures.clear()
            self.threads.clear()
            self.messages.clear()
            if doc.get("accounts"):
                self.accounts.clear()
                self.users.clear()
                self.files.clear()
            return {"accounts": len(self.accounts)}


def encode(body: Any) -> bytes:
    """JSON the way Meta posts it: compact, non-ASCII escaped."""
    return json.dumps(body, separators=(",", ":")).encode()


class Handler(BaseHTTPRequestHandler):
    """Moves bytes between HTTP and the simulator; keep-alive needs HTTP/1.1 and Content-Length."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits for
    # the delayed ACK (~40 ms) on every call.
    disable_nagle_algorithm = True
    server: SimulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: requests are recorded instead."""

    def do_GET(self) -> None:
        """Handle a GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Handle a POST."""
        self._handle("POST")

    def do_DELETE(self) -> None:
        """Handle a DELETE."""
        self._handle("DELETE")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers, up to the empty line
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        split = urllib.parse.urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True  # the framing is lost; so is the connection
            self._send(Reply(400, {"error": "bad_request"}))
            return
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        request = Incoming(method, split.path or "/", query, headers, body)
        reply = self.server.simulator.dispatch(request)
        if reply.delay:
            time.sleep(reply.delay)  # only this connection's thread waits
        if reply.disconnect:
            self.close_connection = True  # no answer at all: the client sees a dropped call
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if isinstance(reply.body, bytes):
            payload, content_type = reply.body, reply.content_type
        else:
            payload, content_type = json.dumps(reply.body).encode(), "application/json"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class SimulatorServer(ThreadingHTTPServer):
    """A thread per connection, so a slow answer or a webhook round trip holds up no other."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections under bursts

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        super().__init__(address, Handler)
        self.simulator = simulator


def build_server(
    host: str,
    port: int,
    public_url: str | None = None,
    *,
    smtp_port: int | None = None,
    rolodex_smtp: tuple[str, int] | None = None,
) -> SimulatorServer:
    """A bound, not yet serving server (port 0: a free one); public URL defaults to its own.

    With smtp_port (0: a free one), the SMTP sink listens on host too; rolodex_smtp is where
    the customer's mail goes when /_sim/email/send names no host and port.
    """
    simulator = Simulator()
    server = SimulatorServer((host, port), simulator)
    simulator.public_url = (public_url or f"http://{host}:{server.server_address[1]}").rstrip("/")
    simulator.email.default = rolodex_smtp
    if smtp_port is not None:
        try:
            simulator.smtp = mail_platform.SmtpSink(host, smtp_port)
            simulator.email.sink = simulator.smtp
        except OSError:
            server.server_close()
            raise
    return server


def load_accounts(path: str) -> list[JSONObject]:
    """The --accounts file: a JSON list of account objects."""
    with open(path, encoding="utf-8") as handle:
        docs = json.load(handle)
    if not isinstance(docs, list):
        raise Problem(400, "the accounts file must hold a JSON list")
    return docs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020, help="0 picks a free port")
    parser.add_argument("--accounts", help="JSON file: a list of accounts to register at start")
    parser.add_argument(
        "--public-url", help="base of the media and CDN URLs it hands out (default: its own)"
    )
    parser.add_argument(
        "--smtp-port",
        type=int,
        help="also run an SMTP sink (the company's mail server) on HOST:PORT; 0 picks a free port",
    )
    parser.add_argument(
        "--rolodex-smtp",
        type=mail_platform.parse_target,
        metavar="HOST:PORT",
        help="Rolodex's SMTP listener: where the customer's mail goes by default",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    args = parse_args(argv)
    try:
        server = build_server(
            args.host,
            args.port,
            args.public_url,
            smtp_port=args.smtp_port,
            rolodex_smtp=args.rolodex_smtp,
        )
    except OSError as exc:
        print(f"cannot listen: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    if args.accounts:
        try:
            for doc in load_accounts(args.accounts):
                server.simulator.load(doc)
        except (OSError, ValueError, Problem) as exc:
            server.server_close()
            print(f"--accounts {args.accounts}: {exc}", file=sys.stderr)  # noqa: T201
            return 2
    port = server.server_address[1]
    print(f"platform simulator listening on http://{args.host}:{port}", flush=True)  # noqa: T201
    sink = server.simulator.smtp
    if sink is not None:
        print(f"smtp sink listening on {sink.host}:{sink.port}", flush=True)  # noqa: T201

    def stop(signum: int, frame: object) -> None:
        # State is in memory, so nothing to flush: leave serve_forever() at once rather than
        # wait out its poll interval (tests start and stop the simulator often).
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if sink is not None:
            sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

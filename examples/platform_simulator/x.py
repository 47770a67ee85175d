"""X (Twitter) direct messages for the platform simulator: the v2 DM API and Account Activity.

Platform routes (recorded like Graph calls): `GET /2/users/me`,
`POST /2/dm_conversations/with/{participant_id}/messages` (Bearer = an account's
access_token) and `GET /x-media/{id}` (DM media, Bearer too). Control routes under
`/_sim/x/`: accounts, a signed DM (or an echo) posted to the account's webhook URL, the CRC
check run against it, and failures of the next sends. Standard library only; no import of
server.py (it imports this module), so answers are plain (status, body, content type).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from common import now_iso, tiny_png

JSONObject = dict[str, Any]
Answer = tuple[int, Any, str]
TIMEOUT = 10.0
ACCOUNT_FIELDS = {"user_id", "username", "name", "consumer_secret", "access_token", "webhook_url"}
DM_APP = {"id": "268278", "name": "Twitter Web Client", "url": "https://twitter.com"}


class Request(Protocol):
    """What the simulator's request object offers (server.Incoming)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    account_id: str | None

    def bearer(self) -> str | None:
        """The Bearer token."""
        ...


class Host(Protocol):
    """The simulator this platform lives in (for its public URL)."""

    public_url: str


class XProblem(Exception):
    """A control request refused: its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def sign(secret: str, data: bytes) -> str:
    """`sha256=` + base64 HMAC-SHA256, X's CRC and webhook signature."""
    return (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()
    )


def problem(status: int, title: str, detail: str) -> Answer:
    """An X API v2 problem answer."""
    body = {"title": title, "detail": detail, "type": "about:blank", "status": status}
    return status, body, "application/json"


def call(
    method: str, url: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int | None, bytes, str | None]:
    """One outgoing request: (status or None, body, error)."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, response.read(1024 * 1024), None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), None
    except (OSError, ValueError) as exc:
        return None, b"", f"{type(exc).__name__}: {exc}"


class XPlatform:
    """X's accounts, DM sends, media and webhook posts, in memory."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.lock = threading.RLock()
        self.accounts: dict[str, JSONObject] = {}  # by user id
        self.files: dict[str, tuple[bytes, str]] = {}
        self.sent: list[JSONObject] = []
        self.webhooks: list[JSONObject] = []
        self.failures: list[JSONObject] = []
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        """A snowflake-like id."""
        return str(int(time.time() * 1000) << 22 | next(self._ids))

    # ------------------------------------------------------------ platform

    def platform(self, request: Request) -> Answer:
        """`/2/...` and `/x-media/...`."""
        segments = [s for s in request.path.split("/") if s]
        account = self.by_token(request.bearer())
        request.account_id = account["user_id"] if account else None
        if account is None:
            return problem(401, "Unauthorized", "Unauthorized")
        if segments == ["2", "users", "me"] and request.method == "GET":
            data = {
                "id": account["user_id"],
                "name": account["name"],
                "username": account["username"],
            }
            return 200, {"data": data}, "application/json"
        if (
            len(segments) == 5
            and segments[:3] == ["2", "dm_conversations", "with"]
            and segments[4] == "messages"
            and request.method == "POST"
        ):
            return self.send(request, account, segments[3])
        if len(segments) == 2 and segments[0] == "x-media" and request.method == "GET":
            found = self.files.get(segments[1])
            if found is None:
                return problem(404, "Not Found Error", "no such media")
            return 200, found[0], found[1]
        return problem(404, "Not Found Error", f"no route {request.method} {request.path}")

    def by_token(self, token: str | None) -> JSONObject | None:
        """The account whose access token this is."""
        with self.lock:
            for account in self.accounts.values():
                if token and hmac.compare_digest(token, account["access_token"]):
                    return account
        return None

    def send(self, request: Request, account: JSONObject, participant: str) -> Answer:
        """A DM to a participant: `{text}` required; the next failure injected, if any."""
        with self.lock:
            for failure in self.failures:
                if failure["account_id"] == account["user_id"] and failure["times"] > 0:
                    failure["times"] -= 1
                    status = failure["status"]
                    return problem(status, failure["title"], failure["title"])
        try:
            doc = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return problem(400, "Invalid Request", "the body must be JSON")
        text = doc.get("text") if isinstance(doc, dict) else None
        if not isinstance(text, str) or not text.strip():
            return problem(400, "Invalid Request", "text is required")
        if not participant.isdigit():
            return problem(400, "Invalid Request", "participant_id must be a user id")
        event_id = self.new_id()
        low, high = sorted((participant, account["user_id"]), key=int)
        entry = {"dm_event_id": event_id, "dm_conversation_id": f"{low}-{high}"}
        with self.lock:
            self.sent.append(
                entry
                | {"account_id": account["user_id"], "to": participant, "text": text}
                | {"at": now_iso()}
            )
        return 201, {"data": entry}, "application/json"

    # ------------------------------------------------------------ control

    def control(self, request: Request) -> Answer:
        """The `/_sim/x/` routes."""
        path, method = request.path, request.method
        try:
            if method == "GET":
                views = {
                    "/_sim/x/accounts": lambda: list(self.accounts.values()),
                    "/_sim/x/sent": lambda: list(self.sent),
                    "/_sim/x/webhooks": lambda: list(self.webhooks),
                    "/_sim/x/thread": lambda: self.thread(request.query),
                }
                if path in views:
                    with self.lock:
                        return 200, views[path](), "application/json"
            if method != "POST":
                raise XProblem(404, f"no route {method} {path}")
            try:
                doc = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise XProblem(400, "the body must be JSON") from None
            if not isinstance(doc, dict):
                raise XProblem(400, "the body must be a JSON object")
            actions = {
                "/_sim/x/accounts": self.register,
                "/_sim/x/dm": self.dm,
                "/_sim/x/crc": self.crc,
                "/_sim/x/fail": self.fail,
                "/_sim/x/reset": self.reset,
            }
            if path not in actions:
                raise XProblem(404, f"no route {method} {path}")
            return 200, actions[path](doc), "application/json"
        except XProblem as exc:
            return exc.status, {"error": exc.message}, "application/json"

    @staticmethod
    def text(doc: JSONObject, key: str, default: str | None = None) -> str:
        """A string field, or a 400."""
        value = doc.get(key, default)
        if not isinstance(value, str) or not value:
            raise XProblem(400, f"{key} must be a non-empty string")
        return value

    def register(self, doc: JSONObject) -> JSONObject:
        """Add an account {user_id, consumer_secret, access_token, webhook_url, username?, …}."""
        unknown = sorted(set(doc) - ACCOUNT_FIELDS - {"crc"})
        if unknown:
            raise XProblem(400, f"unknown account field(s): {', '.join(unknown)}")
        account = {
            key: self.text(doc, key)
            for key in ("user_id", "consumer_secret", "access_token", "webhook_url")
        }
        if not account["user_id"].isdigit():
            raise XProblem(400, "user_id must be digits")
        account["username"] = self.text(doc, "username", "acme")
        account["name"] = self.text(doc, "name", "Acme")
        with self.lock:
            self.accounts[account["user_id"]] = account
        if doc.get("crc"):
            result = self.crc({"account_id": account["user_id"]})
            if not result["ok"]:
                raise XProblem(400, f"CRC check failed: {result}")
        return dict(account)

    def account(self, doc: JSONObject) -> JSONObject:
        """The account named by `account_id`, or a 404."""
        account_id = str(doc.get("account_id", ""))
        with self.lock:
            found = self.accounts.get(account_id)
        if found is None:
            raise XProblem(404, f"unknown account_id {account_id!r}")
        return found

    def crc(self, doc: JSONObject) -> JSONObject:
        """GET the webhook URL with a crc_token, as X does; whether the answer is right."""
        account = self.account(doc)
        token = secrets.token_urlsafe(24)
        url = account["webhook_url"]
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"crc_token": token})
        status, answer, error = call("GET", url, None, {})
        expected = sign(account["consumer_secret"], token.encode())
        try:
            given = json.loads(answer).get("response_token")
        except (ValueError, AttributeError):
            given = None
        result = {"status": status, "crc_token": token, "response_token": given}
        result |= {"expected": expected, "ok": status == 200 and given == expected, "error": error}
        with self.lock:
            self.webhooks.append({"kind": "crc", "account_id": account["user_id"]} | result)
        return result

    def user(self, given: Any) -> JSONObject:
        """An X user object from the control request's `user`."""
        if not isinstance(given, dict) or not str(given.get("id", "")).isdigit():
            raise XProblem(400, "user must be an object with a numeric id")
        user_id = str(given["id"])
        screen_name = str(given.get("screen_name") or f"user{user_id[-6:]}")
        return {
            "id": user_id,
            "created_timestamp": "1422556069340",
            "name": str(given.get("name") or screen_name),
            "screen_name": screen_name,
            "location": given.get("location"),
            "description": given.get("description"),
            "protected": False,
            "verified": False,
            "followers_count": int(given.get("followers_count") or 0),
            "friends_count": 10,
            "statuses_count": 42,
            "profile_image_url_https": f"{self.host.public_url}/x-media/avatar-{user_id}.png",
        }

    def dm(self, doc: JSONObject) -> JSONObject:
        """Post a signed DM (or, with echo, the business's own) to the account's webhook."""
        account = self.account(doc)
        user = self.user(doc.get("user"))
        me = {"id": account["user_id"], "name": account["name"], "screen_name": account["username"]}
        me |= {"followers_count": 100, "protected": False, "verified": False}
        echo = bool(doc.get("echo"))
        sender, recipient = (me["id"], user["id"]) if echo else (user["id"], me["id"])
        text = str(doc.get("text") or "")
        data: JSONObject = {
            "text": text,
            "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
        }
        if doc.get("media"):
            media_id = self.new_id()
            with self.lock:
                self.files[f"{media_id}.png"] = (tiny_png(b"\xff\x00\x00"), "image/png")
            link = f"https://t.co/{media_id[-10:]}"
            data["text"] = f"{text} {link}".strip()
            data["attachment"] = {
                "type": "media",
                "media": {
                    "id": int(media_id),
                    "id_str": media_id,
                    "media_url_https": f"{self.host.public_url}/x-media/{media_id}.png",
                    "url": link,
                    "display_url": "pic.twitter.com/" + media_id[-10:],
                    "type": "photo",
                },
            }
        event_id = str(doc.get("event_id") or self.new_id())
        event = {
            "type": "message_create",
            "id": event_id,
            "created_timestamp": str(int(time.time() * 1000)),
            "message_create": {
                "target": {"recipient_id": recipient},
                "sender_id": sender,
                "source_app_id": DM_APP["id"],
                "message_data": data,
            },
        }
        body = {
            "for_user_id": account["user_id"],
            "direct_message_events": [event],
            "apps": {DM_APP["id"]: DM_APP},
            "users": {user["id"]: user, me["id"]: me},
        }
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        signed = doc.get("sign", True)
        if signed is True:
            headers["X-Twitter-Webhooks-Signature"] = sign(account["consumer_secret"], raw)
        elif signed == "wrong":
            headers["X-Twitter-Webhooks-Signature"] = sign(
                "wrong-" + account["consumer_secret"], raw
            )
        status, answer, error = call("POST", account["webhook_url"], raw, headers)
        entry = {"kind": "dm", "account_id": account["user_id"], "event_id": event_id, "body": body}
        entry |= {"at": now_iso(), "user_id": user["id"], "echo": echo, "text": data["text"]}
        entry |= {"headers": headers, "status": status, "error": error}
        entry |= {"response": answer[:2000].decode("utf-8", "replace")}
        with self.lock:
            self.webhooks.append(entry)
        return entry

    def thread(self, query: dict[str, str]) -> list[JSONObject]:
        """One user's DMs with an account (`account_id`, `user_id`), oldest first."""
        account_id, user_id = query.get("account_id"), query.get("user_id")
        rows: list[JSONObject] = []
        for hook in self.webhooks:
            if hook["kind"] != "dm" or hook["user_id"] != user_id:
                continue
            if account_id and hook["account_id"] != account_id:
                continue
            direction = "out" if hook["echo"] else "in"
            rows.append(
                {"direction": direction, "at": hook["at"], "text": hook["text"]}
                | {"echo": hook["echo"], "delivered_to_rolodex": hook["status"]}
            )
        for sent in self.sent:
            if sent["to"] == user_id and (not account_id or sent["account_id"] == account_id):
                rows.append(
                    {"direction": "out", "at": sent["at"], "text": sent["text"]}
                    | {"echo": False, "id": sent["dm_event_id"]}
                )
        return sorted(rows, key=lambda row: str(row["at"]))

    def fail(self, doc: JSONObject) -> JSONObject:
        """The next `times` sends of an account answer `status` (429, 5xx, 4xx)."""
        account = self.account(doc)
        status = doc.get("status", 503)
        times = doc.get("times", 1)
        if not isinstance(status, int) or not 400 <= status <= 599 or not isinstance(times, int):
            raise XProblem(400, "status must be an HTTP error status and times an integer")
        title = str(
            doc.get("title")
            or {429: "Too Many Requests", 403: "Forbidden"}.get(status, "Service Unavailable")
        )
        failure = {
            "account_id": account["user_id"],
            "status": status,
            "times": times,
            "title": title,
        }
        with self.lock:
            self.failures.append(failure)
        return failure

    def reset(self, doc: JSONObject) -> JSONObject:
        """Forget sends, webhooks and failures (accounts too with {"accounts": true})."""
        with self.lock:
            self.sent.clear()
            self.webhooks.clear()
            self.failures.clear()
            if doc.get("accounts"):
                self.accounts.clear()
                self.files.clear()
            return {"accounts": len(self.accounts)}

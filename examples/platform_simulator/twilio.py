"""Twilio Programmable Messaging for the platform simulator: SMS and MMS.

Platform routes (recorded like Graph calls), each with the account's Basic auth
(AccountSid:AuthToken): `POST /2010-04-01/Accounts/{sid}/Messages.json` (form-encoded To,
From, Body, MediaUrl…, StatusCallback; answers Twilio's message JSON, then posts signed
status callbacks when the account's auto statuses are on), `GET /2010-04-01/Accounts/{sid}.json`
and the media of inbound MMS (`GET /2010-04-01/Accounts/{sid}/Messages/{MM}/Media/{ME}`).
Control routes under `/_sim/twilio/`: accounts, a signed inbound SMS/MMS posted to the
account's webhook URL, a status callback on demand, failures of the next sends (21610,
20429…) and a reset. Standard library only; no import of server.py.
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
STATUS_GAP = 0.4  # seconds between a send's answer and each status callback
API_VERSION = "2010-04-01"
# What Twilio answers for the errors a test injects.
ERRORS: dict[int, tuple[int, str]] = {
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21211: (400, "Invalid 'To' Phone Number"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
}


class Request(Protocol):
    """What the simulator's request object offers (server.Incoming)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    account_id: str | None
    extra: JSONObject


class Host(Protocol):
    """The simulator this platform lives in (for its public URL)."""

    public_url: str


class TwilioProblem(Exception):
    """A control request refused: its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def sign(auth_token: str, url: str, fields: list[tuple[str, str]]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL then every field's name+value, sorted."""
    data = url + "".join(name + value for name, value in sorted(fields))
    return base64.b64encode(
        hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    ).decode()


def error(status: int, code: int, message: str) -> Answer:
    """A Twilio REST error answer."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return status, body, "application/json"


def post(
    url: str, fields: list[tuple[str, str]], signature: str
) -> tuple[int | None, str, str | None]:
    """POST a form as Twilio does: (status or None, body, error)."""
    body = urllib.parse.urlencode(fields).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
        "User-Agent": "TwilioProxy/1.1",
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, response.read(64 * 1024).decode("utf-8", "replace"), None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(64 * 1024).decode("utf-8", "replace"), None
    except (OSError, ValueError) as exc:
        return None, "", f"{type(exc).__name__}: {exc}"


def sid(prefix: str) -> str:
    """A Twilio-shaped sid: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


class TwilioPlatform:
    """Twilio's accounts, messages, media and webhook posts, in memory."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.lock = threading.RLock()
        self.accounts: dict[str, JSONObject] = {}  # by AccountSid
        self.files: dict[str, tuple[bytes, str]] = {}  # media sid -> (bytes, content type)
        self.messages: dict[str, JSONObject] = {}  # sent message sid -> its resource
        self.webhooks: list[JSONObject] = []
        self.failures: list[JSONObject] = []
        self._ids = itertools.count(1)

    # ------------------------------------------------------------ platform

    def platform(self, request: Request) -> Answer:
        """`/2010-04-01/Accounts/...`."""
        segments = [s for s in request.path.split("/") if s]
        if len(segments) < 3 or segments[:2] != [API_VERSION, "Accounts"]:
            return error(404, 20404, "The requested resource was not found")
        account_sid = segments[2].removesuffix(".json")
        request.account_id = account_sid
        account = self.authenticated(request, account_sid)
        if account is None:
            return error(401, 20003, "Authenticate")
        rest = segments[3:]
        if not rest and segments[2].endswith(".json") and request.method == "GET":
            return 200, self.account_resource(account), "application/json"
        if rest == ["Messages.json"] and request.method == "POST":
            return self.send(request, account)
        if (
            len(rest) == 4
            and rest[0] == "Messages"
            and rest[2] == "Media"
            and request.method == "GET"
        ):
            found = self.files.get(rest[3].removesuffix(".json"))
            if found is None:
                return error(404, 20404, "The requested resource was not found")
            return 200, found[0], found[1]
        return error(404, 20404, f"no route {request.method} {request.path}")

    def authenticated(self, request: Request, account_sid: str) -> JSONObject | None:
        """The account when the Basic credentials are its sid and auth token."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        with self.lock:
            account = self.accounts.get(account_sid)
        if account is None or user != account_sid:
            return None
        return account if hmac.compare_digest(password, account["auth_token"]) else None

    @staticmethod
    def account_resource(account: JSONObject) -> JSONObject:
        """The Account resource as Twilio shows it."""
        return {
            "sid": account["account_sid"],
            "friendly_name": account["friendly_name"],
            "status": "active",
            "type": "Full",
            "uri": f"/{API_VERSION}/Accounts/{account['account_sid']}.json",
        }

    def send(self, request: Request, account: JSONObject) -> Answer:
        """A message: To, From and Body or MediaUrl required; the next failure injected, if any."""
        fields = urllib.parse.parse_qsl(
            request.body.decode("utf-8", "replace"), keep_blank_values=True
        )
        request.extra["twilio"] = {"fields": fields}
        with self.lock:
            for failure in self.failures:
                if failure["account_sid"] == account["account_sid"] and failure["times"] > 0:
                    failure["times"] -= 1
                    status, message = ERRORS.get(failure["code"], (400, "Error"))
                    return error(status, failure["code"], message)
        form: dict[str, str] = {}
        media = []
        for name, value in fields:
            if name == "MediaUrl":
                media.append(value)
            else:
                form[name] = value
        if not form.get("To"):
            return error(400, 21604, "A 'To' phone number is required.")
        if form.get("From") != account["from_number"]:
            return error(
                400,
                21606,
                "The 'From' phone number provided is not a valid message-capable Twilio phone"
                " number for this account.",
            )
        if not form.get("Body") and not media:
            return error(400, 21602, "Message body is required.")
        if len(form.get("Body", "")) > 1600:
            return error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        message_sid = sid("SM" if not media else "MM")
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        resource = {
            "account_sid": account["account_sid"],
            "api_version": API_VERSION,
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": account["from_number"],
            "messaging_service_sid": None,
            "num_media": str(len(media)),
            "num_segments": str(max(1, -(-len(form.get("Body", "")) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": message_sid,
            "status": "queued",
            "subresource_uris": {
                "media": (
                    f"/{API_VERSION}/Accounts/{account['account_sid']}"
                    f"/Messages/{message_sid}/Media.json"
                )
            },
            "to": form["To"],
            "uri": f"/{API_VERSION}/Accounts/{account['account_sid']}/Messages/{message_sid}.json",
        }
        with self.lock:
            self.messages[message_sid] = resource | {
                "status_callback": form.get("StatusCallback"),
                "media_urls": media,
                "at": now_iso(),
            }
        callback = form.get("StatusCallback")
        if callback and account["auto_statuses"]:
            threading.Thread(
                target=self.auto_statuses, args=(account, message_sid, callback), daemon=True
            ).start()
        return 201, resource, "application/json"

    def auto_statuses(self, account: JSONObject, message_sid: str, callback: str) -> None:
        """sent, then delivered, to the message's StatusCallback (after the send's answer)."""
        for status in ("sent", "delivered"):
            time.sleep(STATUS_GAP)
            self.post_status(account, message_sid, status, None, callback)

    def thread(self, number: str) -> list[JSONObject]:
        """One phone's SMS with the account, as its owner sees them, oldest first."""
        rows: list[JSONObject] = []
        for hook in self.webhooks:
            fields = dict(hook["fields"])
            if hook["kind"] == "inbound" and fields.get("From") == number:
                media = int(fields.get("NumMedia") or 0)
                rows.append(
                    {"direction": "in", "at": hook["at"], "text": fields.get("Body", "")}
                    | {"media": media, "status": None, "delivered_to_rolodex": hook["status"]}
                )
        for message in self.messages.values():
            if message["to"] == number:
                rows.append(
                    {"direction": "out", "at": message["at"], "text": message["body"]}
                    | {"media": len(message["media_urls"]), "status": message["status"]}
                )
        return sorted(rows, key=lambda row: str(row["at"]))

    def post_status(
        self, account: JSONObject, message_sid: str, status: str, code: int | None, url: str
    ) -> JSONObject:
        """A signed status callback as Twilio posts it."""
        with self.lock:
            message = self.messages.get(message_sid, {})
            if message:  # what the Messages log shows from now on
                message["status"] = status
                message["error_code"] = code
        fields = [
            ("AccountSid", account["account_sid"]),
            ("ApiVersion", API_VERSION),
            ("From", account["from_number"]),
            ("MessageSid", message_sid),
            ("MessageStatus", status),
            ("SmsSid", message_sid),
            ("SmsStatus", status),
            ("To", str(message.get("to", ""))),
        ]
        if code is not None:
            fields.append(("ErrorCode", str(code)))
        return self.deliver(account, url, fields, "status")

    def deliver(
        self,
        account: JSONObject,
        url: str,
        fields: list[tuple[str, str]],
        kind: str,
        *,
        bad: bool = False,
        sign_url: str | None = None,
    ) -> JSONObject:
        """Sign (for `sign_url` when given, a wrong token when `bad`) and post one webhook."""
        signed_url = sign_url or url
        signature = sign("not-the-auth-token" if bad else account["auth_token"], signed_url, fields)
        status, body, failure = post(url, fields, signature)
        entry = {
            "id": next(self._ids),
            "at": now_iso(),
            "kind": kind,
            "url": url,
            "fields": fields,
            "signature": signature,
            "status": status,
            "response": body,
            "error": failure,
        }
        with self.lock:
            self.webhooks.append(entry)
        return entry

    # ------------------------------------------------------------ control

    def control(self, request: Request) -> Answer:
        """The `/_sim/twilio/...` routes."""
        action = request.path.removeprefix("/_sim/twilio/").strip("/")
        try:
            if request.method == "GET":
                views = {
                    "accounts": lambda: list(self.accounts.values()),
                    "webhooks": lambda: list(self.webhooks),
                    "messages": lambda: list(self.messages.values()),
                    "thread": lambda: self.thread(request.query.get("number", "")),
                }
                if action not in views:
                    raise TwilioProblem(404, f"no route GET {request.path}")
                with self.lock:
                    return 200, {"items": views[action]()}, "application/json"
            if request.method != "POST":
                raise TwilioProblem(405, f"no route {request.method} {request.path}")
            try:
                doc = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise TwilioProblem(400, "the body must be JSON") from None
            if not isinstance(doc, dict):
                raise TwilioProblem(400, "the body must be a JSON object")
            actions = {
                "accounts": self.register,
                "inbound": self.inbound,
                "status": self.status,
                "fail": self.fail,
                "reset": self.reset,
            }
            if action not in actions:
                raise TwilioProblem(404, f"no route POST {request.path}")
            return 200, actions[action](doc), "application/json"
        except TwilioProblem as problem:
            return problem.status, {"error": problem.message}, "application/json"

    @staticmethod
    def text(doc: JSONObject, key: str, default: str | None = None) -> str:
        """A string field of a control request (400 when missing and no default)."""
        value = doc.get(key, default)
        if not isinstance(value, str) or not value:
            raise TwilioProblem(400, f"{key} is required")
        return value

    def register(self, doc: JSONObject) -> JSONObject:
        """An account: account_sid, auth_token, from_number, webhook_url, auto_statuses."""
        account = {
            "account_sid": self.text(doc, "account_sid", sid("AC")),
            "auth_token": self.text(doc, "auth_token", secrets.token_hex(16)),
            "from_number": self.text(doc, "from_number", "+15005550006"),
            "webhook_url": self.text(doc, "webhook_url", ""),
            "friendly_name": self.text(doc, "friendly_name", "Rolodex test account"),
            "auto_statuses": doc.get("auto_statuses", True) is not False,
        }
        with self.lock:
            self.accounts[account["account_sid"]] = account
        return dict(account)

    def account(self, doc: JSONObject) -> JSONObject:
        """The account a control request names (the only one when it names none)."""
        with self.lock:
            given = doc.get("account_sid")
            if given is None and len(self.accounts) == 1:
                return next(iter(self.accounts.values()))
            found = self.accounts.get(str(given))
        if found is None:
            raise TwilioProblem(404, f"unknown account_sid {given!r}")
        return found

    def inbound(self, doc: JSONObject) -> JSONObject:
        """A customer's SMS/MMS posted, signed, to the account's webhook URL.

        `{from, body?, media?: n | [content types], account_sid?, url?, sign_url?, bad_signature?}`.
        """
        account = self.account(doc)
        sender = self.text(doc, "from")
        given_media = doc.get("media", 0)
        if isinstance(given_media, int):
            kinds = ["image/png"] * given_media
        elif isinstance(given_media, list) and all(isinstance(k, str) for k in given_media):
            kinds = list(given_media)
        else:
            raise TwilioProblem(400, "media must be a count or a list of content types")
        message_sid = sid("MM" if kinds else "SM")
        base = (
            f"{self.host.public_url}/{API_VERSION}/Accounts/{account['account_sid']}"
            f"/Messages/{message_sid}/Media"
        )
        fields = [
            ("ToCountry", "US"),
            ("ToState", "CA"),
            ("SmsMessageSid", message_sid),
            ("NumMedia", str(len(kinds))),
            ("ToCity", ""),
            ("FromZip", ""),
            ("SmsSid", message_sid),
            ("FromState", ""),
            ("SmsStatus", "received"),
            ("FromCity", ""),
            ("Body", str(doc.get("body", ""))),
            ("FromCountry", ""),
            ("To", account["from_number"]),
            ("ToZip", ""),
            ("NumSegments", "1"),
            ("MessageSid", message_sid),
            ("AccountSid", account["account_sid"]),
            ("From", sender),
            ("ApiVersion", API_VERSION),
        ]
        for n, kind in enumerate(kinds):
            media_sid = sid("ME")
            data = (
                tiny_png(bytes([next(self._ids) % 256, 80, 160]))
                if kind.startswith("image/")
                else f"file {n}\n".encode()
            )
            with self.lock:
                self.files[media_sid] = (data, kind)
            fields.append((f"MediaContentType{n}", kind))
            fields.append((f"MediaUrl{n}", f"{base}/{media_sid}"))
        url = str(doc.get("url") or account["webhook_url"])
        entry = self.deliver(
            account,
            url,
            fields,
            "inbound",
            bad=doc.get("bad_signature") is True,
            sign_url=doc.get("sign_url"),
        )
        return entry | {"message_sid": message_sid}

    def status(self, doc: JSONObject) -> JSONObject:
        """A status callback for a sent message: `{message_sid, status, error_code?}`."""
        account = self.account(doc)
        message_sid = self.text(doc, "message_sid")
        with self.lock:
            message = self.messages.get(message_sid, {})
        url = str(doc.get("url") or message.get("status_callback") or account["webhook_url"])
        code = doc.get("error_code")
        return self.post_status(
            account, message_sid, self.text(doc, "status"), int(code) if code else None, url
        )

    def fail(self, doc: JSONObject) -> JSONObject:
        """The next `times` sends of the account fail with Twilio error `code`."""
        account = self.account(doc)
        code = doc.get("code")
        if not isinstance(code, int):
            raise TwilioProblem(400, "code must be a Twilio error code (21610, 20429…)")
        times = doc.get("times", 1)
        failure = {"account_sid": account["account_sid"], "code": code, "times": int(times)}
        with self.lock:
            self.failures.append(failure)
        return failure

    def reset(self, doc: JSONObject) -> JSONObject:
        """Forget messages, webhooks and failures; accounts too with {"accounts": true}."""
        with self.lock:
            self.messages.clear()
            self.webhooks.clear()
            self.failures.clear()
            if doc.get("accounts"):
                self.accounts.clear()
                self.files.clear()
            return {"accounts": len(self.accounts)}

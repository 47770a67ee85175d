"""SMS and MMS through Twilio Programmable Messaging: one Twilio number per channel.

Twilio posts form-encoded webhooks signed with `X-Twilio-Signature` (HMAC-SHA1 over the
webhook URL followed by the POST fields sorted by name), both for inbound messages and for
the status callbacks of the messages Rolodex sent. Replies go to the Messages resource of
the REST API with the account's Basic auth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

import httpx

from rolodex.catalogue import Medium
from rolodex.channels.connectors import meta
from rolodex.channels.connectors.base import (
    Connection,
    Connector,
    Handshake,
    InboundItem,
    Media,
    MediaRef,
    OutboundFile,
    Parsed,
    PayloadRejected,
    PlatformError,
    ReplyContext,
    Sent,
    StatusItem,
)

DEFAULT_API_URL = "https://api.twilio.com"
API_DEFAULTS: Mapping[str, Any] = {"api_url": DEFAULT_API_URL}
MAX_SMS_LENGTH = 1600  # Twilio refuses a longer Body (error 21617)
MAX_MEDIA = 10  # Twilio takes at most ten MediaUrl per message
# Twilio's statuses as Rolodex's delivery statuses; the others (queued, accepted, sending,
# scheduled…) say nothing a reply's `queued` does not already say.
STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
}
# Error codes worth trying again later: Twilio's queue is full / too many requests.
RETRYABLE_CODES = frozenset({"20429", "14107", "30001"})
OPTED_OUT = "21610"
_DEFAULT_PORTS = {"http": 80, "https": 443}


# --- Signatures ------------------------------------------------------------------------------


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1(auth token, URL + each sorted field's name+value)."""
    signed = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _with_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is not None or parts.scheme not in _DEFAULT_PORTS:
        return url
    netloc = f"{parts.netloc}:{_DEFAULT_PORTS[parts.scheme]}"
    return urlunsplit(parts._replace(netloc=netloc))


def _without_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is None or _DEFAULT_PORTS.get(parts.scheme) != parts.port:
        return url
    netloc = parts.netloc.rsplit(":", 1)[0]
    return urlunsplit(parts._replace(netloc=netloc))


def form_fields(body: bytes) -> list[tuple[str, str]]:
    """The fields of a form-encoded body, in order, blanks kept (PayloadRejected if not UTF-8)."""
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise PayloadRejected("the body is not UTF-8") from exc
    return parse_qsl(text, keep_blank_values=True)


def signature_valid(auth_token: object, url: str, given: str | None, body: bytes) -> bool:
    """Whether `given` is Twilio's signature of this delivery, with or without the default port."""
    if not isinstance(auth_token, str) or not auth_token or not given:
        return False
    try:
        params = form_fields(body)
    except PayloadRejected:
        return False
    # Twilio's own validators accept the URL as configured with and without ":443"/":80".
    candidates = {url, _with_port(url), _without_port(url)}
    return any(
        hmac.compare_digest(signature(auth_token, candidate, params).encode(), given.encode())
        for candidate in candidates
    )


# --- The connector ------------------------------------------------------------------------------


def _basic(connection: Connection) -> httpx.BasicAuth:
    return httpx.BasicAuth(
        meta.required(connection, "account_sid"), meta.required(connection, "auth_token")
    )


def _api(connection: Connection, *segments: str) -> str:
    base = (connection.get("api_url") or DEFAULT_API_URL).rstrip("/")
    return "/".join([base, "2010-04-01", *(quote(segment, safe="") for segment in segments)])


def _filename(url: str, content_type: str, n: int) -> str:
    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    extension = content_type.split("/", 1)[-1].split(";", 1)[0].strip() or "bin"
    return f"{segment or f'media-{n}'}.{extension}" if "." not in segment else segment


def error_from_response(response: httpx.Response) -> PlatformError:
    """A PlatformError for a REST answer that is not 2xx: Twilio's code and message when given."""
    status = response.status_code
    code, title = f"http_{status}", response.reason_phrase or f"HTTP {status}"
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        if isinstance(answer.get("code"), int | str) and not isinstance(answer["code"], bool):
            code = str(answer["code"])
        if isinstance(answer.get("message"), str) and answer["message"]:
            title = answer["message"]
    if code == OPTED_OUT:
        # The recipient sent STOP: nothing is sent to them until they send START.
        return PlatformError(
            code, "The recipient has opted out of messages (STOP).", retryable=False
        )
    if 300 <= status < 400:
        return PlatformError(code, f"redirected ({title})", retryable=False)
    retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
    return PlatformError(code, title, retryable=retryable)


async def _call(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    connection: Connection,
    data: dict[str, str | list[str]] | None = None,
) -> dict[str, Any]:
    try:
        response = await http.request(
            method, url, data=data, auth=_basic(connection), follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise meta.error_from_exception(exc) from exc
    if not 200 <= response.status_code < 300:
        raise error_from_response(response)
    try:
        answer = response.json()
    except ValueError as exc:
        raise PlatformError("bad_response", "the answer is not JSON", retryable=False) from exc
    if not isinstance(answer, dict):
        raise PlatformError("bad_response", "the answer is not a JSON object", retryable=False)
    return answer


class Twilio(Connector):
    """A Twilio phone number: E.164 numbers are the contacts' ids."""

    provider = "twilio"
    medium = Medium.SMS
    secret_fields = ("auth_token",)
    defaults = API_DEFAULTS
    url_field = "api_url"
    max_text_length = MAX_SMS_LENGTH

    # Webhooks

    def handshake(self, connection: Connection, query: dict[str, str]) -> Handshake:
        """Twilio makes no verification GET."""
        return Handshake(405, "")

    def verify(
        self, connection: Connection, url: str, headers: dict[str, str], body: bytes
    ) -> bool:
        """X-Twilio-Signature over the public webhook URL and the sorted form fields."""
        return signature_valid(
            connection.get("auth_token"), url, headers.get("x-twilio-signature"), body
        )

    def acknowledgement(self) -> Handshake:
        """An empty TwiML answer: nothing is sent back automatically."""
        return Handshake(200, "<Response/>", "text/xml")

    def parse(self, connection: Connection, body: bytes, content_type: str) -> Parsed:
        """An inbound SMS/MMS, or the status callback of a message Rolodex sent."""
        parsed = Parsed()
        fields = dict(form_fields(body))
        account = connection.get("account_sid")
        if account and fields.get("AccountSid") and fields["AccountSid"] != account:
            parsed.ignore("other_account")
            return parsed
        sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
        if not sid:
            raise PayloadRejected("MessageSid is missing")
        status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
        if status and status != "received":
            self._status(parsed, fields, sid, status)
            return parsed
        self._message(parsed, connection, fields, sid)
        return parsed

    def _status(self, parsed: Parsed, fields: dict[str, str], sid: str, status: str) -> None:
        mapped = STATUSES.get(status)
        if mapped is None:
            parsed.ignore(f"status:{status}")
            return
        code = fields.get("ErrorCode") or None
        title = None
        if mapped == "failed":
            code = code or status
            title = fields.get("ErrorMessage") or _failure_title(code, status)
        parsed.items.append(
            StatusItem(sid, mapped, datetime.now(UTC), error_code=code, error_title=title)
        )

    def _message(
        self, parsed: Parsed, connection: Connection, fields: dict[str, str], sid: str
    ) -> None:
        sender = fields.get("From", "")
        if not sender:
            raise PayloadRejected("From is missing")
        number = connection.get("from_number")
        if number and fields.get("To") and fields["To"] != number:
            parsed.ignore("other_number")
            return
        count = fields.get("NumMedia", "0")
        media: list[MediaRef] = []
        for n in range(int(count) if count.isdigit() else 0):
            url = fields.get(f"MediaUrl{n}")
            if not url:
                parsed.ignore("media:no_url")
                continue
            kind = fields.get(f"MediaContentType{n}") or "application/octet-stream"
            media.append(MediaRef(ref=url, content_type=kind, filename=_filename(url, kind, n)))
        text = fields.get("Body", "")
        if not text and not media:
            parsed.ignore("message:empty")
            return
        attributes = {"phone": sender} if sender.startswith("+") else {}
        parsed.items.append(
            InboundItem(
                sid, sender, datetime.now(UTC), text=text, attributes=attributes, media=media
            )
        )

    # REST calls

    async def send(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        recipient: str,
        text: str,
        files: list[OutboundFile],
        reply: ReplyContext | None = None,
    ) -> Sent:
        """One message with the text and up to ten files by their signed public URL."""
        if not text and not files:
            raise PlatformError("empty", "nothing to send", retryable=False)
        if len(files) > MAX_MEDIA:
            raise PlatformError("too_many_files", f"at most {MAX_MEDIA} files", retryable=False)
        form: dict[str, str | list[str]] = {
            "To": recipient,
            "From": meta.required(connection, "from_number"),
        }
        if text:
            form["Body"] = text
        urls = []
        for file in files:
            if not file.url:
                raise PlatformError(
                    "no_public_url", f"{file.filename} has no public URL to send", retryable=False
                )
            urls.append(file.url)
        if urls:
            form["MediaUrl"] = urls  # the field repeated, once per file
        callback = connection.get("webhook_url")
        if isinstance(callback, str) and callback:
            form["StatusCallback"] = callback
        account = meta.required(connection, "account_sid")
        answer = await _call(
            http, "POST", _api(connection, "Accounts", account, "Messages.json"), connection, form
        )
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            raise PlatformError("bad_response", "the answer has no sid", retryable=False)
        return Sent(sid)

    async def test(self, http: httpx.AsyncClient, connection: Connection) -> str:
        """The account's friendly name (a GET of the account)."""
        account = meta.required(connection, "account_sid")
        answer = await _call(
            http, "GET", _api(connection, "Accounts", f"{account}.json"), connection
        )
        name = answer.get("friendly_name")
        return name if isinstance(name, str) and name else account

    async def download(
        self, http: httpx.AsyncClient, connection: Connection, media: MediaRef, max_bytes: int
    ) -> Media:
        """GET the MediaUrl with the account's Basic auth (media may require it)."""
        sid = meta.required(connection, "account_sid")
        token = meta.required(connection, "auth_token")
        credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
        return await _download(http, media, max_bytes, {"Authorization": f"Basic {credentials}"})


async def _download(
    http: httpx.AsyncClient, media: MediaRef, max_bytes: int, headers: dict[str, str]
) -> Media:
    # Twilio answers a MediaUrl with a redirect to its storage: followed once, by hand, so the
    # next address is checked like every other and the credentials do not travel with it.
    try:
        return await meta.download(
            http,
            media.ref,
            headers=headers,
            max_bytes=max_bytes,
            announced=media.content_type,
            filename=media.filename,
        )
    except PlatformError as exc:
        if not exc.title.startswith("redirected"):
            raise
    try:
        head = await http.get(media.ref, headers=headers, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise meta.error_from_exception(exc) from exc
    location = head.headers.get("location", "")
    if not location:
        raise PlatformError("bad_response", "a redirect without a location", retryable=False)
    target = str(httpx.URL(media.ref).join(location))
    return await meta.download(
        http,
        target,
        headers={},
        max_bytes=max_bytes,
        announced=media.content_type,
        filename=media.filename,
    )


def _failure_title(code: str, status: str) -> str:
    if code == OPTED_OUT:
        return "The recipient has opted out of messages (STOP)."
    if status == "undelivered":
        return "The carrier could not deliver the message."
    return "The message could not be sent."


connector = Twilio()

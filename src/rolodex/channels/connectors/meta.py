"""What WhatsApp Cloud, Messenger and Instagram share: the Graph API and Meta's webhooks.

Graph URLs, the hub.* handshake, the X-Hub-Signature-256 check, Graph errors as
PlatformError, capped downloads, and the `messaging[]` events Messenger and Instagram both
post (their differences are class attributes of `MessagingConnector`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from abc import abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

import httpx

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
    ReactionItem,
    ReplyContext,
    Sent,
    StatusItem,
    WatermarkItem,
)

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
# Graph error codes worth trying again later (rate limits, temporary outages); the rest fail.
RETRYABLE_CODES = frozenset(
    {"1", "2", "4", "17", "32", "613", "80007", "130429", "131000", "131016", "131056", "1200"}
)
_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")
# An error body is read only this far: enough for Graph's JSON, never a whole file.
_ERROR_BODY_BYTES = 64 * 1024


# --- Graph calls -------------------------------------------------------------------------


def graph_url(connection: Connection, *segments: str) -> str:
    """`{graph_url}/{api_version}/{segments...}`, each segment escaped as one path segment."""
    base = (connection.get("graph_url") or DEFAULT_GRAPH_URL).rstrip("/")
    version = (connection.get("api_version") or DEFAULT_API_VERSION).strip("/")
    return "/".join([base, version, *(quote(segment, safe="") for segment in segments)])


def required(connection: Connection, name: str) -> str:
    """A connection field a call needs; a non-retryable PlatformError when it is not set."""
    value = connection.get(name)
    if not isinstance(value, str) or not value:
        raise PlatformError("not_configured", f"the connection has no {name}", retryable=False)
    return value


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of every Graph call."""
    return {"Authorization": f"Bearer {token}"}


def error_from_response(response: httpx.Response, body: bytes | None = None) -> PlatformError:
    """A PlatformError for a Graph answer that is not 2xx: Graph's code and title when given."""
    status = response.status_code
    code = f"http_{status}"
    title = response.reason_phrase or f"HTTP {status}"
    try:
        error = json.loads(response.content if body is None else body).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        if isinstance(error.get("code"), int | str) and not isinstance(error["code"], bool):
            code = str(error["code"])
        if isinstance(error.get("message"), str) and error["message"]:
            title = _CODE_PREFIX.sub("", error["message"]) or error["message"]
    if 300 <= status < 400:
        # Redirects are never followed: a Graph URL that moves is a misconfiguration.
        return PlatformError(code, f"redirected ({title})", retryable=False)
    retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
    return PlatformError(code, title, retryable=retryable)


def error_from_exception(exc: httpx.HTTPError) -> PlatformError:
    """A PlatformError for a call that got no answer (retryable) or could not be made."""
    if isinstance(exc, httpx.TimeoutException):
        return PlatformError("timeout", str(exc) or type(exc).__name__, retryable=True)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return PlatformError("bad_url", str(exc) or type(exc).__name__, retryable=False)
    if isinstance(exc, httpx.TransportError):
        return PlatformError("connection_error", str(exc) or type(exc).__name__, retryable=True)
    return PlatformError("http_error", str(exc) or type(exc).__name__, retryable=False)


def _json_answer(response: httpx.Response) -> dict[str, Any]:
    if not 200 <= response.status_code < 300:
        raise error_from_response(response)
    try:
        answer = response.json()
    except ValueError as exc:
        raise PlatformError("bad_response", "the answer is not JSON", retryable=False) from exc
    if not isinstance(answer, dict):
        raise PlatformError("bad_response", "the answer is not a JSON object", retryable=False)
    return answer


async def graph_get(
    http: httpx.AsyncClient, url: str, token: str, fields: str | None = None
) -> dict[str, Any]:
    """GET a Graph object (Bearer), its JSON; PlatformError otherwise."""
    params = {"fields": fields} if fields else None
    try:
        response = await http.get(url, params=params, headers=bearer(token), follow_redirects=False)
    except httpx.HTTPError as exc:
        raise error_from_exception(exc) from exc
    return _json_answer(response)


async def graph_post(
    http: httpx.AsyncClient,
    url: str,
    token: str,
    *,
    json_body: dict[str, Any] | None = None,
    data: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> dict[str, Any]:
    """POST to Graph (Bearer) a JSON body or a multipart form, its JSON; PlatformError otherwise."""
    try:
        response = await http.post(
            url,
            json=json_body,
            data=data,
            files=files,
            headers=bearer(token),
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        raise error_from_exception(exc) from exc
    return _json_answer(response)


def compact(value: Any) -> str:
    """JSON as Graph's form fields carry it (no spaces)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def too_large(max_bytes: int) -> PlatformError:
    """A file over the size limit: trying again would not help."""
    return PlatformError("too_large", f"the file is larger than {max_bytes} bytes", retryable=False)


def _main_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


async def download(
    http: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str],
    max_bytes: int,
    announced: str,
    filename: str,
) -> Media:
    """Stream a file, stopping (PlatformError "too_large") as soon as it is over `max_bytes`."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise PlatformError("bad_url", "the file's URL is not http(s)", retryable=False)
    try:
        async with http.stream("GET", url, headers=headers, follow_redirects=False) as response:
            if not 200 <= response.status_code < 300:
                body = await _read_capped(response, _ERROR_BODY_BYTES)
                raise error_from_response(response, body)
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise too_large(max_bytes)
            data = await _read_capped(response, max_bytes, fail=True)
            content_type = _main_type(response.headers.get("content-type")) or announced
    except httpx.InvalidURL as exc:
        raise PlatformError("bad_url", str(exc), retryable=False) from exc
    except httpx.HTTPError as exc:
        raise error_from_exception(exc) from exc
    return Media(data=data, content_type=content_type, filename=filename)


async def _read_capped(response: httpx.Response, limit: int, *, fail: bool = False) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            if fail:
                raise too_large(limit)
            chunks.append(chunk[: limit - (size - len(chunk))])
            break
        chunks.append(chunk)
    return b"".join(chunks)


# --- Webhooks ------------------------------------------------------------------------------


def hub_handshake(connection: Connection, query: Mapping[str, str]) -> Handshake:
    """hub.mode=subscribe with the channel's verify token: 200 with the challenge, else 403."""
    expected = connection.get("verify_token")
    token = query.get("hub.verify_token", "")
    challenge = query.get("hub.challenge", "")
    if (
        query.get("hub.mode") == "subscribe"
        and isinstance(expected, str)
        and expected
        and hmac.compare_digest(token.encode(), expected.encode())
        and challenge
    ):
        return Handshake(200, challenge)
    return Handshake(403, "")


def signature_valid(app_secret: object, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether X-Hub-Signature-256 is `sha256=` + hex HMAC-SHA256(app secret, raw body)."""
    given = headers.get("x-hub-signature-256")
    if not isinstance(app_secret, str) or not app_secret or not given:
        return False
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().lower().encode(), f"sha256={digest}".encode())


def load(body: bytes, object_name: str) -> list[dict[str, Any]]:
    """The `entry` list of a webhook body whose `object` is `object_name`; PayloadRejected else."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadRejected(f"the body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PayloadRejected("the body is not a JSON object")
    if document.get("object") != object_name:
        raise PayloadRejected(
            f"object is {document.get('object')!r}, not {object_name!r}",
        )
    entries = document.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PayloadRejected("entry must be a list of objects")
    return entries


def obj(container: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    """A required JSON object field."""
    value = container.get(key)
    if not isinstance(value, dict):
        raise PayloadRejected(f"{where}.{key} must be an object")
    return value


def text_field(container: Mapping[str, Any], key: str, where: str) -> str:
    """A required non-empty string field."""
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadRejected(f"{where}.{key} must be a non-empty string")
    return value


def optional_text(container: Mapping[str, Any], key: str, where: str) -> str:
    """An optional string field ("" when absent or null)."""
    value = container.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadRejected(f"{where}.{key} must be a string")
    return value


def object_list(container: Mapping[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """An optional list of JSON objects ([] when absent)."""
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PayloadRejected(f"{where}.{key} must be a list of objects")
    return value


def seconds(value: object, where: str) -> datetime:
    """A Unix time in seconds (WhatsApp sends it as a string of digits), as aware UTC."""
    if isinstance(value, str) and value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    raise PayloadRejected(f"{where} must be a Unix time in seconds")


def milliseconds(value: object, where: str) -> datetime:
    """A Unix time in milliseconds (Messenger, Instagram), as aware UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    raise PayloadRejected(f"{where} must be a Unix time in milliseconds")


def number(value: object, where: str) -> float | int:
    """A required JSON number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise PayloadRejected(f"{where} must be a number")


def location_text(latitude: float | int, longitude: float | int, label: str = "") -> str:
    """A shared place as people read it, with a map link."""
    coordinates = f"{latitude}, {longitude}"
    line = f"📍 {label} — {coordinates}" if label else f"📍 {coordinates}"
    return f"{line}\nhttps://maps.google.com/?q={latitude},{longitude}"


# --- Messenger and Instagram ----------------------------------------------------------------

# The attachment types that are files; any other type is a link (or ignored without a URL).
FILE_ATTACHMENTS: dict[str, str] = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "file": "application/octet-stream",
}
# Reactions named without their emoji (Instagram sends both; the name alone now and then).
_REACTION_EMOJI = {
    "like": "👍",
    "love": "❤️",
    "smile": "😆",
    "haha": "😆",
    "wow": "😮",
    "sad": "😢",
    "angry": "😠",
}


def attachment_type(content_type: str) -> str:
    """Messenger's and Instagram's attachment type for a file's MIME type."""
    kind = _main_type(content_type).split("/", 1)[0]
    return kind if kind in ("image", "video", "audio") else "file"


def _url_filename(url: str, fallback: str) -> str:
    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return segment or fallback


# The Graph API's public URL and the version called, unless the connection names others.
GRAPH_DEFAULTS: Mapping[str, Any] = {
    "graph_url": "https://graph.facebook.com",
    "api_version": "v21.0",
}


class MessagingConnector(Connector):
    """Messenger and Instagram: page-token Graph calls and `messaging[]` webhook events."""

    object_name: ClassVar[str]  # the webhook body's `object`
    account_field: ClassVar[str]  # the connection field naming the page / IG account
    messaging_type: ClassVar[str | None] = None  # sent with every message when set
    secret_fields = ("page_access_token", "app_secret")
    fetches_profile = True
    defaults = GRAPH_DEFAULTS
    url_field = "graph_url"
    verify_token = True

    # Webhooks

    def handshake(self, connection: Connection, query: dict[str, str]) -> Handshake:
        """Meta's hub.* verification."""
        return hub_handshake(connection, query)

    def verify(
        self, connection: Connection, url: str, headers: dict[str, str], body: bytes
    ) -> bool:
        """X-Hub-Signature-256 with the app secret."""
        return signature_valid(connection.get("app_secret"), headers, body)

    def parse(self, connection: Connection, body: bytes, content_type: str) -> Parsed:
        """Every `messaging[]` and `standby[]` event of every entry for this account."""
        parsed = Parsed()
        account = connection.get(self.account_field)
        for n, entry in enumerate(load(body, self.object_name)):
            where = f"entry[{n}]"
            entry_id = entry.get("id")
            if account and entry_id is not None and str(entry_id) != str(account):
                # Another page or account of the same Meta app: not this channel's.
                parsed.ignore("other_account")
                continue
            for change in object_list(entry, "changes", where):
                parsed.ignore(f"field:{change.get('field')}")
            for key in ("messaging", "standby"):
                for m, event in enumerate(object_list(entry, key, where)):
                    self._event(parsed, event, f"{where}.{key}[{m}]")
        return parsed

    def _event(self, parsed: Parsed, event: dict[str, Any], where: str) -> None:
        sender = text_field(obj(event, "sender", where), "id", f"{where}.sender")
        at = milliseconds(event.get("timestamp"), f"{where}.timestamp")
        if "message" in event:
            self._message(parsed, event, sender, at, where)
        elif "postback" in event:
            postback = obj(event, "postback", where)
            text = optional_text(postback, "title", f"{where}.postback") or optional_text(
                postback, "payload", f"{where}.postback"
            )
            if not text:
                parsed.ignore("postback:empty")
                return
            mid = optional_text(postback, "mid", f"{where}.postback")
            external_id = mid or f"postback-{sender}-{event['timestamp']}"
            parsed.items.append(InboundItem(external_id, sender, at, text=text))
        elif "delivery" in event:
            self._delivery(parsed, obj(event, "delivery", where), sender, at, f"{where}.delivery")
        elif "read" in event:
            self._read(parsed, obj(event, "read", where), sender, at, f"{where}.read")
        elif "reaction" in event:
            self._reaction(parsed, obj(event, "reaction", where), sender, at, f"{where}.reaction")
        else:
            kinds = sorted(set(event) - {"sender", "recipient", "timestamp"})
            parsed.ignore(f"event:{kinds[0] if kinds else 'empty'}")

    def _message(
        self, parsed: Parsed, event: dict[str, Any], sender: str, at: datetime, where: str
    ) -> None:
        message = obj(event, "message", where)
        where = f"{where}.message"
        mid = text_field(message, "mid", where)
        if message.get("is_deleted"):
            parsed.ignore("message:deleted")
            return
        if message.get("is_unsupported"):
            parsed.ignore("message:unsupported")
            return
        echo = message.get("is_echo") is True
        contact = sender
        if echo:
            # The business wrote it: the contact is the one it was written to.
            contact = text_field(obj(event, "recipient", where), "id", f"{where}.recipient")
        lines = []
        text = optional_text(message, "text", where)
        if not text and isinstance(message.get("quick_reply"), dict):
            text = optional_text(message["quick_reply"], "payload", f"{where}.quick_reply")
        if text:
            lines.append(text)
        media: list[MediaRef] = []
        for n, attachment in enumerate(object_list(message, "attachments", where), start=1):
            self._attachment(parsed, attachment, n, lines, media, f"{where}.attachments")
        if not lines and not media:
            parsed.ignore("message:empty")
            return
        parsed.items.append(
            InboundItem(mid, contact, at, text="\n".join(lines), media=media, echo=echo)
        )

    def _attachment(
        self,
        parsed: Parsed,
        attachment: dict[str, Any],
        n: int,
        lines: list[str],
        media: list[MediaRef],
        where: str,
    ) -> None:
        kind = optional_text(attachment, "type", where) or "unknown"
        payload = attachment.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        url = payload.get("url") or attachment.get("url")
        url = url if isinstance(url, str) else ""
        if kind in FILE_ATTACHMENTS:
            if not url:
                parsed.ignore(f"attachment:{kind}:no_url")
                return
            filename = _url_filename(url, f"{kind}-{n}")
            media.append(MediaRef(ref=url, content_type=FILE_ATTACHMENTS[kind], filename=filename))
            return
        coordinates = payload.get("coordinates")
        if kind == "location" and isinstance(coordinates, dict) and not url:
            lat = number(coordinates.get("lat"), f"{where}.payload.coordinates.lat")
            lon = number(coordinates.get("long"), f"{where}.payload.coordinates.long")
            title = attachment.get("title")
            lines.append(location_text(lat, lon, title if isinstance(title, str) else ""))
            return
        if not url:
            parsed.ignore(f"attachment:{kind}")
            return
        title = attachment.get("title") or payload.get("title")
        lines.append(f"{title}: {url}" if isinstance(title, str) and title else url)

    def _delivery(
        self, parsed: Parsed, delivery: dict[str, Any], sender: str, at: datetime, where: str
    ) -> None:
        mids = delivery.get("mids") or []
        if not isinstance(mids, list) or not all(isinstance(mid, str) for mid in mids):
            raise PayloadRejected(f"{where}.mids must be a list of strings")
        for mid in mids:
            parsed.items.append(StatusItem(mid, "delivered", at))
        if "watermark" in delivery:
            watermark = milliseconds(delivery["watermark"], f"{where}.watermark")
            parsed.items.append(WatermarkItem(sender, "delivered", watermark))
        elif not mids:
            parsed.ignore("delivery:empty")

    def _read(
        self, parsed: Parsed, read: dict[str, Any], sender: str, at: datetime, where: str
    ) -> None:
        # Messenger says up to when everything is read; Instagram names the message read.
        mid = optional_text(read, "mid", where)
        if mid:
            parsed.items.append(StatusItem(mid, "read", at))
        if "watermark" in read:
            watermark = milliseconds(read["watermark"], f"{where}.watermark")
            parsed.items.append(WatermarkItem(sender, "read", watermark))
        elif not mid:
            parsed.ignore("read:empty")

    def _reaction(
        self, parsed: Parsed, reaction: dict[str, Any], sender: str, at: datetime, where: str
    ) -> None:
        mid = text_field(reaction, "mid", where)
        action = optional_text(reaction, "action", where)
        if action == "unreact":
            parsed.items.append(ReactionItem(sender, mid, "", at))
            return
        if action != "react":
            parsed.ignore(f"reaction:{action or 'none'}")
            return
        emoji = optional_text(reaction, "emoji", where)
        emoji = emoji or _REACTION_EMOJI.get(optional_text(reaction, "reaction", where), "")
        if not emoji:
            parsed.ignore("reaction:unknown")
            return
        parsed.items.append(ReactionItem(sender, mid, emoji, at))

    # Graph calls

    def _token(self, connection: Connection) -> str:
        return required(connection, "page_access_token")

    def _messages_url(self, connection: Connection) -> str:
        return graph_url(connection, required(connection, self.account_field), "messages")

    async def _post_message(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        recipient: str,
        message: dict[str, Any],
    ) -> str:
        body: dict[str, Any] = {"recipient": {"id": recipient}}
        if self.messaging_type:
            body["messaging_type"] = self.messaging_type
        body["message"] = message
        answer = await graph_post(
            http, self._messages_url(connection), self._token(connection), json_body=body
        )
        return message_id(answer)

    @abstractmethod
    async def _send_file(
        self, http: httpx.AsyncClient, connection: Connection, recipient: str, file: OutboundFile
    ) -> str: ...

    async def send(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        recipient: str,
        text: str,
        files: list[OutboundFile],
        reply: ReplyContext | None = None,
    ) -> Sent:
        """One message per file, then the text; the last message's id."""
        if not text and not files:
            raise PlatformError("empty", "nothing to send", retryable=False)
        last = ""
        for file in files:
            last = await self._send_file(http, connection, recipient, file)
        if text:
            last = await self._post_message(http, connection, recipient, {"text": text})
        return Sent(last)

    async def download(
        self, http: httpx.AsyncClient, connection: Connection, media: MediaRef, max_bytes: int
    ) -> Media:
        """GET the CDN URL the webhook gave (no token: it is signed by Meta)."""
        return await download(
            http,
            media.ref,
            headers={},
            max_bytes=max_bytes,
            announced=media.content_type,
            filename=media.filename,
        )

    async def _get(
        self, http: httpx.AsyncClient, connection: Connection, node: str, fields: str
    ) -> dict[str, Any]:
        return await graph_get(
            http, graph_url(connection, node), self._token(connection), fields=fields
        )


def message_id(answer: dict[str, Any]) -> str:
    """The `message_id` of a Messenger/Instagram send answer."""
    mid = answer.get("message_id")
    if not isinstance(mid, str) or not mid:
        raise PlatformError("bad_response", "the answer has no message_id", retryable=False)
    return mid

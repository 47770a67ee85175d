"""X (Twitter) direct messages: the Account Activity webhook in, the v2 DM API out.

X checks the webhook with a CRC GET (`crc_token`, answered with an HMAC of the consumer
secret), signs every delivery with `x-twitter-webhooks-signature`, and posts
`direct_message_events` with a `users` map of everyone they name. A DM whose sender is the
subscribed account itself (`for_user_id`) was written by the business from X's own apps: an
echo. Replies go to `POST /2/dm_conversations/with/{participant_id}/messages` with the
account's OAuth 2.0 user bearer token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

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
)

DEFAULT_API_URL = "https://api.twitter.com"
# X's public API URL, unless the connection names another (the simulator in tests).
API_DEFAULTS: Mapping[str, Any] = {"api_url": DEFAULT_API_URL}
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# The Account Activity keys that carry no direct message (counted as ignored, by key).
_DM_EVENTS = "direct_message_events"
# Media types of DM attachments, and the content type announced until the download says.
_MEDIA_TYPES = {"photo": "image/jpeg", "animated_gif": "video/mp4", "video": "video/mp4"}
_EXTENSIONS = {"png": "image/png", "gif": "image/gif", "webp": "image/webp", "mp4": "video/mp4"}


def _hmac_b64(secret: str, data: bytes) -> str:
    digest = hmac.new(secret.encode(), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def crc_response(consumer_secret: str, crc_token: str) -> str:
    """X's CRC answer: `sha256=` + base64 HMAC-SHA256(consumer secret, crc_token)."""
    return _hmac_b64(consumer_secret, crc_token.encode())


def signature_valid(consumer_secret: object, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the signature header is `sha256=` + base64 HMAC-SHA256(secret, raw body)."""
    given = headers.get(SIGNATURE_HEADER)
    if not isinstance(consumer_secret, str) or not consumer_secret or not given:
        return False
    expected = _hmac_b64(consumer_secret, body)
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def api_url(connection: Connection, *segments: str) -> str:
    """`{api_url}/{segments...}`, each segment escaped as one path segment."""
    base = (connection.get("api_url") or DEFAULT_API_URL).rstrip("/")
    return "/".join([base, *(quote(segment, safe="") for segment in segments)])


def error_from_response(response: httpx.Response) -> PlatformError:
    """X's problem (`title`/`detail`) or v1.1 error (`errors[0]`) as a PlatformError."""
    status = response.status_code
    code, title = f"http_{status}", response.reason_phrase or f"HTTP {status}"
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        errors = answer.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else None
        if isinstance(first, dict) and isinstance(first.get("code"), int | str):
            code = str(first["code"])
        for source, key in ((answer, "detail"), (answer, "title"), (first, "message")):
            value = source.get(key) if isinstance(source, dict) else None
            if isinstance(value, str) and value:
                title = value
                break
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset", "")
        at = datetime.fromtimestamp(int(reset), UTC) if reset.isdigit() else None
        if at is not None:
            title = f"{title} (rate limit resets at {at.isoformat()})"
        code = "rate_limited" if code == "http_429" else code
        # The delivery job waits for the reset rather than calling again too early.
        return PlatformError(code, title, retryable=True, not_before=at)
    if 300 <= status < 400:
        return PlatformError(code, f"redirected ({title})", retryable=False)
    return PlatformError(code, title, retryable=status >= 500)


def _data(response: httpx.Response) -> dict[str, Any]:
    if not 200 <= response.status_code < 300:
        raise error_from_response(response)
    try:
        answer = response.json()
    except ValueError as exc:
        raise PlatformError("bad_response", "the answer is not JSON", retryable=False) from exc
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise PlatformError("bad_response", "the answer has no data object", retryable=False)
    return data


def _load(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadRejected(f"the body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PayloadRejected("the body is not a JSON object")
    return document


def _id(value: object, where: str) -> str:
    # X sends ids as strings; numbers would lose precision in JavaScript, so both are read.
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise PayloadRejected(f"{where} must be an id")


def _timestamp(value: object, where: str) -> datetime:
    # `created_timestamp` is a string of Unix milliseconds.
    if isinstance(value, str) and value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    raise PayloadRejected(f"{where} must be Unix milliseconds")


def user_attributes(user: Mapping[str, Any]) -> dict[str, Any]:
    """The platform attributes (short names) of one entry of the `users` map."""
    attributes: dict[str, Any] = {}
    for field, short in (
        ("screen_name", "handle"),
        ("name", "name"),
        ("description", "bio"),
        ("location", "location"),
    ):
        value = user.get(field)
        if isinstance(value, str) and value.strip():
            attributes[short] = value.strip()
    followers = user.get("followers_count")
    if isinstance(followers, int) and not isinstance(followers, bool):
        attributes["followers"] = followers
    return attributes


def _media(attachment: object, where: str) -> tuple[MediaRef | None, str]:
    # A DM carries at most one media; its t.co link is in the text and is taken out of it.
    if not isinstance(attachment, dict) or attachment.get("type") != "media":
        return None, ""
    media = meta.obj(attachment, "media", where)
    kind = meta.optional_text(media, "type", f"{where}.media")
    link = meta.optional_text(media, "url", f"{where}.media")
    url = meta.optional_text(media, "media_url_https", f"{where}.media")
    info = media.get("video_info")
    variants = info.get("variants") if isinstance(info, dict) else None
    if isinstance(variants, list):
        mp4 = [
            v
            for v in variants
            if isinstance(v, dict)
            and v.get("content_type") == "video/mp4"
            and isinstance(v.get("url"), str)
        ]
        if mp4:
            url = max(mp4, key=lambda v: v.get("bitrate") or 0)["url"]
    if not url:
        return None, link
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or f"{kind or 'media'}"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    content_type = _EXTENSIONS.get(extension) or _MEDIA_TYPES.get(kind, "application/octet-stream")
    return MediaRef(ref=url, content_type=content_type, filename=name), link


class X(Connector):
    """An X account's direct messages; X user ids are the contacts' ids (one per workspace)."""

    provider = "x"
    medium = Medium.TWITTER
    secret_fields = ("consumer_secret", "access_token")
    defaults = API_DEFAULTS
    url_field = "api_url"
    max_text_length = 10_000  # X's limit for one direct message

    def handshake(self, connection: Connection, query: dict[str, str]) -> Handshake:
        """The CRC check: the token's HMAC with the consumer secret, as JSON."""
        token = query.get("crc_token", "")
        secret = connection.get("consumer_secret")
        if not token or not isinstance(secret, str) or not secret:
            return Handshake(400, "")
        answer = json.dumps({"response_token": crc_response(secret, token)})
        return Handshake(200, answer, "application/json")

    def verify(
        self, connection: Connection, url: str, headers: dict[str, str], body: bytes
    ) -> bool:
        """x-twitter-webhooks-signature with the consumer secret."""
        return signature_valid(connection.get("consumer_secret"), headers, body)

    def acknowledgement(self) -> Handshake:
        """X only needs a 200."""
        return Handshake(200, "")

    def parse(self, connection: Connection, body: bytes, content_type: str) -> Parsed:
        """The `message_create` events of `direct_message_events`, with the users map."""
        document = _load(body)
        parsed = Parsed()
        account = str(connection.get("account_user_id") or "")
        for_user = _id(document.get("for_user_id"), "for_user_id")
        if account and for_user != account:
            # Another account subscribed through the same X app: not this channel's.
            parsed.ignore("other_account")
            return parsed
        for key in sorted(set(document) - {"for_user_id", _DM_EVENTS, "users", "apps"}):
            parsed.ignore(f"event:{key}")
        users = document.get("users") or {}
        if not isinstance(users, dict):
            raise PayloadRejected("users must be an object")
        for n, event in enumerate(meta.object_list(document, _DM_EVENTS, "body")):
            self._event(parsed, event, for_user, users, f"{_DM_EVENTS}[{n}]")
        return parsed

    def _event(
        self,
        parsed: Parsed,
        event: dict[str, Any],
        for_user: str,
        users: dict[str, Any],
        where: str,
    ) -> None:
        kind = meta.optional_text(event, "type", where)
        if kind != "message_create":
            parsed.ignore(f"dm:{kind or 'none'}")
            return
        event_id = _id(event.get("id"), f"{where}.id")
        at = _timestamp(event.get("created_timestamp"), f"{where}.created_timestamp")
        create = meta.obj(event, "message_create", where)
        where = f"{where}.message_create"
        sender = _id(create.get("sender_id"), f"{where}.sender_id")
        target = meta.obj(create, "target", where)
        recipient = _id(target.get("recipient_id"), f"{where}.target.recipient_id")
        data = create.get("message_data") or {}
        if not isinstance(data, dict):
            raise PayloadRejected(f"{where}.message_data must be an object")
        text = meta.optional_text(data, "text", f"{where}.message_data")
        ref, link = _media(data.get("attachment"), f"{where}.message_data.attachment")
        if link and ref is not None:
            text = text.replace(link, "").strip()
        if not text and ref is None:
            parsed.ignore("dm:empty")
            return
        echo = sender == for_user
        contact = recipient if echo else sender
        user = users.get(contact)
        attributes = user_attributes(user) if isinstance(user, dict) and not echo else {}
        parsed.items.append(
            InboundItem(
                event_id,
                contact,
                at,
                text=text,
                attributes=attributes,
                media=[ref] if ref is not None else [],
                echo=echo,
            )
        )

    async def send(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        recipient: str,
        text: str,
        files: list[OutboundFile],
        reply: ReplyContext | None = None,
    ) -> Sent:
        """One DM with the text; files go as links (X takes only its own uploaded media)."""
        links = [file.url for file in files if file.url]
        if len(links) < len(files):
            raise PlatformError("unsupported", "a file has no public link", retryable=False)
        body = "\n".join(part for part in (text, *links) if part)
        if not body:
            raise PlatformError("empty", "nothing to send", retryable=False)
        url = api_url(connection, "2", "dm_conversations", "with", recipient, "messages")
        try:
            response = await http.post(
                url,
                json={"text": body},
                headers=meta.bearer(meta.required(connection, "access_token")),
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise meta.error_from_exception(exc) from exc
        event_id = _data(response).get("dm_event_id")
        if not isinstance(event_id, str) or not event_id:
            raise PlatformError("bad_response", "the answer has no dm_event_id", retryable=False)
        return Sent(event_id)

    async def test(self, http: httpx.AsyncClient, connection: Connection) -> str:
        """The account's @username."""
        token = meta.required(connection, "access_token")
        try:
            response = await http.get(
                api_url(connection, "2", "users", "me"),
                headers=meta.bearer(token),
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise meta.error_from_exception(exc) from exc
        user = _data(response)
        username = user.get("username")
        if isinstance(username, str) and username:
            return f"@{username}"
        return str(user.get("id") or connection.get("account_user_id") or "")

    async def download(
        self, http: httpx.AsyncClient, connection: Connection, media: MediaRef, max_bytes: int
    ) -> Media:
        """GET the media URL with the account's bearer token (DM media are not public)."""
        return await meta.download(
            http,
            media.ref,
            headers=meta.bearer(meta.required(connection, "access_token")),
            max_bytes=max_bytes,
            announced=media.content_type,
            filename=media.filename,
        )


connector = X()

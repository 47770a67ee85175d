"""The X connector: CRC, signatures, Account Activity DM parsing and the v2 DM calls
(against httpx's mock transport)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from rolodex.catalogue import Medium, attributes_of
from rolodex.channels.connectors import connector_for
from rolodex.channels.connectors.base import (
    InboundItem,
    MediaRef,
    OutboundFile,
    PayloadRejected,
    PlatformError,
)
from rolodex.channels.connectors.x import connector as x
from rolodex.channels.schemas import ChannelCreate

ME = "4337869213"
USER = "3001969357"
SECRET = "consumer-secret-1"
CONNECTION = {
    "account_user_id": ME,
    "consumer_secret": SECRET,
    "access_token": "user-token",
    "api_url": "https://x.test",
}
USERS = {
    USER: {
        "id": USER,
        "name": "Jordan Brinks",
        "screen_name": "furiouscamper",
        "location": "Boulder, CO",
        "description": "Alter Ego - opinions are my own",
        "followers_count": 22,
        "protected": False,
    },
    ME: {"id": ME, "name": "Acme", "screen_name": "acme", "followers_count": 100},
}


def _dm(
    sender: str, recipient: str, text: str, event_id: str = "954491830116155396", **data: Any
) -> dict[str, Any]:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": "1516403560557",
        "message_create": {
            "target": {"recipient_id": recipient},
            "sender_id": sender,
            "source_app_id": "268278",
            "message_data": {"text": text, "entities": {}, **data},
        },
    }


def _body(*events: dict[str, Any], for_user: str = ME, **extra: Any) -> bytes:
    doc = {"for_user_id": for_user, "direct_message_events": list(events), "users": USERS}
    return json.dumps(doc | extra).encode()


def _independent(secret: str, data: bytes) -> str:
    digest = hmac.new(secret.encode(), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def test_registered_for_twitter() -> None:
    """provider x connects twitter channels; its secrets are write-only."""
    assert connector_for("x") is x
    assert x.medium is Medium.TWITTER
    assert set(x.secret_fields) == {"consumer_secret", "access_token"}
    data = ChannelCreate.model_validate(
        {
            "medium": "twitter",
            "name": "X",
            "connection": {"provider": "x", **CONNECTION},
        }
    )
    assert data.connection is not None
    assert data.connection.provider == "x"


def test_crc_answer_equals_independent_hmac() -> None:
    """The CRC answer is JSON with base64 HMAC-SHA256(consumer secret, crc_token)."""
    answer = x.handshake(CONNECTION, {"crc_token": "challenge-123"})
    assert answer.status == 200
    assert answer.media_type == "application/json"
    expected = _independent(SECRET, b"challenge-123")
    assert json.loads(answer.body) == {"response_token": expected}


def test_crc_without_token_or_secret_is_refused() -> None:
    """No crc_token, or no secret: 400."""
    assert x.handshake(CONNECTION, {}).status == 400
    assert x.handshake({**CONNECTION, "consumer_secret": ""}, {"crc_token": "a"}).status == 400


def test_signature_accepted_and_rejected() -> None:
    """Only the consumer secret's HMAC of the exact body verifies."""
    body = _body(_dm(USER, ME, "hi"))
    good = {"x-twitter-webhooks-signature": _independent(SECRET, body)}
    assert x.verify(CONNECTION, "", good, body)
    assert not x.verify(CONNECTION, "", good, body + b" ")
    assert not x.verify(CONNECTION, "", {}, body)
    wrong = {"x-twitter-webhooks-signature": _independent("other", body)}
    assert not x.verify(CONNECTION, "", wrong, body)
    hexed = {"x-twitter-webhooks-signature": "sha256=" + hashlib.sha256(body).hexdigest()}
    assert not x.verify(CONNECTION, "", hexed, body)


def test_parse_dm_with_users_map() -> None:
    """A DM from a user: text, time, and every twitter attribute the catalogue names."""
    parsed = x.parse(CONNECTION, _body(_dm(USER, ME, "Hello World!")), "application/json")
    [item] = parsed.items
    assert isinstance(item, InboundItem)
    assert (item.external_id, item.contact_id, item.text) == (
        "954491830116155396",
        USER,
        "Hello World!",
    )
    assert item.sent_at == datetime.fromtimestamp(1516403560.557, UTC)
    assert not item.echo
    assert item.attributes == {
        "handle": "furiouscamper",
        "name": "Jordan Brinks",
        "bio": "Alter Ego - opinions are my own",
        "location": "Boulder, CO",
        "followers": 22,
    }
    assert set(item.attributes) <= set(attributes_of(Medium.TWITTER))


def test_parse_echo() -> None:
    """sender_id == for_user_id: the business wrote it; the contact is the recipient."""
    parsed = x.parse(CONNECTION, _body(_dm(ME, USER, "We're on it")), "application/json")
    [item] = parsed.items
    assert isinstance(item, InboundItem)
    assert item.echo
    assert item.contact_id == USER
    assert item.attributes == {}


def test_parse_media() -> None:
    """A photo becomes a MediaRef; its t.co link leaves the text."""
    media = {
        "type": "media",
        "media": {
            "id_str": "9581",
            "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/1/2/abc.png",
            "url": "https://t.co/xyz",
            "type": "photo",
        },
    }
    event = _dm(USER, ME, "look https://t.co/xyz", attachment=media)
    [item] = x.parse(CONNECTION, _body(event), "application/json").items
    assert isinstance(item, InboundItem)
    assert item.text == "look"
    assert item.media == [
        MediaRef("https://ton.twitter.com/1.1/ton/data/dm/1/2/abc.png", "image/png", "abc.png")
    ]


def test_parse_video_takes_best_mp4() -> None:
    """A video's highest-bitrate mp4 variant is fetched."""
    media = {
        "type": "media",
        "media": {
            "type": "video",
            "media_url_https": "https://pbs.twimg.com/thumb.jpg",
            "url": "https://t.co/v",
            "video_info": {
                "variants": [
                    {"content_type": "video/mp4", "bitrate": 256, "url": "https://v.test/low.mp4"},
                    {"content_type": "video/mp4", "bitrate": 832, "url": "https://v.test/hi.mp4"},
                    {"content_type": "application/x-mpegURL", "url": "https://v.test/p.m3u8"},
                ]
            },
        },
    }
    [item] = x.parse(CONNECTION, _body(_dm(USER, ME, "https://t.co/v", attachment=media)), "").items
    assert isinstance(item, InboundItem)
    assert item.text == ""
    assert item.media == [MediaRef("https://v.test/hi.mp4", "video/mp4", "hi.mp4")]


def test_parse_ignores_other_events_and_accounts() -> None:
    """Typing, reads, tweets and other accounts' deliveries are counted, not items."""
    body = _body(
        {"type": "something_else", "id": "1"},
        direct_message_indicate_typing_events=[{}],
        tweet_create_events=[{}],
    )
    parsed = x.parse(CONNECTION, body, "")
    assert parsed.items == []
    assert parsed.ignored == {
        "event:direct_message_indicate_typing_events": 1,
        "event:tweet_create_events": 1,
        "dm:something_else": 1,
    }
    other = x.parse(CONNECTION, _body(_dm(USER, "9", "hi"), for_user="9"), "")
    assert other.items == []
    assert other.ignored == {"other_account": 1}


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"direct_message_events": []}', _body({"type": "message_create"})],
)
def test_parse_rejects_malformed(body: bytes) -> None:
    """What is not X's format is rejected (kept as a failed event)."""
    with pytest.raises(PayloadRejected):
        x.parse(CONNECTION, body, "")


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_send_posts_v2_dm_with_bearer() -> None:
    """POST /2/dm_conversations/with/{id}/messages {text}, Bearer; dm_event_id kept."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        data = {"dm_conversation_id": f"{ME}-{USER}", "dm_event_id": "1582838223"}
        return httpx.Response(201, json={"data": data})

    async with _client(handler) as http:
        sent = await x.send(http, CONNECTION, USER, "Thanks!", [])
    assert sent.provider_message_id == "1582838223"
    [request] = seen
    assert str(request.url) == f"https://x.test/2/dm_conversations/with/{USER}/messages"
    assert request.headers["authorization"] == "Bearer user-token"
    assert json.loads(request.content) == {"text": "Thanks!"}


async def test_send_files_as_links() -> None:
    """Reply files go as their signed links in the text."""
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(201, json={"data": {"dm_event_id": "7"}})

    file = OutboundFile("a.png", "image/png", b"x", "https://rolodex.test/f/1")
    async with _client(handler) as http:
        await x.send(http, CONNECTION, USER, "See", [file])
    assert seen == [{"text": "See\nhttps://rolodex.test/f/1"}]


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "retryable", "title_part"),
    [
        (
            429,
            {"title": "Too Many Requests"},
            {"x-rate-limit-reset": "1700000000"},
            "rate_limited",
            True,
            "2023-11-14",
        ),
        (503, {"title": "Service Unavailable"}, {}, "http_503", True, "Service Unavailable"),
        (
            403,
            {"title": "Forbidden", "detail": "You cannot send messages to this user."},
            {},
            "http_403",
            False,
            "cannot send",
        ),
        (
            400,
            {"errors": [{"code": 349, "message": "You cannot send messages to this user."}]},
            {},
            "349",
            False,
            "cannot send",
        ),
    ],
)
async def test_send_errors(
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    code: str,
    retryable: bool,
    title_part: str,
) -> None:
    """429 and 5xx are retried; other 4xx fail with X's code and title."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    async with _client(handler) as http:
        with pytest.raises(PlatformError) as caught:
            await x.send(http, CONNECTION, USER, "hi", [])
    assert caught.value.code == code
    assert caught.value.retryable is retryable
    assert title_part in caught.value.title
    reset = headers.get("x-rate-limit-reset")
    expected = datetime.fromtimestamp(int(reset), UTC) if reset else None
    assert caught.value.not_before == expected  # the delivery job waits until then


async def test_test_names_the_account() -> None:
    """GET /2/users/me with the bearer token: @username."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/2/users/me"
        assert request.headers["authorization"] == "Bearer user-token"
        return httpx.Response(200, json={"data": {"id": ME, "name": "Acme", "username": "acme"}})

    async with _client(handler) as http:
        assert await x.test(http, CONNECTION) == "@acme"


async def test_download_with_bearer() -> None:
    """DM media are fetched with the account's bearer token."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer user-token"
        return httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"})

    ref = MediaRef("https://ton.twitter.com/dm/abc.png", "image/png", "abc.png")
    async with _client(handler) as http:
        media = await x.download(http, CONNECTION, ref, 1000)
    assert (media.data, media.content_type, media.filename) == (b"\x89PNG", "image/png", "abc.png")

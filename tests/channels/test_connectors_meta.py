"""Meta connectors (WhatsApp Cloud, Messenger, Instagram): webhook parsing over recorded-style
payloads, the hub handshake and signature, and the Graph calls against a local fake Graph."""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from rolodex.catalogue import Medium
from rolodex.channels.connectors import CONNECTORS, connector_for, meta
from rolodex.channels.connectors.base import (
    Connector,
    Handshake,
    InboundItem,
    MediaRef,
    OutboundFile,
    PayloadRejected,
    PlatformError,
    ReactionItem,
    StatusItem,
    WatermarkItem,
)
from rolodex.channels.connectors.instagram import connector as instagram
from rolodex.channels.connectors.messenger import connector as messenger
from rolodex.channels.connectors.whatsapp_cloud import connector as whatsapp

FIXTURES = Path(__file__).parent.parent / "fixtures" / "meta"
PNID = "106540352242922"
PAGE = "107843052148295"
PSID = "6871234567890123"
IG = "17841405822304914"
IGSID = "1254459154682919"
SECRET = "app-secret-1"
WA = {
    "phone_number_id": PNID,
    "access_token": "wa-token",
    "app_secret": SECRET,
    "verify_token": "verify-me",
}
FB = {
    "page_id": PAGE,
    "page_access_token": "page-token",
    "app_secret": SECRET,
    "verify_token": "verify-me",
}
IGC = {
    "account_id": IG,
    "page_access_token": "ig-token",
    "app_secret": SECRET,
    "verify_token": "verify-me",
}
T0 = datetime(2024, 12, 3, 12, 46, 40, tzinfo=UTC)  # 1733230000


def at(seconds: float) -> datetime:
    """An aware UTC datetime from a Unix time in seconds."""
    return datetime.fromtimestamp(seconds, UTC)


def fixture(name: str) -> bytes:
    """A recorded-style webhook body."""
    return (FIXTURES / f"{name}.json").read_bytes()


def wa_parse(name: str) -> tuple[list[Any], dict[str, int]]:
    """WhatsApp items and ignored counts of a fixture."""
    parsed = whatsapp.parse(WA, fixture(name), "application/json")
    return parsed.items, parsed.ignored


def fb_parse(name: str) -> tuple[list[Any], dict[str, int]]:
    """Messenger items and ignored counts of a fixture."""
    parsed = messenger.parse(FB, fixture(name), "application/json")
    return parsed.items, parsed.ignored


def ig_parse(name: str) -> tuple[list[Any], dict[str, int]]:
    """Instagram items and ignored counts of a fixture."""
    parsed = instagram.parse(IGC, fixture(name), "application/json")
    return parsed.items, parsed.ignored


# --- registry ------------------------------------------------------------------------------


def test_registry_names_the_three_providers() -> None:
    assert connector_for("whatsapp_cloud") is whatsapp
    assert connector_for("messenger") is messenger
    assert connector_for("instagram") is instagram
    assert {"whatsapp_cloud", "messenger", "instagram"} <= set(CONNECTORS)
    with pytest.raises(KeyError):
        connector_for("carrier-pigeon")


def test_connector_attributes() -> None:
    assert (whatsapp.provider, whatsapp.medium) == ("whatsapp_cloud", Medium.WHATSAPP)
    assert (messenger.provider, messenger.medium) == ("messenger", Medium.FACEBOOK)
    assert (instagram.provider, instagram.medium) == ("instagram", Medium.INSTAGRAM)
    assert whatsapp.secret_fields == ("access_token", "app_secret")
    assert messenger.secret_fields == ("page_access_token", "app_secret")
    assert instagram.secret_fields == ("page_access_token", "app_secret")
    assert not whatsapp.fetches_profile
    assert messenger.fetches_profile
    assert instagram.fetches_profile


def test_graph_url_defaults_and_overrides() -> None:
    assert meta.graph_url({}, PNID, "messages") == (
        f"https://graph.facebook.com/v21.0/{PNID}/messages"
    )
    assert meta.graph_url({"graph_url": None, "api_version": None}, "1") == (
        "https://graph.facebook.com/v21.0/1"
    )
    connection = {"graph_url": "http://127.0.0.1:9/graph/", "api_version": "v19.0"}
    assert meta.graph_url(connection, "a/b") == "http://127.0.0.1:9/graph/v19.0/a%2Fb"


# --- handshake, signature, acknowledgement -------------------------------------------------

ALL: list[tuple[Connector, dict[str, str]]] = [(whatsapp, WA), (messenger, FB), (instagram, IGC)]


@pytest.mark.parametrize(("connector", "connection"), ALL)
def test_handshake(connector: Connector, connection: dict[str, str]) -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    assert connector.handshake(connection, good) == Handshake(200, "1158201444")
    assert connector.handshake(connection, good).media_type == "text/plain"
    for wrong in (
        {**good, "hub.verify_token": "guess"},
        {**good, "hub.mode": "unsubscribe"},
        {"hub.challenge": "1"},
        {},
    ):
        assert connector.handshake(connection, wrong) == Handshake(403, "")
    unset = {**connection, "verify_token": ""}
    assert connector.handshake(unset, {**good, "hub.verify_token": ""}) == Handshake(403, "")


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"x-hub-signature-256": f"sha256={digest}", "content-type": "application/json"}


@pytest.mark.parametrize(("connector", "connection"), ALL)
def test_signature(connector: Connector, connection: dict[str, str]) -> None:
    body = b'{"object":"page","entry":[]}'
    url = "https://rolodex.example/webhooks/ch_1"
    assert connector.verify(connection, url, _signed(body), body)
    assert not connector.verify(connection, url, _signed(body + b" "), body)
    assert not connector.verify(connection, url, _signed(body, "other-secret"), body)
    assert not connector.verify(connection, url, {}, body)
    digest = _signed(body)["x-hub-signature-256"].removeprefix("sha256=")
    assert not connector.verify(connection, url, {"x-hub-signature-256": digest}, body)
    assert not connector.verify(connection, url, {"x-hub-signature-256": "sha1=" + digest}, body)
    assert not connector.verify({**connection, "app_secret": None}, url, _signed(body), body)


@pytest.mark.parametrize(("connector", "connection"), ALL)
def test_acknowledgement(connector: Connector, connection: dict[str, str]) -> None:
    assert connector.acknowledgement() == Handshake(200, "EVENT_RECEIVED")


# --- WhatsApp parsing ----------------------------------------------------------------------

KERRY = {"phone": "+34600111222", "profile-name": "Kerry Fisher"}


def test_wa_text() -> None:
    items, ignored = wa_parse("wa_text")
    assert ignored == {}
    assert items == [
        InboundItem(
            external_id="wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUQ5",
            contact_id="34600111222",
            sent_at=T0,
            text="Hi, is my order on its way?",
            attributes=KERRY,
        )
    ]
    assert items[0].sent_at.tzinfo is not None


def test_wa_text_with_context_is_a_plain_message() -> None:
    items, _ = wa_parse("wa_text_reply")
    assert [(i.external_id, i.text) for i in items] == [
        ("wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUQ6", "Yes, that one")
    ]


@pytest.mark.parametrize(
    ("name", "text", "media"),
    [
        (
            "wa_image",
            "The broken part",
            MediaRef("1479537139650973", "image/jpeg", "image-1479537139650973.jpg"),
        ),
        ("wa_video", "", MediaRef("1248437119525413", "video/mp4", "video-1248437119525413.mp4")),
        (
            "wa_audio",
            "",
            MediaRef("806425224708164", "audio/ogg; codecs=opus", "audio-806425224708164.ogg"),
        ),
        (
            "wa_sticker",
            "",
            MediaRef("1084306046232420", "image/webp", "sticker-1084306046232420.webp"),
        ),
        (
            "wa_document",
            "Invoice attached",
            MediaRef("3614128278848163", "application/pdf", "invoice-2024-118.pdf"),
        ),
        (
            "wa_document_unnamed",
            "",
            MediaRef("3614128278848164", "application/pdf", "document-3614128278848164.pdf"),
        ),
    ],
)
def test_wa_media(name: str, text: str, media: MediaRef) -> None:
    items, ignored = wa_parse(name)
    assert ignored == {}
    [item] = items
    assert isinstance(item, InboundItem)
    assert (item.text, item.media, item.attributes) == (text, [media], KERRY)


def test_wa_location() -> None:
    [item], _ = wa_parse("wa_location")
    assert item.text == (
        "📍 Plaza Mayor, Madrid — 40.4155, -3.7074\nhttps://maps.google.com/?q=40.4155,-3.7074"
    )
    [bare], _ = wa_parse("wa_location_bare")
    assert bare.text == "📍 40.4155, -3.7074\nhttps://maps.google.com/?q=40.4155,-3.7074"


def test_wa_contacts() -> None:
    [item], _ = wa_parse("wa_contacts")
    assert item.text == (
        "👤 Ana Ruiz: +34 600 333 444, +34 91 555 0101, ana@example.com\n👤 Luis Gil: +34600555666"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("wa_interactive_button_reply", "Yes, please"),
        ("wa_interactive_list_reply", "Medium"),
        ("wa_button", "Track my order"),
    ],
)
def test_wa_replies_become_their_titles(name: str, text: str) -> None:
    [item], ignored = wa_parse(name)
    assert isinstance(item, InboundItem)
    assert (item.text, item.attributes, ignored) == (text, KERRY, {})


def test_wa_reactions() -> None:
    assert wa_parse("wa_reaction") == (
        [ReactionItem("34600111222", "wamid.OUT1", "👍", T0)],
        {},
    )
    assert wa_parse("wa_reaction_removed") == (
        [ReactionItem("34600111222", "wamid.OUT1", "", T0)],
        {},
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("wa_unsupported", "message_type:unsupported"),
        ("wa_system", "message_type:system"),
        ("wa_order", "message_type:order"),
        ("wa_interactive_nfm_reply", "message_type:interactive"),
        ("wa_other_phone_number", "other_phone_number"),
        ("wa_account_update", "field:account_update"),
        ("wa_template_status", "field:message_template_status_update"),
        ("wa_status_other", "status:deleted"),
    ],
)
def test_wa_ignored_and_counted(name: str, reason: str) -> None:
    assert wa_parse(name) == ([], {reason: 1})


def test_wa_profile_name_only_when_the_contact_is_named() -> None:
    [item], _ = wa_parse("wa_no_profile")
    assert item.attributes == {"phone": "+34600111222"}


def test_wa_two_numbers_in_one_delivery() -> None:
    items, ignored = wa_parse("wa_two_numbers")
    assert ignored == {"other_phone_number": 1}
    assert [(i.external_id, i.contact_id, i.text, i.attributes, i.sent_at) for i in items] == [
        ("wamid.TWO1", "34600111222", "First", KERRY, T0),
        (
            "wamid.TWO2",
            "34600333444",
            "Second",
            {"phone": "+34600333444", "profile-name": "Ana Ruiz"},
            at(1733230010),
        ),
    ]


def test_wa_statuses() -> None:
    assert wa_parse("wa_statuses") == (
        [
            StatusItem("wamid.OUT1", "sent", at(1733230001)),
            StatusItem("wamid.OUT1", "delivered", at(1733230002)),
            StatusItem("wamid.OUT1", "read", at(1733230003)),
        ],
        {},
    )


def test_wa_failed_status_keeps_the_error() -> None:
    assert wa_parse("wa_status_failed") == (
        [
            StatusItem("wamid.OUT2", "failed", at(1733230004), "131047", "Re-engagement message"),
            StatusItem("wamid.OUT3", "failed", at(1733230005), "131026", "Message undeliverable"),
        ],
        {},
    )


def _wa_body(message: dict[str, Any] | None = None, **value: Any) -> bytes:
    base: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": PNID},
    }
    if message is not None:
        base["messages"] = [message]
    base.update(value)
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": base}]}],
    }
    return json.dumps(body).encode()


GOOD_WA = {"from": "34600111222", "id": "wamid.X", "timestamp": "1733230000", "type": "text"}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"object":"page","entry":[]}',
        b'{"entry":[]}',
        b'{"object":"whatsapp_business_account","entry":{}}',
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":{}}]}',
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages"}]}]}',
        _wa_body(metadata={}),
        _wa_body({**GOOD_WA, "text": {"body": "Hi"}}, metadata=None),
        _wa_body({k: v for k, v in GOOD_WA.items() if k != "id"} | {"text": {"body": "x"}}),
        _wa_body({k: v for k, v in GOOD_WA.items() if k != "from"} | {"text": {"body": "x"}}),
        _wa_body({k: v for k, v in GOOD_WA.items() if k != "timestamp"} | {"text": {"body": "x"}}),
        _wa_body({k: v for k, v in GOOD_WA.items() if k != "type"} | {"text": {"body": "x"}}),
        _wa_body({**GOOD_WA, "timestamp": "yesterday", "text": {"body": "x"}}),
        _wa_body({**GOOD_WA, "id": 12, "text": {"body": "x"}}),
        _wa_body(GOOD_WA),
        _wa_body({**GOOD_WA, "text": {"body": 3}}),
        _wa_body({**GOOD_WA, "type": "image", "image": {"mime_type": "image/jpeg"}}),
        _wa_body({**GOOD_WA, "type": "location", "location": {"latitude": "40", "longitude": 1}}),
        _wa_body({**GOOD_WA, "type": "contacts", "contacts": []}),
        _wa_body({**GOOD_WA, "type": "reaction", "reaction": {"emoji": "👍"}}),
        _wa_body({**GOOD_WA, "type": "interactive", "interactive": {"type": "button_reply"}}),
        _wa_body(messages={"id": "x"}),
        _wa_body(statuses=[{"status": "sent", "timestamp": "1"}]),
        _wa_body(statuses=[{"id": "wamid.Y", "status": "sent"}]),
    ],
)
def test_wa_rejects_what_is_not_whatsapp(body: bytes) -> None:
    with pytest.raises(PayloadRejected):
        whatsapp.parse(WA, body, "application/json")


def test_wa_rejection_says_why() -> None:
    with pytest.raises(PayloadRejected, match=r"messages\[0\]\.id"):
        whatsapp.parse(WA, _wa_body({**GOOD_WA, "id": None}), "application/json")
    with pytest.raises(PayloadRejected, match="not 'whatsapp_business_account'"):
        whatsapp.parse(WA, fixture("messenger_text"), "application/json")


def test_wa_media_without_a_mime_type() -> None:
    body = _wa_body({**GOOD_WA, "type": "image", "image": {"id": "55"}})
    [item] = whatsapp.parse(WA, body, "application/json").items
    assert isinstance(item, InboundItem)
    assert item.media == [MediaRef("55", "application/octet-stream", "image-55.bin")]


def test_wa_integer_timestamp_is_accepted() -> None:
    body = _wa_body({**GOOD_WA, "timestamp": 1733230000, "text": {"body": "Hi"}})
    [item] = whatsapp.parse(WA, body, "application/json").items
    assert isinstance(item, InboundItem)
    assert item.sent_at == T0


# --- Messenger parsing ---------------------------------------------------------------------


def test_fb_text() -> None:
    assert fb_parse("messenger_text") == (
        [InboundItem("m_AbC1", PSID, T0, text="Hi from Messenger")],
        {},
    )


def test_fb_quick_reply_is_its_text() -> None:
    [item], _ = fb_parse("messenger_quick_reply")
    assert item.text == "Red"
    body = json.loads(fixture("messenger_quick_reply"))
    del body["entry"][0]["messaging"][0]["message"]["text"]
    [item] = messenger.parse(FB, json.dumps(body).encode(), "application/json").items
    assert isinstance(item, InboundItem)
    assert item.text == "COLOR_RED"


def test_fb_attachments() -> None:
    [item], ignored = fb_parse("messenger_attachments")
    assert ignored == {}
    assert isinstance(item, InboundItem)
    assert item.text == ""
    assert item.attributes == {}
    assert item.media == [
        MediaRef(
            "https://scontent.xx.fbcdn.net/v/t1.15752-9/469963421_photo_n.jpg?_nc_cat=1&oh=00_A",
            "image/jpeg",
            "469963421_photo_n.jpg",
        ),
        MediaRef(
            "https://video.xx.fbcdn.net/v/t42.3356-2/clip.mp4?_nc_cat=2", "video/mp4", "clip.mp4"
        ),
        MediaRef(
            "https://cdn.fbsbx.com/v/t59.3654-21/audioclip-1733.mp4?_nc_cat=3",
            "audio/mpeg",
            "audioclip-1733.mp4",
        ),
        MediaRef(
            "https://cdn.fbsbx.com/v/t59.2708-21/Quote%20Q-17.pdf?_nc_cat=4",
            "application/octet-stream",
            "Quote Q-17.pdf",
        ),
        MediaRef("https://scontent.xx.fbcdn.net/", "image/jpeg", "image-5"),
    ]


def test_fb_links_location_and_templates() -> None:
    [item], ignored = fb_parse("messenger_links")
    assert item.text == (
        "Look\n"
        "Our spring catalogue: https://l.facebook.com/l.php?u=https%3A%2F%2Facme.example%2Fspring\n"
        "📍 Pinned Location — 40.4155, -3.7074\nhttps://maps.google.com/?q=40.4155,-3.7074"
    )
    assert item.media == []
    assert ignored == {"attachment:template": 1}


def test_fb_echo_is_outbound_to_the_recipient() -> None:
    assert fb_parse("messenger_echo") == (
        [InboundItem("m_ECHO1", PSID, T0, text="Written in Meta Business Suite", echo=True)],
        {},
    )


def test_fb_delivery() -> None:
    assert fb_parse("messenger_delivery") == (
        [
            StatusItem("m_OUT1", "delivered", at(1733230006)),
            StatusItem("m_OUT2", "delivered", at(1733230006)),
            WatermarkItem(PSID, "delivered", at(1733230005)),
        ],
        {},
    )
    assert fb_parse("messenger_delivery_watermark_only") == (
        [WatermarkItem(PSID, "delivered", at(1733230005))],
        {},
    )


def test_fb_read_is_a_watermark() -> None:
    assert fb_parse("messenger_read") == ([WatermarkItem(PSID, "read", at(1733230007))], {})


def test_fb_reactions() -> None:
    assert fb_parse("messenger_reactions") == (
        [
            ReactionItem(PSID, "m_OUT1", "😀", T0),
            ReactionItem(PSID, "m_OUT1", "", at(1733230001)),
        ],
        {},
    )


def test_fb_postbacks_are_messages() -> None:
    assert fb_parse("messenger_postbacks") == (
        [
            InboundItem("m_PB1", PSID, T0, text="Get started"),
            InboundItem(
                f"postback-{PSID}-1733230002000", PSID, at(1733230002), text="Talk to a person"
            ),
        ],
        {},
    )


def test_fb_ignored_events_are_counted() -> None:
    assert fb_parse("messenger_ignored") == (
        [],
        {"event:optin": 1, "event:referral": 1, "event:account_linking": 1},
    )


def test_fb_standby_is_handled_like_messaging() -> None:
    assert fb_parse("messenger_standby") == (
        [InboundItem("m_SB1", PSID, T0, text="While the bot has the thread")],
        {},
    )


def test_fb_other_page_is_ignored() -> None:
    assert fb_parse("messenger_other_page") == ([], {"other_account": 1})


def _page_body(*events: Any, object_: str = "page") -> bytes:
    entry = {"id": PAGE if object_ == "page" else IG, "time": 1, "messaging": list(events)}
    return json.dumps({"object": object_, "entry": [entry]}).encode()


EVENT = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1733230000000}


@pytest.mark.parametrize(
    "body",
    [
        b"<xml/>",
        b'{"object":"instagram","entry":[]}',
        b'{"object":"page","entry":"x"}',
        b'{"object":"page","entry":[{"id":"' + PAGE.encode() + b'","messaging":{}}]}',
        _page_body({**EVENT, "sender": {}, "message": {"mid": "m", "text": "x"}}),
        _page_body({**EVENT, "sender": {"id": 5}, "message": {"mid": "m", "text": "x"}}),
        _page_body({k: v for k, v in EVENT.items() if k != "sender"} | {"message": {"mid": "m"}}),
        _page_body({**EVENT, "timestamp": "yesterday", "message": {"mid": "m", "text": "x"}}),
        _page_body({**EVENT, "message": {"text": "no mid"}}),
        _page_body({**EVENT, "message": "Hi"}),
        _page_body({**EVENT, "message": {"mid": "m", "text": 5}}),
        _page_body({**EVENT, "message": {"mid": "m", "attachments": {"type": "image"}}}),
        _page_body(
            {"sender": {"id": PAGE}, "timestamp": 1, "message": {"mid": "m", "is_echo": True}}
        ),
        _page_body({**EVENT, "delivery": {"mids": "m_1"}}),
        _page_body({**EVENT, "delivery": {"mids": ["m_1"], "watermark": "late"}}),
        _page_body({**EVENT, "read": {"watermark": None}}),
        _page_body({**EVENT, "reaction": {"action": "react", "emoji": "x"}}),
        _page_body({**EVENT, "postback": {"title": 7}}),
    ],
)
def test_fb_rejects_what_is_not_messenger(body: bytes) -> None:
    with pytest.raises(PayloadRejected):
        messenger.parse(FB, body, "application/json")


def test_fb_rejection_says_why() -> None:
    body = _page_body({**EVENT, "sender": {}, "message": {"mid": "m", "text": "x"}})
    with pytest.raises(PayloadRejected, match=r"messaging\[0\]\.sender\.id"):
        messenger.parse(FB, body, "application/json")


def test_fb_empty_message_and_unknown_reaction_are_ignored() -> None:
    body = _page_body(
        {**EVENT, "message": {"mid": "m_1"}},
        {**EVENT, "reaction": {"mid": "m_1", "action": "react", "reaction": "other"}},
        {**EVENT, "delivery": {}},
        {**EVENT, "read": {}},
        {**EVENT, "postback": {}},
        {**EVENT, "message": {"mid": "m_2", "attachments": [{"type": "video", "payload": {}}]}},
    )
    parsed = messenger.parse(FB, body, "application/json")
    assert parsed.items == []
    assert parsed.ignored == {
        "message:empty": 2,
        "reaction:unknown": 1,
        "delivery:empty": 1,
        "read:empty": 1,
        "postback:empty": 1,
        "attachment:video:no_url": 1,
    }


# --- Instagram parsing ---------------------------------------------------------------------


def test_ig_text() -> None:
    assert ig_parse("instagram_text") == (
        [InboundItem("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx", IGSID, T0, text="Hi from IG")],
        {},
    )


def test_ig_media() -> None:
    [item], ignored = ig_parse("instagram_media")
    assert ignored == {}
    assert item.media == [
        MediaRef(
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17950&signature=AbC",
            "image/jpeg",
            "image-1",
        ),
        MediaRef(
            "https://lookaside.fbsbx.com/ig_messaging_cdn/clip.mp4?asset_id=17951",
            "video/mp4",
            "clip.mp4",
        ),
        MediaRef(
            "https://lookaside.fbsbx.com/ig_messaging_cdn/voice.m4a?asset_id=17952",
            "audio/mpeg",
            "voice.m4a",
        ),
    ]


def test_ig_shares_become_links() -> None:
    [item], ignored = ig_parse("instagram_shares")
    assert item.text == (
        "https://www.instagram.com/p/C0abcDEF/\n"
        "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=story1\n"
        "Spring drop: https://www.instagram.com/reel/C1xyz/"
    )
    assert item.media == []
    assert ignored == {"attachment:reel": 1}
    assert ig_parse("instagram_share_without_url") == (
        [],
        {"attachment:share": 1, "message:empty": 1},
    )


def test_ig_echo() -> None:
    assert ig_parse("instagram_echo") == (
        [InboundItem("aWdfECHO1", IGSID, T0, text="Sent from the Instagram app", echo=True)],
        {},
    )


def test_ig_read_names_the_message() -> None:
    assert ig_parse("instagram_read") == ([StatusItem("aWdfOUT1", "read", at(1733230009))], {})


def test_ig_reactions() -> None:
    assert ig_parse("instagram_reactions") == (
        [
            ReactionItem(IGSID, "aWdfOUT1", "❤️", T0),
            ReactionItem(IGSID, "aWdfOUT2", "❤️", T0),
            ReactionItem(IGSID, "aWdfOUT1", "", T0),
        ],
        {},
    )


def test_ig_postback() -> None:
    assert ig_parse("instagram_postback") == (
        [InboundItem("aWdfPB1", IGSID, T0, text="Opening hours")],
        {},
    )


def test_ig_ignored() -> None:
    assert ig_parse("instagram_ignored") == (
        [],
        {
            "message:deleted": 1,
            "message:unsupported": 1,
            "event:referral": 1,
            "event:message_edit": 1,
        },
    )
    assert ig_parse("instagram_comments") == ([], {"field:comments": 1})


def test_ig_rejects_a_page_body_and_bad_events() -> None:
    with pytest.raises(PayloadRejected, match="not 'instagram'"):
        instagram.parse(IGC, fixture("messenger_text"), "application/json")
    body = _page_body({**EVENT, "sender": None, "read": {"mid": "m"}}, object_="instagram")
    with pytest.raises(PayloadRejected):
        instagram.parse(IGC, body, "application/json")
    body = _page_body({**EVENT, "read": {"mid": 5}}, object_="instagram")
    with pytest.raises(PayloadRejected):
        instagram.parse(IGC, body, "application/json")


# --- a fake Graph --------------------------------------------------------------------------


@dataclass
class Recorded:
    """One request the fake Graph received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, Part]:
        """The multipart/form-data parts by field name, in order."""
        raw = b"Content-Type: " + self.headers["content-type"].encode() + b"\r\n\r\n" + self.body
        message = email.message_from_bytes(raw, policy=email.policy.HTTP)
        assert isinstance(message, EmailMessage)
        assert message.is_multipart()
        parts: dict[str, Part] = {}
        for part in message.iter_parts():
            assert isinstance(part, EmailMessage)
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            assert isinstance(name, str)
            assert isinstance(data, bytes)
            parts[name] = Part(part.get_filename(), part.get_content_type(), data)
        return parts


@dataclass
class Part:
    """One field of a multipart/form-data body."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Answer:
    """What the fake Graph answers to one route."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    delay: float = 0.0


def answer(status: int = 200, doc: Any = None, **kw: Any) -> Answer:
    """A JSON answer."""
    return Answer(status, json.dumps(doc if doc is not None else {}).encode(), **kw)


def graph_error(status: int, code: int, message: str, **extra: Any) -> Answer:
    """An error the way Graph words it."""
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Axyz"}
    return answer(status, {"error": {**error, **extra}})


class FakeGraph:
    """Routes by method and path; records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Answer | Callable[[Recorded], Answer]] = {}
        self.requests: list[Recorded] = []
        self.url = ""

    def route(self, method: str, path: str, reply: Answer | Callable[[Recorded], Answer]) -> None:
        """Answer `method path` (path without the query) with `reply`."""
        self.routes[(method, path)] = reply

    def handle(self, recorded: Recorded) -> Answer:
        """The answer to one request (a Graph 404 error when no route matches)."""
        self.requests.append(recorded)
        reply = self.routes.get((recorded.method, urlsplit(recorded.path).path))
        if reply is None:
            return graph_error(404, 803, "(#803) Some of the aliases you requested do not exist")
        return reply(recorded) if callable(reply) else reply


def _handler(graph: FakeGraph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorded = Recorded(
                self.command,
                self.path,
                parse_qs(urlsplit(self.path).query),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            reply = graph.handle(recorded)
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            # The client may stop reading early (a capped download).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(reply.body)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    """A fake Graph API on loopback."""
    fake = FakeGraph()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    # A short poll interval: shutdown() waits for the next poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def wa_conn(graph: FakeGraph) -> dict[str, Any]:
    """The WhatsApp connection pointed at the fake Graph."""
    return {**WA, "graph_url": graph.url, "api_version": "v21.0"}


def fb_conn(graph: FakeGraph) -> dict[str, Any]:
    """The Messenger connection pointed at the fake Graph (default API version)."""
    return {**FB, "graph_url": graph.url + "/", "api_version": None}


def ig_conn(graph: FakeGraph) -> dict[str, Any]:
    """The Instagram connection pointed at the fake Graph (default API version)."""
    return {**IGC, "graph_url": graph.url}


# --- WhatsApp Graph calls ------------------------------------------------------------------

WA_SENT = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "34600111222", "wa_id": "34600111222"}],
}


async def test_wa_send_text(graph: FakeGraph) -> None:
    graph.route(
        "POST", f"/v21.0/{PNID}/messages", answer(200, {**WA_SENT, "messages": [{"id": "wamid.Z"}]})
    )
    async with httpx.AsyncClient() as http:
        sent = await whatsapp.send(http, wa_conn(graph), "34600111222", "Hello there", [])
    assert sent.provider_message_id == "wamid.Z"
    [request] = graph.requests
    assert (request.method, request.path) == ("POST", f"/v21.0/{PNID}/messages")
    assert request.headers["authorization"] == "Bearer wa-token"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "34600111222",
        "type": "text",
        "text": {"preview_url": False, "body": "Hello there"},
    }


async def test_wa_send_files_uploads_then_sends(graph: FakeGraph) -> None:
    uploads = iter(["media-1", "media-2", "media-3", "media-4"])
    wamids = iter(["wamid.A", "wamid.B", "wamid.C", "wamid.D", "wamid.E"])
    graph.route("POST", f"/v21.0/{PNID}/media", lambda r: answer(200, {"id": next(uploads)}))
    graph.route(
        "POST",
        f"/v21.0/{PNID}/messages",
        lambda r: answer(200, {**WA_SENT, "messages": [{"id": next(wamids)}]}),
    )
    files = [
        OutboundFile("voice.ogg", "audio/ogg", b"OggS..."),
        OutboundFile("photo.png", "image/png", b"\x89PNG..."),
        OutboundFile("quote.pdf", "application/pdf", b"%PDF-1.7"),
        OutboundFile("anim.webp", "image/webp", b"RIFF"),
    ]
    async with httpx.AsyncClient() as http:
        sent = await whatsapp.send(http, wa_conn(graph), "34600111222", "Your quote", files)
    assert sent.provider_message_id == "wamid.D"
    assert [(r.method, r.path) for r in graph.requests] == [
        ("POST", f"/v21.0/{PNID}/media"),
        ("POST", f"/v21.0/{PNID}/messages"),
    ] * 4
    assert all(r.headers["authorization"] == "Bearer wa-token" for r in graph.requests)
    uploads_seen = [r.form() for r in graph.requests[0::2]]
    for form, file in zip(uploads_seen, files, strict=True):
        assert list(form) == ["messaging_product", "type", "file"]
        assert form["messaging_product"].data == b"whatsapp"
        assert form["type"].data == file.content_type.encode()
        assert form["file"].filename == file.filename
        assert form["file"].content_type == file.content_type
        assert form["file"].data == file.data
    head = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "34600111222"}
    assert [r.json() for r in graph.requests[1::2]] == [
        {**head, "type": "audio", "audio": {"id": "media-1"}},
        {**head, "type": "image", "image": {"id": "media-2", "caption": "Your quote"}},
        {**head, "type": "document", "document": {"id": "media-3", "filename": "quote.pdf"}},
        {**head, "type": "document", "document": {"id": "media-4", "filename": "anim.webp"}},
    ]


async def test_wa_send_audio_with_text_sends_the_text_after(graph: FakeGraph) -> None:
    wamids = iter(["wamid.A", "wamid.B"])
    graph.route("POST", f"/v21.0/{PNID}/media", answer(200, {"id": "media-9"}))
    graph.route(
        "POST",
        f"/v21.0/{PNID}/messages",
        lambda r: answer(200, {**WA_SENT, "messages": [{"id": next(wamids)}]}),
    )
    files = [
        OutboundFile("clip.mp4", "video/mp4", b"....ftyp"),
        OutboundFile("a.mp3", "audio/mpeg", b"ID3"),
    ]
    async with httpx.AsyncClient() as http:
        sent = await whatsapp.send(http, wa_conn(graph), "34600111222", "", files[1:])
    assert sent.provider_message_id == "wamid.A"
    async with httpx.AsyncClient() as http:
        sent = await whatsapp.send(http, wa_conn(graph), "34600111222", "See", files[:1])
    messages = [r.json() for r in graph.requests if r.path.endswith("/messages")]
    assert messages[0]["audio"] == {"id": "media-9"}
    assert messages[1]["video"] == {"id": "media-9", "caption": "See"}
    assert sent.provider_message_id == "wamid.B"


async def test_wa_send_nothing_is_refused(graph: FakeGraph) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.send(http, wa_conn(graph), "34600111222", "", [])
    assert not caught.value.retryable
    assert graph.requests == []


@pytest.mark.parametrize(
    ("reply", "code", "title", "retryable"),
    [
        (
            graph_error(
                400,
                131047,
                "(#131047) Re-engagement message",
                error_data={"messaging_product": "whatsapp", "details": "24 hours"},
                error_subcode=2494010,
            ),
            "131047",
            "Re-engagement message",
            False,
        ),
        (
            graph_error(400, 130429, "(#130429) Rate limit hit"),
            "130429",
            "Rate limit hit",
            True,
        ),
        (
            graph_error(
                400, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit"
            ),
            "131056",
            "(Business Account, Consumer Account) pair rate limit hit",
            True,
        ),
        (
            graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token"),
            "190",
            "Invalid OAuth access token - Cannot parse access token",
            False,
        ),
        (graph_error(400, 100, "(#100) Invalid parameter"), "100", "Invalid parameter", False),
        (graph_error(500, 131000, "Something went wrong"), "131000", "Something went wrong", True),
        (
            graph_error(400, 4, "(#4) Application request limit reached"),
            "4",
            "Application request limit reached",
            True,
        ),
        (
            Answer(503, b"<html>down</html>", {"Content-Type": "text/html"}),
            "http_503",
            "Service Unavailable",
            True,
        ),
        (Answer(429, b"", {}), "http_429", "Too Many Requests", True),
        (Answer(403, b"nope", {}), "http_403", "Forbidden", False),
        (
            Answer(302, b"", {"Location": "https://elsewhere.example/"}),
            "http_302",
            "redirected (Found)",
            False,
        ),
    ],
)
async def test_wa_send_errors(
    graph: FakeGraph, reply: Answer, code: str, title: str, retryable: bool
) -> None:
    graph.route("POST", f"/v21.0/{PNID}/messages", reply)
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.send(http, wa_conn(graph), "34600111222", "Hi", [])
    assert (caught.value.code, caught.value.title, caught.value.retryable) == (
        code,
        title,
        retryable,
    )
    assert len(graph.requests) == 1  # a redirect is not followed


async def test_wa_upload_error_stops_the_send(graph: FakeGraph) -> None:
    graph.route(
        "POST", f"/v21.0/{PNID}/media", graph_error(400, 131053, "(#131053) Media upload error")
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.send(
                http, wa_conn(graph), "34600111222", "x", [OutboundFile("a.png", "image/png", b"x")]
            )
    assert (caught.value.code, caught.value.retryable) == ("131053", False)
    assert len(graph.requests) == 1


async def test_unreachable_graph_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connection = {**WA, "graph_url": f"http://127.0.0.1:{port}"}
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.send(http, connection, "34600111222", "Hi", [])
    assert (caught.value.code, caught.value.retryable) == ("connection_error", True)


async def test_slow_graph_times_out_retryably(graph: FakeGraph) -> None:
    graph.route("GET", f"/v21.0/{PNID}", answer(200, {"verified_name": "Acme"}, delay=1.0))
    async with httpx.AsyncClient(timeout=0.2) as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.test(http, wa_conn(graph))
    assert (caught.value.code, caught.value.retryable) == ("timeout", True)


async def test_wa_test(graph: FakeGraph) -> None:
    graph.route(
        "GET",
        f"/v21.0/{PNID}",
        answer(200, {"display_phone_number": "+1 555-0100", "verified_name": "Acme", "id": PNID}),
    )
    async with httpx.AsyncClient() as http:
        assert await whatsapp.test(http, wa_conn(graph)) == "Acme (+1 555-0100)"
    [request] = graph.requests
    assert request.method == "GET"
    assert urlsplit(request.path).path == f"/v21.0/{PNID}"
    assert request.query == {"fields": ["display_phone_number,verified_name"]}
    assert request.headers["authorization"] == "Bearer wa-token"


async def test_wa_test_with_a_bad_token(graph: FakeGraph) -> None:
    graph.route(
        "GET",
        f"/v21.0/{PNID}",
        graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token"),
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.test(http, wa_conn(graph))
    assert (caught.value.code, caught.value.retryable) == ("190", False)
    assert caught.value.title == "Invalid OAuth access token - Cannot parse access token"


async def test_wa_download_two_steps_with_bearer(graph: FakeGraph) -> None:
    data = b"\xff\xd8\xff" + b"x" * 5000
    graph.route(
        "GET",
        "/v21.0/1479537139650973",
        lambda r: answer(
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{graph.url}/whatsapp_business/attachments/?mid=1479537139650973&ext=1",
                "mime_type": "image/jpeg",
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "id": "1479537139650973",
            },
        ),
    )
    graph.route(
        "GET",
        "/whatsapp_business/attachments/",
        Answer(200, data, {"Content-Type": "image/jpeg"}),
    )
    ref = MediaRef("1479537139650973", "image/jpeg", "image-1479537139650973.jpg")
    async with httpx.AsyncClient() as http:
        media = await whatsapp.download(http, wa_conn(graph), ref, max_bytes=10_000)
    assert (media.data, media.content_type, media.filename) == (
        data,
        "image/jpeg",
        "image-1479537139650973.jpg",
    )
    assert [(r.method, r.path) for r in graph.requests] == [
        ("GET", "/v21.0/1479537139650973"),
        ("GET", "/whatsapp_business/attachments/?mid=1479537139650973&ext=1"),
    ]
    assert [r.headers["authorization"] for r in graph.requests] == ["Bearer wa-token"] * 2


async def test_wa_download_falls_back_to_the_announced_type(graph: FakeGraph) -> None:
    graph.route(
        "GET",
        "/v21.0/m1",
        lambda r: answer(200, {"url": f"{graph.url}/cdn/m1", "mime_type": "audio/ogg"}),
    )
    graph.route("GET", "/cdn/m1", Answer(200, b"OggS", {}))
    ref = MediaRef("m1", "audio/ogg; codecs=opus", "audio-m1.ogg")
    async with httpx.AsyncClient() as http:
        media = await whatsapp.download(http, wa_conn(graph), ref, max_bytes=100)
    assert (media.data, media.content_type) == (b"OggS", "audio/ogg")


@pytest.mark.parametrize("length", [True, False])
async def test_wa_download_too_large(graph: FakeGraph, length: bool) -> None:
    graph.route("GET", "/v21.0/m2", lambda r: answer(200, {"url": f"{graph.url}/cdn/m2"}))
    graph.route(
        "GET",
        "/cdn/m2",
        Answer(200, b"z" * 300_000, {"Content-Type": "video/mp4"}, length=length),
    )
    ref = MediaRef("m2", "video/mp4", "video-m2.mp4")
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.download(http, wa_conn(graph), ref, max_bytes=1000)
    assert (caught.value.code, caught.value.retryable) == ("too_large", False)


async def test_wa_download_too_large_by_its_announced_size(graph: FakeGraph) -> None:
    graph.route(
        "GET", "/v21.0/m3", lambda r: answer(200, {"url": f"{graph.url}/cdn/m3", "file_size": 5000})
    )
    ref = MediaRef("m3", "video/mp4", "video-m3.mp4")
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.download(http, wa_conn(graph), ref, max_bytes=1000)
    assert caught.value.code == "too_large"
    assert len(graph.requests) == 1  # the file itself is never fetched


async def test_wa_download_errors(graph: FakeGraph) -> None:
    graph.route("GET", "/v21.0/gone", graph_error(400, 100, "(#100) Invalid media id"))
    graph.route("GET", "/v21.0/m4", lambda r: answer(200, {"url": f"{graph.url}/cdn/m4"}))
    graph.route("GET", "/cdn/m4", Answer(503, b"busy", {}))
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await whatsapp.download(http, wa_conn(graph), MediaRef("gone", "image/jpeg", "g"), 100)
        assert (caught.value.code, caught.value.title, caught.value.retryable) == (
            "100",
            "Invalid media id",
            False,
        )
        with pytest.raises(PlatformError) as caught:
            await whatsapp.download(http, wa_conn(graph), MediaRef("m4", "image/jpeg", "g"), 100)
        assert (caught.value.code, caught.value.retryable) == ("http_503", True)


# --- Messenger Graph calls -----------------------------------------------------------------


async def test_fb_send_text(graph: FakeGraph) -> None:
    graph.route(
        "POST", f"/v21.0/{PAGE}/messages", answer(200, {"recipient_id": PSID, "message_id": "m_Z"})
    )
    async with httpx.AsyncClient() as http:
        sent = await messenger.send(http, fb_conn(graph), PSID, "Hello", [])
    assert sent.provider_message_id == "m_Z"
    [request] = graph.requests
    assert (request.method, request.path) == ("POST", f"/v21.0/{PAGE}/messages")
    assert request.headers["authorization"] == "Bearer page-token"
    assert request.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hello"},
    }


async def test_fb_send_files_as_multipart_then_text(graph: FakeGraph) -> None:
    mids = iter(["m_1", "m_2", "m_3"])
    graph.route(
        "POST",
        f"/v21.0/{PAGE}/messages",
        lambda r: answer(200, {"recipient_id": PSID, "message_id": next(mids)}),
    )
    files = [
        OutboundFile("photo.jpg", "image/jpeg", b"\xff\xd8\xff"),
        OutboundFile("price list.pdf", "application/pdf", b"%PDF"),
    ]
    async with httpx.AsyncClient() as http:
        sent = await messenger.send(http, fb_conn(graph), PSID, "Here you are", files)
    assert sent.provider_message_id == "m_3"
    assert [r.path for r in graph.requests] == [f"/v21.0/{PAGE}/messages"] * 3
    assert all(r.headers["authorization"] == "Bearer page-token" for r in graph.requests)
    for request, file, kind in zip(graph.requests, files, ["image", "file"], strict=False):
        assert request.headers["content-type"].startswith("multipart/form-data")
        form = request.form()
        assert list(form) == ["recipient", "messaging_type", "message", "filedata"]
        assert json.loads(form["recipient"].data) == {"id": PSID}
        assert form["messaging_type"].data == b"RESPONSE"
        assert json.loads(form["message"].data) == {
            "attachment": {"type": kind, "payload": {"is_reusable": False}}
        }
        assert form["filedata"].filename == file.filename
        assert form["filedata"].content_type == file.content_type
        assert form["filedata"].data == file.data
    assert graph.requests[2].json()["message"] == {"text": "Here you are"}


async def test_fb_send_error(graph: FakeGraph) -> None:
    graph.route(
        "POST",
        f"/v21.0/{PAGE}/messages",
        graph_error(
            400, 10, "(#10) This message is sent outside of allowed window.", error_subcode=2018278
        ),
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await messenger.send(http, fb_conn(graph), PSID, "Late", [])
    assert (caught.value.code, caught.value.title, caught.value.retryable) == (
        "10",
        "This message is sent outside of allowed window.",
        False,
    )


async def test_fb_test_and_profile(graph: FakeGraph) -> None:
    graph.route("GET", f"/v21.0/{PAGE}", answer(200, {"name": "Acme", "id": PAGE}))
    graph.route(
        "GET",
        f"/v21.0/{PSID}",
        answer(
            200,
            {
                "first_name": "Peter",
                "last_name": "Chang",
                "profile_pic": "https://platform-lookaside.fbsbx.com/pic",
                "locale": "en_US",
                "id": PSID,
            },
        ),
    )
    graph.route("GET", "/v21.0/42", answer(200, {"first_name": " Solo ", "id": "42"}))
    async with httpx.AsyncClient() as http:
        assert await messenger.test(http, fb_conn(graph)) == "Acme"
        profile = await messenger.fetch_profile(http, fb_conn(graph), PSID)
        sparse = await messenger.fetch_profile(http, fb_conn(graph), "42")
    assert profile.attributes == {
        "profile-name": "Peter Chang",
        "profile-image": "https://platform-lookaside.fbsbx.com/pic",
        "locale": "en_US",
    }
    assert sparse.attributes == {"profile-name": "Solo"}
    assert [r.query for r in graph.requests] == [
        {"fields": ["name"]},
        {"fields": ["first_name,last_name,profile_pic,locale"]},
        {"fields": ["first_name,last_name,profile_pic,locale"]},
    ]
    assert all(r.headers["authorization"] == "Bearer page-token" for r in graph.requests)


async def test_fb_download_without_auth(graph: FakeGraph) -> None:
    graph.route("GET", "/v/t1/photo_n.jpg", Answer(200, b"JPEG", {"Content-Type": "image/png"}))
    ref = MediaRef(f"{graph.url}/v/t1/photo_n.jpg?_nc_cat=1", "image/jpeg", "photo_n.jpg")
    async with httpx.AsyncClient() as http:
        media = await messenger.download(http, fb_conn(graph), ref, max_bytes=100)
    assert (media.data, media.content_type, media.filename) == (b"JPEG", "image/png", "photo_n.jpg")
    [request] = graph.requests
    assert request.path == "/v/t1/photo_n.jpg?_nc_cat=1"
    assert "authorization" not in request.headers


async def test_fb_download_refusals(graph: FakeGraph) -> None:
    graph.route(
        "GET", "/big", Answer(200, b"b" * 50_000, {"Content-Type": "video/mp4"}, length=False)
    )
    graph.route("GET", "/expired", Answer(403, b"URL signature expired", {}))
    graph.route("GET", "/moved", Answer(301, b"", {"Location": f"{graph.url}/big"}))
    async with httpx.AsyncClient() as http:
        for path, code, retryable in (
            ("/big", "too_large", False),
            ("/expired", "http_403", False),
            ("/moved", "http_301", False),
        ):
            with pytest.raises(PlatformError) as caught:
                await messenger.download(
                    http, fb_conn(graph), MediaRef(graph.url + path, "video/mp4", "v"), 1000
                )
            assert (caught.value.code, caught.value.retryable) == (code, retryable)
        with pytest.raises(PlatformError) as caught:
            await messenger.download(http, FB, MediaRef("file:///etc/passwd", "x/y", "p"), 1000)
        assert (caught.value.code, caught.value.retryable) == ("bad_url", False)
    assert [r.path for r in graph.requests] == ["/big", "/expired", "/moved"]


# --- Instagram Graph calls -----------------------------------------------------------------


async def test_ig_send_text_and_files_by_url(graph: FakeGraph) -> None:
    mids = iter(["aWd_1", "aWd_2", "aWd_3"])
    graph.route(
        "POST",
        f"/v21.0/{IG}/messages",
        lambda r: answer(200, {"recipient_id": IGSID, "message_id": next(mids)}),
    )
    files = [
        OutboundFile("a.mp4", "video/mp4", b"v", url="https://rolodex.example/f/1?sig=a"),
        OutboundFile("b.txt", "text/plain", b"t", url="https://rolodex.example/f/2?sig=b"),
    ]
    async with httpx.AsyncClient() as http:
        sent = await instagram.send(http, ig_conn(graph), IGSID, "Hi!", files)
    assert sent.provider_message_id == "aWd_3"
    assert all(r.headers["authorization"] == "Bearer ig-token" for r in graph.requests)
    assert all(r.headers["content-type"] == "application/json" for r in graph.requests)
    assert [r.json() for r in graph.requests] == [
        {
            "recipient": {"id": IGSID},
            "message": {
                "attachment": {
                    "type": "video",
                    "payload": {"url": "https://rolodex.example/f/1?sig=a"},
                }
            },
        },
        {
            "recipient": {"id": IGSID},
            "message": {
                "attachment": {
                    "type": "file",
                    "payload": {"url": "https://rolodex.example/f/2?sig=b"},
                }
            },
        },
        {"recipient": {"id": IGSID}, "message": {"text": "Hi!"}},
    ]


async def test_ig_file_without_url_is_refused(graph: FakeGraph) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await instagram.send(
                http, ig_conn(graph), IGSID, "", [OutboundFile("a.png", "image/png", b"x")]
            )
    assert (caught.value.code, caught.value.retryable) == ("no_public_url", False)
    assert graph.requests == []


async def test_ig_test_and_profile(graph: FakeGraph) -> None:
    graph.route("GET", f"/v21.0/{IG}", answer(200, {"username": "acme", "name": "Acme", "id": IG}))
    graph.route(
        "GET",
        f"/v21.0/{IGSID}",
        answer(
            200,
            {
                "name": "Peter Chang",
                "username": "peter",
                "profile_pic": "https://lookaside/pic",
                "follower_count": 1234,
                "id": IGSID,
            },
        ),
    )
    graph.route("GET", "/v21.0/7", answer(200, {"username": "quiet", "id": "7"}))
    async with httpx.AsyncClient() as http:
        assert await instagram.test(http, ig_conn(graph)) == "@acme"
        profile = await instagram.fetch_profile(http, ig_conn(graph), IGSID)
        sparse = await instagram.fetch_profile(http, ig_conn(graph), "7")
    assert profile.attributes == {"username": "peter", "name": "Peter Chang", "followers": 1234}
    assert sparse.attributes == {"username": "quiet"}
    assert [r.query for r in graph.requests] == [
        {"fields": ["username,name"]},
        {"fields": ["name,username,profile_pic,follower_count"]},
        {"fields": ["name,username,profile_pic,follower_count"]},
    ]
    assert all(r.headers["authorization"] == "Bearer ig-token" for r in graph.requests)


async def test_ig_profile_error_is_mapped(graph: FakeGraph) -> None:
    graph.route(
        "GET",
        f"/v21.0/{IGSID}",
        graph_error(400, 230, "(#230) Requires pages_messaging permission"),
    )
    graph.route(
        "GET",
        "/v21.0/busy",
        graph_error(400, 613, "(#613) Calls to this api have exceeded the rate limit."),
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(PlatformError) as caught:
            await instagram.fetch_profile(http, ig_conn(graph), IGSID)
        assert (caught.value.code, caught.value.retryable) == ("230", False)
        with pytest.raises(PlatformError) as caught:
            await instagram.fetch_profile(http, ig_conn(graph), "busy")
        assert (caught.value.code, caught.value.retryable) == ("613", True)


async def test_ig_download(graph: FakeGraph) -> None:
    graph.route("GET", "/ig_messaging_cdn/", Answer(200, b"RIFF", {"Content-Type": "image/webp"}))
    ref = MediaRef(f"{graph.url}/ig_messaging_cdn/?asset_id=1", "image/jpeg", "image-1")
    async with httpx.AsyncClient() as http:
        media = await instagram.download(http, ig_conn(graph), ref, max_bytes=10)
    assert (media.data, media.content_type, media.filename) == (b"RIFF", "image/webp", "image-1")
    assert "authorization" not in graph.requests[0].headers

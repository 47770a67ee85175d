"""The web chat visitor API: sessions, identity verification, scoping, CORS, rate limits and
the visitor's stream (SPEC "Web chat widget", issue 20)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

import httpx
import pytest

from builders import make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from support.e2e import Api, eventually
from support.live import LiveRolodex

ORIGIN = "https://shop.example"


async def _channel(
    client: httpx.AsyncClient, headers: dict[str, str], **extra: Any
) -> dict[str, Any]:
    connection = {"provider": "widget", "allowed_origins": [ORIGIN], **extra}
    body = {"medium": "webchat", "name": "Chat", "connection": connection}
    response = await client.post("/api/v1/channels", json=body, headers=headers)
    assert response.status_code == 201, response.text
    channel: dict[str, Any] = response.json()
    return channel


def _sign(secret: str, identifier: str) -> str:
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


async def test_sessions_verify_identifiers_and_see_only_their_own_conversation(
    db: Database, client: httpx.AsyncClient
) -> None:
    """A verified identifier is one contact on every device; a wrong hash is 401; a session
    never reads another visitor's messages; agents appear by name only."""
    admin = await make_workspace(db)
    channel = await _channel(client, admin.headers, pre_chat_fields=["first_name", "email"])
    secret = channel["connection"]["identity_secret"]
    assert len(secret) == 64
    assert channel["webhook_url"] is None
    base = f"/public/v1/webchat/{channel['id']}"

    config = (await client.get(f"{base}/config")).json()
    assert config["pre_chat_fields"] == ["first_name", "email"]
    assert "identity_secret" not in json.dumps(config)

    wrong = await client.post(
        f"{base}/sessions", json={"identifier": "cust-42", "identifier_hash": "0" * 64}
    )
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["code"] == "bad_identifier_hash"
    unsigned = await client.post(f"{base}/sessions", json={"identifier": "cust-42"})
    assert unsigned.status_code == 422
    assert "identifier_hash" in unsigned.text

    signed = {"identifier": "cust-42", "identifier_hash": _sign(secret, "cust-42")}
    phone = (await client.post(f"{base}/sessions", json={**signed, "first_name": "Ana"})).json()
    laptop = (await client.post(f"{base}/sessions", json=signed)).json()
    assert phone["verified"] is True
    assert phone["contact_id"] == laptop["contact_id"]
    as_phone = {"Authorization": f"Bearer {phone['session_token']}"}
    as_laptop = {"Authorization": f"Bearer {laptop['session_token']}"}
    sent = await client.post(
        f"{base}/messages", json={"text": "Hi from my phone"}, headers=as_phone
    )
    assert sent.status_code == 201, sent.text
    history = (await client.get(f"{base}/messages", headers=as_laptop)).json()["items"]
    assert [m["text"] for m in history] == ["Hi from my phone"]

    # An agent answers; the visitor sees the reply with the agent's name only.
    conversation_id = (await client.get(f"{base}/session", headers=as_phone)).json()[
        "conversation_id"
    ]
    reply = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "Hello Ana!"},
        headers=admin.headers,
    )
    assert reply.status_code == 201, reply.text
    [_mine, theirs] = (await client.get(f"{base}/messages", headers=as_phone)).json()["items"]
    me = (await client.get("/api/v1/me", headers=admin.headers)).json()
    assert theirs["author"] == {"kind": "agent", "name": me["name"]}
    assert theirs["direction"] == "outbound"
    assert me["email"] not in json.dumps(theirs)
    assert set(theirs) == {"id", "direction", "text", "author", "created_at", "attachments"}

    # Another visitor, anonymous: their own conversation only; the others' messages are 404.
    stranger = (await client.post(f"{base}/sessions", json={})).json()
    assert stranger["verified"] is False
    assert stranger["contact_id"] != phone["contact_id"]
    as_stranger = {"Authorization": f"Bearer {stranger['session_token']}"}
    assert (await client.get(f"{base}/messages", headers=as_stranger)).json()["items"] == []
    theirs_by_id = await client.get(
        f"{base}/messages", params={"conversation_id": conversation_id}, headers=as_stranger
    )
    assert theirs_by_id.status_code == 404, theirs_by_id.text
    own = await client.get(
        f"{base}/messages", params={"conversation_id": conversation_id}, headers=as_laptop
    )
    assert [m["text"] for m in own.json()["items"]] == ["Hi from my phone", "Hello Ana!"]
    foreign = await client.get(f"/api/v1/conversations/{conversation_id}", headers=as_stranger)
    assert foreign.status_code == 401  # a session token is no API token
    unknown = await client.get(f"{base}/messages", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "bad_session_token"


async def test_unverified_emails_do_not_link_and_page_details_are_kept(
    db: Database, client: httpx.AsyncClient
) -> None:
    """A typed email is kept as webchat-email but has no matching form unless verified."""
    admin = await make_workspace(db)
    channel = await _channel(client, admin.headers)
    base = f"/public/v1/webchat/{channel['id']}"
    started = await client.post(
        f"{base}/sessions",
        json={
            "first_name": "Kerry",
            "last_name": "Fisher",
            "email": "Kerry@Example.com",
            "page_url": "https://shop.example/cart?x=1",
            "page_title": "Your cart",
            "browser_language": "es-ES",
        },
    )
    assert started.status_code == 201, started.text
    contact = (
        await client.get(f"/api/v1/contacts/{started.json()['contact_id']}", headers=admin.headers)
    ).json()
    assert contact["attributes"]["webchat-first-name"] == "Kerry"
    assert contact["attributes"]["webchat-email"] == "Kerry@Example.com"
    assert contact["attributes"]["webchat-page-domain"] == "shop.example"
    assert contact["attributes"]["webchat-page-title"] == "Your cart"
    assert contact["attributes"]["webchat-browser-language"] == "es-ES"
    assert "webchat-user-id" not in contact["attributes"]
    async with db.reader() as session:
        from sqlalchemy import text

        normalized = (
            await session.execute(
                text(
                    "SELECT v.normalized FROM attribute_values v"
                    " JOIN attribute_definitions d ON d.id = v.definition_id"
                    " WHERE v.contact_id = :c AND d.key = 'webchat-email'"
                ),
                {"c": started.json()["contact_id"]},
            )
        ).scalar_one()
    assert normalized == ""  # never matched by linking (R3.3)


async def test_cors_limits_and_bad_input(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    """Another origin is refused; allowed ones get CORS headers, on errors too; attachments
    are pictures and PDFs only; sending is rate-limited per session."""
    admin = await make_workspace(db)
    channel = await _channel(client, admin.headers)
    base = f"/public/v1/webchat/{channel['id']}"
    evil = await client.get(f"{base}/config", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert evil.json()["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in evil.headers
    ok = await client.get(f"{base}/config", headers={"Origin": ORIGIN})
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    preflight = await client.options(
        f"{base}/messages",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    denied = await client.get(f"{base}/messages", headers={"Origin": ORIGIN})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == ORIGIN  # the widget reads the 401

    token = (await client.post(f"{base}/sessions", json={})).json()["session_token"]
    auth = {"Authorization": f"Bearer {token}"}
    script = {"filename": "x.html", "content_type": "text/html", "content_base64": "PGI+"}
    refused = await client.post(f"{base}/messages", json={"attachments": [script]}, headers=auth)
    assert refused.status_code == 422
    assert "attachments.0.content_type" in refused.text
    empty = await client.post(f"{base}/messages", json={"text": "  "}, headers=auth)
    assert empty.status_code == 422
    too_long = await client.post(f"{base}/messages", json={"text": "x" * 5001}, headers=auth)
    assert too_long.status_code == 422

    # Refused messages counted too; a fresh session for the limit itself.
    token = (await client.post(f"{base}/sessions", json={})).json()["session_token"]
    auth = {"Authorization": f"Bearer {token}"}
    statuses = []
    for n in range(settings.webchat_messages_per_minute + 1):
        answer = await client.post(f"{base}/messages", json={"text": f"m{n}"}, headers=auth)
        statuses.append(answer.status_code)
    assert statuses[:-1] == [201] * settings.webchat_messages_per_minute
    assert statuses[-1] == 429
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.json()["code"] == "rate_limited"
    assert (await client.get("/public/v1/webchat/nope/config")).status_code == 404


@pytest.fixture
def live(settings: Settings) -> Any:
    """Rolodex serving on the test's database."""
    server = LiveRolodex(settings).start()
    yield server
    server.stop()


async def test_the_stream_carries_only_the_visitors_own_messages(
    db: Database, live: LiveRolodex
) -> None:
    """message.created for the visitor's conversation only, never another's nor internals."""
    admin = await make_workspace(db)
    api = Api(live.url, admin.token)
    connection = {"provider": "widget", "allowed_origins": [ORIGIN]}
    channel = api(
        "POST",
        "/api/v1/channels",
        json={"medium": "webchat", "name": "Chat", "connection": connection},
    )
    base = f"{live.url}/public/v1/webchat/{channel['id']}"
    conversations = []
    async with httpx.AsyncClient(base_url=base, timeout=15) as public:
        me = (await public.post("/sessions", json={})).json()
        other = (await public.post("/sessions", json={})).json()
        for visitor, text in ((me, "mine"), (other, "theirs")):
            auth = {"Authorization": f"Bearer {visitor['session_token']}"}
            sent = await public.post("/messages", json={"text": text}, headers=auth)
            assert sent.status_code == 201
            conversations.append(
                (await public.get("/session", headers=auth)).json()["conversation_id"]
            )
    mine, theirs = conversations

    events: list[dict[str, Any]] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx.stream(
            "GET", f"{base}/stream?token={me['session_token']}", timeout=20
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if len(events) == 1:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert connected.wait(10)
    api("POST", f"/api/v1/conversations/{theirs}/messages", json={"text": "to the other"})
    api("POST", f"/api/v1/conversations/{mine}/messages", json={"text": "to me"})
    thread.join(10)
    [event] = events
    assert event["text"] == "to me"
    assert event["author"]["kind"] == "agent"
    assert set(event) == {"id", "direction", "text", "author", "created_at", "attachments"}
    assert eventually(lambda: not thread.is_alive())

"""GET /api/v1/stream (R12.1): what it carries, to whom, resuming, and slow clients."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from builders import (
    PASSWORD,
    make_attribute,
    make_channel,
    make_conversation,
    make_integration,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role, TokenKind
from rolodex.contacts import service as contacts
from rolodex.contacts.events import ContactDeleted
from rolodex.conversations import service as conversations
from rolodex.db import Database
from rolodex.kit.events import emit
from rolodex.stream.listener import APPLICATION_NAME

ISO_Z = "Z"


def _pending_file(workspace_id: str, message_id: str) -> dict[str, Any]:
    return {
        "id": "att_stream1",
        "workspace_id": workspace_id,
        "message_id": message_id,
        "filename": "a.jpg",
        "content_type": "image/jpeg",
        "size": 0,
        "sha256": "",
        "status": "pending",
        "source": "https://platform.example/a.jpg",
        "created_at": datetime.now(UTC),
    }


def _head(data: dict[str, Any], kind: str, workspace_id: str) -> None:
    assert data["type"] == kind
    assert data["workspace_id"] == workspace_id
    assert data["at"].endswith(ISO_Z)
    assert len(data["id"]) == 21
    assert data["id"][:13].isdigit()


async def test_events_have_the_documented_shapes(
    db: Database, http: httpx.AsyncClient, streams: Any
) -> None:
    admin = await make_workspace(db)
    ws = admin.workspace_id
    channel = await make_channel(db, admin)
    await make_attribute(http, admin, label="Plan", key="plan")
    stream = await streams(admin.headers)

    made = await make_conversation(http, admin, channel, "ana")
    cid, kid, mid = made["conversation_id"], made["contact_id"], made["message_id"]

    created = await stream.until("conversation.created")
    _head(created.data, "conversation.created", ws)
    assert created.id == created.data["id"]
    assert created.data["conversation_id"] == cid
    assert created.data["contact_id"] == kid
    assert created.data["conversation"]["id"] == cid
    assert created.data["conversation"]["status"] == "new"
    assert "unread" not in created.data["conversation"]
    assert created.data["conversation"]["vip"] is False
    assert created.data["conversation"]["last_message"]["text"] == "Hello"
    assert created.data["changes"] == {}

    message = await stream.until("message.created")
    _head(message.data, "message.created", ws)
    assert (message.data["conversation_id"], message.data["message_id"]) == (cid, mid)
    assert message.data["contact_id"] == kid
    assert message.data["message"]["id"] == mid
    assert message.data["message"]["text"] == "Hello"

    # An agent's change: status, with who made it.
    response = await http.patch(
        f"/api/v1/conversations/{cid}", json={"status": "resolved"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    updated = await stream.until("conversation.updated")
    _head(updated.data, "conversation.updated", ws)
    assert updated.data["changes"] == {"status": {"from": "new", "to": "resolved"}}
    assert updated.data["actor"] == {"kind": "user", "id": admin.user_id}
    assert updated.data["conversation"]["status"] == "resolved"
    assert updated.data["contact_id"] == kid

    # Assignment (and status in the same request): one event with both changes.
    response = await http.patch(
        f"/api/v1/conversations/{cid}",
        json={"assignee_id": admin.user_id, "status": "new"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    both = await stream.until("conversation.updated")
    assert both.data["changes"] == {
        "assignee_id": {"from": None, "to": admin.user_id},
        "status": {"from": "resolved", "to": "new"},
    }
    assert both.data["conversation"]["assignee_id"] == admin.user_id
    # Unassigned alone: the assignment's own actor.
    response = await http.patch(
        f"/api/v1/conversations/{cid}", json={"assignee_id": None}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    unassigned = await stream.until("conversation.updated")
    assert unassigned.data["changes"] == {"assignee_id": {"from": admin.user_id, "to": None}}
    assert unassigned.data["actor"] == {"kind": "user", "id": admin.user_id}

    # A reply: a new message (the conversation moves to pending too).
    response = await http.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "Hi Ana"}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    reply_id = response.json()["id"]
    pending = await stream.until("conversation.updated")
    assert pending.data["changes"]["status"] == {"from": "new", "to": "pending"}
    sent = await stream.until("message.created", message_id=reply_id)
    assert sent.data["message"]["direction"] == "outbound"
    assert sent.data["contact_id"] == kid

    # Delivery and reactions: message.updated with the message as it is now.
    async with db.transaction() as session:
        await conversations.set_delivery(session, ws, reply_id, "queued")
    queued = await stream.until("message.updated", message_id=reply_id)
    _head(queued.data, "message.updated", ws)
    assert queued.data["message"]["delivery"]["status"] == "queued"
    assert (queued.data["conversation_id"], queued.data["contact_id"]) == (cid, kid)
    async with db.transaction() as session:
        await conversations.react(
            session, ws, mid, ("user", admin.user_id), "👍", datetime.now(UTC)
        )
    reacted = await stream.until("message.updated", message_id=mid)
    assert reacted.data["message"]["reactions"][0]["emoji"] == "👍"
    # A platform's file that could not be fetched: the message shows it failed.
    async with db.transaction() as session:
        await conversations.add_attachments(session, [_pending_file(ws, mid)])
    async with db.transaction() as session:
        await conversations.attachment_failed(session, ws, "att_stream1", "gone")
    failed = await stream.until("message.updated", message_id=mid)
    assert failed.data["message"]["attachments"][0]["status"] == "failed"

    # Values: contact.updated with the keys that changed, the source and who.
    response = await http.patch(
        f"/api/v1/contacts/{kid}/attributes",
        json={"attributes": {"plan": "gold"}},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    contact = await stream.until("contact.updated", source="agent")
    _head(contact.data, "contact.updated", ws)
    assert contact.data["contact_id"] == kid
    assert contact.data["changed"] == ["plan"]
    assert contact.data["contact"]["attributes"]["plan"] == "gold"
    assert contact.data["actor"] == {"kind": "user", "id": admin.user_id}

    # Erasure: contact.deleted, the id only.
    response = await http.delete(
        f"/api/v1/contacts/{kid}", params={"hint": "asked"}, headers=admin.headers
    )
    assert response.status_code == 204, response.text
    deleted = await stream.until("contact.deleted")
    _head(deleted.data, "contact.deleted", ws)
    assert set(deleted.data) == {"type", "id", "workspace_id", "at", "contact_id"}
    assert deleted.data["contact_id"] == kid


async def _deleted_events(db: Database, workspace_id: str, count: int) -> list[str]:
    """Emit `count` contact.deleted events in one transaction (no contact needs to exist)."""
    ids = [f"ct_gone{n:05d}" for n in range(count)]
    async with db.transaction() as session:
        for contact_id in ids:
            await emit(
                session,
                ContactDeleted(
                    workspace_id=workspace_id, contact_id=contact_id, hint="", medium="x"
                ),
            )
    return ids


async def test_only_the_callers_workspace(db: Database, streams: Any) -> None:
    ours = await make_workspace(db, name="Ours")
    theirs = await make_workspace(db, name="Theirs")
    stream = await streams(ours.headers)
    await _deleted_events(db, theirs.workspace_id, 3)
    await _deleted_events(db, ours.workspace_id, 1)
    first = await stream.next()
    assert first.data["workspace_id"] == ours.workspace_id
    assert first.data["contact_id"] == "ct_gone00000"


async def test_an_agent_never_gets_a_hidden_attribute(
    db: Database, http: httpx.AsyncClient, streams: Any
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    await make_attribute(http, admin, label="Plan", key="plan")
    await make_attribute(http, admin, label="Secret score", key="secret_score")
    response = await http.patch(
        "/api/v1/attributes/secret_score", json={"enabled": False}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    kid = (await make_conversation(http, admin, channel, "ana"))["contact_id"]
    admins, agents = await streams(admin.headers), await streams(agent.headers)

    response = await http.patch(
        f"/api/v1/contacts/{kid}/attributes",
        json={"attributes": {"plan": "gold", "secret_score": "s3cr3t-42"}},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    seen_by_admin = await admins.until("contact.updated", contact_id=kid)
    seen_by_agent = await agents.until("contact.updated", contact_id=kid)
    assert seen_by_admin.id == seen_by_agent.id
    assert seen_by_admin.data["changed"] == ["plan", "secret_score"]
    assert seen_by_admin.data["contact"]["attributes"]["secret_score"] == "s3cr3t-42"
    assert seen_by_agent.data["changed"] == ["plan"]
    assert seen_by_agent.data["contact"]["attributes"]["plan"] == "gold"
    assert "secret_score" not in seen_by_agent.data["contact"]["attributes"]
    assert "secret_score" not in seen_by_agent.raw
    assert "s3cr3t-42" not in seen_by_agent.raw


async def test_last_event_id_resumes_exactly_the_missed_events(db: Database, streams: Any) -> None:
    admin = await make_workspace(db)
    ws = admin.workspace_id
    witness = await streams(admin.headers)
    first = await streams(admin.headers)
    await _deleted_events(db, ws, 1)
    last = await first.next()
    await first.close()
    assert (await witness.next()).id == last.id

    await _deleted_events(db, ws, 2)
    await _deleted_events(db, ws, 1)
    missed = [(await witness.next()).id for _ in range(3)]

    resumed = await streams(admin.headers, last_event_id=last.id)
    assert [(await resumed.next()).id for _ in range(3)] == missed
    # Then live: the next event is the next change, nothing in between.
    await _deleted_events(db, ws, 1)
    live = (await witness.next()).id
    assert (await resumed.next()).id == live
    # The same with ?last_event_id= (clients that cannot set the header).
    by_query = await streams(admin.headers, query=last.id)
    assert [(await by_query.next()).id for _ in range(4)] == [*missed, live]


async def test_an_unknown_last_event_id_asks_to_reload(db: Database, streams: Any) -> None:
    admin = await make_workspace(db)
    stream = await streams(admin.headers, last_event_id="0000000000000deadbeef")
    reload = await stream.next()
    assert reload.event == "reload"
    assert reload.data == {"type": "reload"}
    await _deleted_events(db, admin.workspace_id, 1)
    assert (await stream.next()).event == "contact.deleted"


async def test_the_stream_needs_credentials(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/stream")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_integrations_may_not_read_the_stream(db: Database, http: httpx.AsyncClient) -> None:
    admin = await make_workspace(db)
    for kind in (TokenKind.CRM, TokenKind.BOT):
        integration = await make_integration(db, admin.workspace_id, kind)
        response = await http.get("/api/v1/stream", headers=integration.headers)
        assert response.status_code == 403
        assert response.json()["code"] == "token_scope"


async def test_a_browser_session_cookie_opens_the_stream(
    db: Database, http: httpx.AsyncClient, streams: Any
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    form = await http.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    login = await http.post(
        "/login", data={"email": agent.email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert login.status_code == 303, login.text
    cookie = http.cookies.get("rolodex_session")
    assert cookie
    stream = await streams({"Cookie": f"rolodex_session={cookie}"})
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    await _deleted_events(db, admin.workspace_id, 1)
    assert (await stream.next()).event == "contact.deleted"


async def test_many_events_of_one_transaction_arrive_in_order(db: Database, streams: Any) -> None:
    # On PostgreSQL they travel as several NOTIFY chunks (each under 8,000 bytes).
    admin = await make_workspace(db)
    stream = await streams(admin.headers)
    ids = await _deleted_events(db, admin.workspace_id, 200)
    got = [(await stream.next()).data["contact_id"] for _ in ids]
    assert got == ids


async def test_a_process_id_names_who_serves_the_stream(db: Database, streams: Any) -> None:
    admin = await make_workspace(db)
    one, two = await streams(admin.headers), await streams(admin.headers)
    assert one.response.headers["x-rolodex-process"] == two.response.headers["x-rolodex-process"]


async def test_no_db_connection_is_held_by_idle_streams(
    db: Database, streams: Any, live: Any
) -> None:
    admin = await make_workspace(db)
    for _ in range(5):
        await streams(admin.headers)
    database = live.app.state.database
    pool = database.read_engine.pool
    assert pool.checkedout() == 0
    assert live.app.state.stream.client_count() == 5
    assert database.write_engine.pool.checkedout() == 0


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # the LISTEN connection
async def test_a_lost_listen_connection_makes_clients_reload(
    db: Database, streams: Any, settings: Any
) -> None:
    admin = await make_workspace(db)
    stream = await streams(admin.headers)
    async with db.transaction() as session:
        killed = await session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
        assert killed.scalars().all() == [True]
    # Events committed while it was gone are lost to this process: its clients reload…
    reload = await stream.next(timeout=10)
    assert reload.event == "reload"
    # …and the stream goes on once it listens again.
    await _deleted_events(db, admin.workspace_id, 1)
    assert (await stream.next(timeout=10)).event == "contact.deleted"


async def test_echoes_and_new_display_names_are_on_the_stream(
    db: Database, http: httpx.AsyncClient, streams: Any
) -> None:
    admin = await make_workspace(db)
    ws = admin.workspace_id
    channel = await make_channel(db, admin)
    made = await make_conversation(http, admin, channel, "ana")
    cid, kid = made["conversation_id"], made["contact_id"]
    stream = await streams(admin.headers)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        echo_id = await conversations.receive_echo(
            session, workspace_id=ws, channel_id=channel, contact_id=kid,
            external_id="ext-echo-1", text="Sent from the phone", sent_at=now, at=now,
        )  # fmt: skip
    echo = await stream.until("message.created")
    assert echo.data["message_id"] == echo_id
    assert echo.data["conversation_id"] == cid
    assert echo.data["message"]["text"] == "Sent from the phone"
    async with db.transaction() as session:
        await contacts.rename(session, ws, contacts.Identity(kid, "ana", created=False), "Ana B.")
    renamed = await stream.until("contact.updated", contact_id=kid)
    assert renamed.data["contact"]["display_name"] == "Ana B."
    assert renamed.data["changed"] == []
    assert renamed.data["source"] == "platform"

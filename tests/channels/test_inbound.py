"""POST /channels/{id}/inbound: identity, idempotency, concurrency, statuses, provenance."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from builders import Actor, inbound_body, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.db import Database
from rolodex.models import (
    AttributeHistory,
    AttributeValue,
    Contact,
    Conversation,
    ConversationEvent,
    Message,
)


async def _send(
    client: httpx.AsyncClient, actor: Actor, channel_id: str, body: dict[str, object]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/channels/{channel_id}/inbound", json=body, headers=actor.headers
    )


async def _count(db: Database, model: type[object], workspace_id: str) -> int:
    async with db.reader() as session:
        stmt = (
            select(func.count())
            .select_from(model)
            .where(
                model.workspace_id == workspace_id  # type: ignore[attr-defined]
            )
        )
        return int((await session.execute(stmt)).scalar_one())


async def test_first_message_creates_contact_and_new_conversation(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    body = inbound_body("visitor-1", attributes={"first-name": "Ada", "last-name": "Lovelace"})
    response = await _send(client, admin, channel, body)
    assert response.status_code == 201
    result = response.json()
    assert result["duplicate"] is False
    assert result["ignored_attributes"] == []
    conversation = await client.get(
        f"/api/v1/conversations/{result['conversation_id']}", headers=admin.headers
    )
    assert conversation.json()["status"] == "new"
    assert conversation.json()["contact_display_name"] == "Ada Lovelace"
    messages = await client.get(
        f"/api/v1/conversations/{result['conversation_id']}/messages", headers=admin.headers
    )
    [message] = messages.json()["items"]
    assert message["id"] == result["message_id"]
    assert message["direction"] == "inbound"
    assert message["text"] == "Hello"


async def test_twitter_user_on_two_accounts_is_one_contact_with_two_conversations(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    first = await make_channel(db, admin, "twitter", "Support")
    second = await make_channel(db, admin, "twitter", "Sales")
    a = (await _send(client, admin, first, inbound_body("tw-42"))).json()
    b = (await _send(client, admin, second, inbound_body("tw-42"))).json()
    assert a["contact_id"] == b["contact_id"]
    assert a["conversation_id"] != b["conversation_id"]
    listed = await client.get(
        "/api/v1/conversations", params={"contact_id": a["contact_id"]}, headers=admin.headers
    )
    assert {c["channel_id"] for c in listed.json()["items"]} == {first, second}


async def test_webchat_user_on_two_channels_is_two_contacts(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    first = await make_channel(db, admin, "webchat", "Site")
    second = await make_channel(db, admin, "webchat", "Shop")
    a = (await _send(client, admin, first, inbound_body("visitor-7"))).json()
    b = (await _send(client, admin, second, inbound_body("visitor-7"))).json()
    assert a["contact_id"] != b["contact_id"]
    assert await _count(db, Contact, admin.workspace_id) == 2


async def test_twenty_concurrent_first_messages_make_one_contact_and_conversation(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "whatsapp")
    bodies = [
        inbound_body("wa-1", attributes={"phone": "+14155550100", "profile-name": "Sam"})
        for _ in range(20)
    ]
    responses = await asyncio.gather(*(_send(client, admin, channel, b) for b in bodies))
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["contact_id"] for r in responses}) == 1
    assert len({r.json()["conversation_id"] for r in responses}) == 1
    assert await _count(db, Contact, admin.workspace_id) == 1
    assert await _count(db, Conversation, admin.workspace_id) == 1
    assert await _count(db, Message, admin.workspace_id) == 20
    # Concurrent writers of the same values record each change once.
    assert await _count(db, AttributeHistory, admin.workspace_id) == 2


async def test_replayed_message_is_a_duplicate_and_changes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "sms")
    body = inbound_body("+14155550101", attributes={"phone": "+14155550101"})
    first = await _send(client, admin, channel, body)
    assert first.status_code == 201
    # Even with different attributes, the replay must not touch the stored values.
    replay_body = {
        **body,
        "sender": {"id": "+14155550101", "attributes": {"phone": "+14155550199"}},
    }
    replay = await _send(client, admin, channel, replay_body)
    assert replay.status_code == 200
    assert replay.json()["duplicate"] is True
    for key in ("message_id", "conversation_id", "contact_id"):
        assert replay.json()[key] == first.json()[key]
    assert await _count(db, Message, admin.workspace_id) == 1
    assert await _count(db, AttributeHistory, admin.workspace_id) == 1
    contact = await client.get(
        f"/api/v1/contacts/{first.json()['contact_id']}", headers=admin.headers
    )
    assert contact.json()["attributes"] == {"sms-phone": "+14155550101"}


async def test_contact_reply_moves_pending_back_to_new_with_an_event(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "facebook")
    first = (await _send(client, admin, channel, inbound_body("fb-1"))).json()
    conversation_url = f"/api/v1/conversations/{first['conversation_id']}"
    reply = await client.post(
        f"{conversation_url}/messages", json={"text": "How can we help?"}, headers=agent.headers
    )
    assert reply.status_code == 201
    assert reply.json()["direction"] == "outbound"
    assert reply.json()["author_id"] == agent.user_id
    assert (await client.get(conversation_url, headers=agent.headers)).json()["status"] == "pending"
    again = (await _send(client, admin, channel, inbound_body("fb-1", text="Still there?"))).json()
    assert again["conversation_id"] == first["conversation_id"]
    detail = (await client.get(conversation_url, headers=agent.headers)).json()
    assert detail["status"] == "new"
    moves = [(e["from_value"], e["to_value"], e["actor_kind"]) for e in detail["events"]]
    assert moves == [("new", "pending", "user"), ("pending", "new", "contact")]


async def test_resolved_conversation_is_not_reused(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "email")
    first = (await _send(client, admin, channel, inbound_body("a@example.test"))).json()
    resolved = await client.patch(
        f"/api/v1/conversations/{first['conversation_id']}",
        json={"status": "resolved", "reason": "answered", "comment": "Sent the manual"},
        headers=admin.headers,
    )
    assert resolved.status_code == 200
    [event] = resolved.json()["events"]
    assert (event["from_value"], event["to_value"]) == ("new", "resolved")
    assert (event["reason"], event["comment"]) == ("answered", "Sent the manual")
    second = (await _send(client, admin, channel, inbound_body("a@example.test"))).json()
    assert second["contact_id"] == first["contact_id"]
    assert second["conversation_id"] != first["conversation_id"]
    # Reopening the old one while the new one is open would make two open conversations.
    reopen = await client.patch(
        f"/api/v1/conversations/{first['conversation_id']}",
        json={"status": "new"},
        headers=admin.headers,
    )
    assert reopen.status_code == 409
    assert reopen.json()["code"] == "conversation_open_elsewhere"


async def test_platform_values_carry_provenance_and_changes_are_history(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "twitter")
    attrs = {"handle": "ada", "followers": 10, "name": "Ada"}
    first = (await _send(client, admin, channel, inbound_body("tw-1", attributes=attrs))).json()
    changed = {"handle": "ada", "followers": "11"}
    await _send(client, admin, channel, inbound_body("tw-1", attributes=changed))
    contact_id = first["contact_id"]
    contact = (await client.get(f"/api/v1/contacts/{contact_id}", headers=admin.headers)).json()
    assert contact["attributes"] == {
        "twitter-user-id": "tw-1",
        "twitter-handle": "ada",
        "twitter-name": "Ada",
        "twitter-followers": "11",
    }
    assert contact["display_name"] == "Ada"
    async with db.reader() as session:
        values = list((await session.execute(select(AttributeValue))).scalars())
    assert {v.source for v in values} == {"platform"}
    assert {v.channel_id for v in values} == {channel}
    assert {v.actor_id for v in values} == {admin.user_id}
    assert all(v.updated_at is not None for v in values)
    history = (
        await client.get(f"/api/v1/contacts/{contact_id}/history", headers=admin.headers)
    ).json()["items"]
    followers = [
        (h["old_value"], h["new_value"]) for h in history if h["key"] == "twitter-followers"
    ]
    assert followers == [("10", "11"), (None, "10")]  # newest first
    assert all(h["source"] == "platform" and h["channel_id"] == channel for h in history)
    # user id, handle, name, followers twice: the user id, handle and name did not change
    assert len(history) == 5


async def test_unknown_attributes_are_ignored_and_listed(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "instagram")
    body = inbound_body("ig-1", attributes={"username": "ada", "shoe-size": 38, "handle": "x"})
    response = await _send(client, admin, channel, body)
    assert response.status_code == 201
    assert response.json()["ignored_attributes"] == ["shoe-size", "handle"]


async def test_wrong_typed_attribute_is_422_naming_it_and_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "twitter")
    body = inbound_body("tw-9", attributes={"followers": "lots", "handle": "ok"})
    response = await _send(client, admin, channel, body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["sender.attributes.followers"]
    assert await _count(db, Contact, admin.workspace_id) == 0
    assert await _count(db, Message, admin.workspace_id) == 0


async def test_status_change_events_record_the_actor(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    first = (await _send(client, admin, channel, inbound_body())).json()
    await client.patch(
        f"/api/v1/conversations/{first['conversation_id']}",
        json={"status": "pending"},
        headers=admin.headers,
    )
    async with db.reader() as session:
        [event] = (await session.execute(select(ConversationEvent))).scalars()
    assert (event.actor_kind, event.actor_id) == ("user", admin.user_id)
    assert event.at is not None


async def test_platform_user_id_fills_the_user_id_attribute(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    body = {"external_message_id": "uid-1", "sender": {"id": "visitor-42"}, "text": "hi"}
    sent = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=body, headers=admin.headers
    )
    assert sent.status_code == 201
    contact = await client.get(
        f"/api/v1/contacts/{sent.json()['contact_id']}", headers=admin.headers
    )
    assert contact.json()["attributes"]["webchat-user-id"] == "visitor-42"

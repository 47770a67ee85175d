"""Domain events become webhook deliveries in the transaction of the change (B8).

The first tests emit the domains' events directly (`rolodex.kit.events.emit`), so they check
this package's subscribers alone. The end-to-end tests at the bottom drive the real API
(inbound, an agent's attribute PATCH, a status change, a reply, a deletion) and need the
domains' services to emit those events.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from builders import make_attribute, make_conversation
from rolodex.attributes.events import AttributeValuesChanged, ValueChange
from rolodex.config import Settings
from rolodex.contacts.events import ContactCreated, ContactDeleted
from rolodex.conversations.events import (
    ConversationAssigned,
    ConversationStarted,
    ConversationStatusChanged,
    MessageReceived,
    MessageSent,
)
from rolodex.db import Database
from rolodex.kit.events import emit
from rolodex.models import Job
from support.webhooks import Subscribed, create_webhook, run_jobs, verified

DELIVER = "webhooks.deliver"


async def _deliveries(db: Database) -> list[Job]:
    async with db.reader() as session:
        stmt = select(Job).where(Job.kind == DELIVER).order_by(Job.id)
        return list((await session.execute(stmt)).scalars())


def _received(s: Subscribed, event_type: str | None = None) -> list[dict[str, Any]]:
    """The events the receiver stored, each verified with standardwebhooks' own verify."""
    by_id = {
        d["headers"]["webhook-id"]: d["event"] for d in verified(s.receiver, s.webhook["secret"])
    }
    events = [by_id[e["webhook_id"]] for e in s.receiver.events()]
    return [e for e in events if event_type is None or e["type"] == event_type]


async def _quiet_conversation(
    client: httpx.AsyncClient, db: Database, s: Subscribed, sender: str = "ana"
) -> dict[str, str]:
    """A contact, conversation and message made before any webhook listens (nothing sent)."""
    off = await client.patch(s.path, json={"enabled": False}, headers=s.admin.headers)
    assert off.status_code == 200
    made = await make_conversation(client, s.admin, s.channel_id, sender)
    on = await client.patch(s.path, json={"enabled": True}, headers=s.admin.headers)
    assert on.status_code == 200
    for job in await _deliveries(db):
        assert job.status == "cancelled"
    return made


async def test_each_event_is_delivered_with_its_data(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    made = await _quiet_conversation(client, db, subscribed)
    ws, contact, conversation = (
        subscribed.admin.workspace_id,
        made["contact_id"],
        made["conversation_id"],
    )
    before = {j.id for j in await _deliveries(db)}
    async with db.transaction() as session:
        await emit(
            session,
            ContactCreated(
                workspace_id=ws,
                contact_id=contact,
                medium="webchat",
                channel_id=subscribed.channel_id,
            ),
        )
        await emit(
            session,
            ConversationStarted(
                workspace_id=ws,
                conversation_id=conversation,
                contact_id=contact,
                channel_id=subscribed.channel_id,
            ),
        )
        await emit(
            session,
            ConversationStatusChanged(
                workspace_id=ws,
                conversation_id=conversation,
                contact_id=contact,
                previous="new",
                current="resolved",
                actor_kind="user",
                actor_id=subscribed.agent.user_id,
                reason="answered",
                comment="done",
            ),
        )
        await emit(
            session,
            ConversationAssigned(
                workspace_id=ws,
                conversation_id=conversation,
                assignee_id=subscribed.agent.user_id,
                team_id=None,
                previous_assignee_id=None,
                previous_team_id=None,
            ),
        )
        await emit(
            session,
            MessageReceived(
                workspace_id=ws,
                message_id=made["message_id"],
                conversation_id=conversation,
                contact_id=contact,
                channel_id=subscribed.channel_id,
            ),
        )
        await emit(
            session,
            MessageSent(
                workspace_id=ws,
                message_id=made["message_id"],
                conversation_id=conversation,
                contact_id=contact,
                channel_id=subscribed.channel_id,
                author_kind="user",
                author_id=subscribed.agent.user_id,
            ),
        )
    jobs = [j for j in await _deliveries(db) if j.id not in before]
    assert len(jobs) == 6
    assert {j.contact_id for j in jobs} == {contact}  # erasing the contact deletes them
    assert {j.ref for j in jobs} == {subscribed.webhook["id"]}
    await run_jobs(settings, db)

    (created,) = _received(subscribed, "contact.created")
    assert created["data"]["id"] == contact
    assert created["data"]["medium"] == "webchat"
    assert created["data"]["display_name"]
    (started,) = _received(subscribed, "conversation.created")
    assert started["data"]["id"] == conversation
    assert started["data"]["contact_id"] == contact
    updates = _received(subscribed, "conversation.updated")
    assert len(updates) == 2
    status = next(u["data"] for u in updates if "status" in u["data"]["changes"])
    assert status["changes"]["status"] == {"old": "new", "new": "resolved"}
    assert (status["reason"], status["comment"]) == ("answered", "done")
    assert status["actor"] == {"kind": "user", "id": subscribed.agent.user_id}
    assigned = next(u["data"] for u in updates if "assignee_id" in u["data"]["changes"])
    assert assigned["changes"]["assignee_id"]["new"] == subscribed.agent.user_id
    assert assigned["contact_id"] == contact
    messages = _received(subscribed, "message.created")
    assert len(messages) == 2
    assert {m["data"]["author"]["kind"] for m in messages} == {"contact", "agent"}
    for message in messages:
        assert message["data"]["text"] == "Hello"
        assert message["data"]["conversation_id"] == conversation


async def test_one_attribute_write_is_one_contact_updated_with_every_change(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    made = await _quiet_conversation(client, db, subscribed)
    async with db.transaction() as session:
        await emit(
            session,
            AttributeValuesChanged(
                workspace_id=subscribed.admin.workspace_id,
                contact_id=made["contact_id"],
                changes=(
                    ValueChange("def-tier", None, "gold", key="tier"),
                    ValueChange("def-plan", "basic", "pro", key="plan"),
                ),
                source="agent",
                actor_kind="user",
                actor_id=subscribed.agent.user_id,
            ),
        )
    await run_jobs(settings, db)
    (updated,) = _received(subscribed, "contact.updated")
    assert updated["data"]["id"] == made["contact_id"]
    assert updated["data"]["changes"] == [
        {"attribute": "tier", "old_value": None, "new_value": "gold", "source": "agent"},
        {"attribute": "plan", "old_value": "basic", "new_value": "pro", "source": "agent"},
    ]


async def test_only_enabled_webhooks_of_that_event_and_workspace_get_it(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    admin = subscribed.admin
    url = f"{subscribed.receiver.url}/other"
    only_deleted = await create_webhook(client, admin, url, ["contact.deleted"])
    disabled = await create_webhook(client, admin, url, ["contact.created"])
    off = await client.patch(
        f"/api/v1/webhooks/{disabled['id']}", json={"enabled": False}, headers=admin.headers
    )
    assert off.status_code == 200
    async with db.transaction() as session:
        await emit(
            session,
            ContactCreated(
                workspace_id=admin.workspace_id, contact_id="ct_x", medium="webchat", channel_id="c"
            ),
        )
        await emit(
            session,
            ContactCreated(
                workspace_id="ws_elsewhere", contact_id="ct_y", medium="webchat", channel_id="c"
            ),
        )
    jobs = await _deliveries(db)
    assert [(j.ref, j.payload["type"]) for j in jobs] == [
        (subscribed.webhook["id"], "contact.created")
    ]
    assert only_deleted["id"] not in {j.ref for j in jobs}


async def test_nothing_is_sent_for_a_change_that_rolled_back(
    db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    event = ContactCreated(
        workspace_id=subscribed.admin.workspace_id,
        contact_id="ct_x",
        medium="webchat",
        channel_id="c",
    )

    async def change_that_fails() -> None:
        async with db.transaction() as session:
            await emit(session, event)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        await change_that_fails()
    assert await _deliveries(db) == []
    await run_jobs(settings, db)
    assert subscribed.receiver.requests() == []


async def test_erasing_a_contact_drops_queued_deliveries_about_it_but_not_contact_deleted(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    made = await _quiet_conversation(client, db, subscribed)
    ws, contact = subscribed.admin.workspace_id, made["contact_id"]
    async with db.transaction() as session:
        change = ValueChange("def-email", None, "ana@example.com", key="email")
        await emit(
            session,
            AttributeValuesChanged(
                workspace_id=ws,
                contact_id=contact,
                changes=(change,),
                source="agent",
                actor_kind="user",
            ),
        )
        await emit(
            session,
            ContactDeleted(workspace_id=ws, contact_id=contact, hint="Ana", medium="webchat"),
        )
    deleted = await client.delete(
        f"/api/v1/contacts/{contact}?hint=Ana", headers=subscribed.admin.headers
    )
    assert deleted.status_code == 204, deleted.text
    queued = [j for j in await _deliveries(db) if j.status == "queued"]
    assert {j.payload["type"] for j in queued} == {"contact.deleted"}
    assert all(j.contact_id is None for j in queued)
    await run_jobs(settings, db)
    received = _received(subscribed)
    assert {e["type"] for e in received} == {"contact.deleted"}
    for event in received:
        assert event["data"] == {"id": contact, "hint": "Ana", "medium": "webchat"}
    for request in subscribed.receiver.requests():
        assert b"ana@example.com" not in request["body"]


# --- end to end: these need the domains' services to emit their events --------------------


async def test_an_agents_patch_of_two_attributes_is_one_contact_updated(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    admin = subscribed.admin
    for key in ("tier", "plan"):
        await make_attribute(client, admin, label=key.title(), key=key)
    made = await make_conversation(client, admin, subscribed.channel_id, "bo")
    await run_jobs(settings, db)
    write = {"attributes": {"tier": "gold", "plan": "pro"}}
    path = f"/api/v1/contacts/{made['contact_id']}/attributes"
    response = await client.patch(path, json=write, headers=subscribed.agent.headers)
    assert response.status_code == 200, response.text
    await run_jobs(settings, db)
    updates = [
        e
        for e in _received(subscribed, "contact.updated")
        if {c["attribute"] for c in e["data"]["changes"]} & {"tier", "plan"}
    ]
    assert len(updates) == 1, updates
    (update,) = updates
    assert update["data"]["id"] == made["contact_id"]
    changes = sorted(update["data"]["changes"], key=lambda c: c["attribute"])
    assert changes == [
        {"attribute": "plan", "old_value": None, "new_value": "pro", "source": "agent"},
        {"attribute": "tier", "old_value": None, "new_value": "gold", "source": "agent"},
    ]


async def test_inbound_status_change_and_reply_are_delivered(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    made = await make_conversation(client, subscribed.admin, subscribed.channel_id, "cy")
    resolved = await client.patch(
        f"/api/v1/conversations/{made['conversation_id']}",
        json={"status": "pending"},
        headers=subscribed.agent.headers,
    )
    assert resolved.status_code == 200, resolved.text
    replied = await client.post(
        f"/api/v1/conversations/{made['conversation_id']}/messages",
        json={"text": "On it"},
        headers=subscribed.agent.headers,
    )
    assert replied.status_code == 201, replied.text
    await run_jobs(settings, db)
    types = [e["type"] for e in _received(subscribed)]
    for expected in ("contact.created", "conversation.created", "conversation.updated"):
        assert expected in types, types
    texts = {e["data"].get("text") for e in _received(subscribed, "message.created")}
    assert {"Hello", "On it"} <= texts


async def test_a_deleted_contact_is_announced_with_its_id_hint_and_medium_only(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    made = await make_conversation(client, subscribed.admin, subscribed.channel_id, "dee")
    await run_jobs(settings, db)
    deleted = await client.delete(
        f"/api/v1/contacts/{made['contact_id']}?hint=Dee from chat",
        headers=subscribed.admin.headers,
    )
    assert deleted.status_code == 204, deleted.text
    await run_jobs(settings, db)
    (event,) = _received(subscribed, "contact.deleted")
    assert event["data"] == {"id": made["contact_id"], "hint": "Dee from chat", "medium": "webchat"}
    raw = json.dumps(event)
    assert "dee" not in raw.replace("Dee from chat", "")

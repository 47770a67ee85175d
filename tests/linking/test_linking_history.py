"""Platform-to-custom mappings on inbound, and the cross-channel conversation history (R3.1)."""

from __future__ import annotations

from typing import Any

import httpx

from builders import (
    Actor,
    inbound_body,
    make_attribute,
    make_channel,
    make_conversation,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.worker import Worker

PHONE_MAPPINGS = [{"from": "whatsapp-phone", "to": "phone"}, {"from": "sms-phone", "to": "phone"}]


async def _patch(client: httpx.AsyncClient, actor: Actor, **body: Any) -> None:
    response = await client.patch("/api/v1/settings/contacts", json=body, headers=actor.headers)
    assert response.status_code == 200, response.text


async def _phone_workspace(client: httpx.AsyncClient, db: Database) -> tuple[Actor, str, str]:
    admin = await make_workspace(db)
    whatsapp = await make_channel(db, admin, "whatsapp", "WhatsApp Support")
    sms = await make_channel(db, admin, "sms", "SMS Support")
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    await _patch(client, admin, matching_attribute="phone", mappings=PHONE_MAPPINGS)
    return admin, whatsapp, sms


async def _history(client: httpx.AsyncClient, actor: Actor, contact: str, **query: Any) -> Any:
    response = await client.get(
        f"/api/v1/contacts/{contact}/conversations", params=query, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_mapping_links_whatsapp_and_sms_contacts_with_no_manual_step(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, whatsapp, sms = await _phone_workspace(client, db)
    wa = await make_conversation(client, admin, whatsapp, "wa-1", phone="+1 415 555 0100")
    tx = await make_conversation(client, admin, sms, "sms-1", phone="(415) 555-0100")
    contact = await client.get(f"/api/v1/contacts/{wa['contact_id']}", headers=admin.headers)
    body = contact.json()
    assert body["attributes"]["phone"] == "+14155550100"
    assert body["linked_contact_ids"] == [tx["contact_id"]]
    tab = await client.get(
        f"/api/v1/conversations/{wa['conversation_id']}/contact-tab", headers=admin.headers
    )
    (phone,) = [a for a in tab.json()["attributes"] if a["key"] == "phone"]
    assert phone["source"] == "platform"


async def test_a_new_mapping_fills_existing_contacts_in_the_background(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    whatsapp = await make_channel(db, admin, "whatsapp")
    sms = await make_channel(db, admin, "sms")
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    await _patch(client, admin, matching_attribute="phone")
    # Contacts that wrote before any mapping existed; one has an agent's phone already.
    wa = await make_conversation(client, admin, whatsapp, "wa-old", phone="+1 415 555 0100")
    tx = await make_conversation(client, admin, sms, "sms-old", phone="(415) 555-0100")
    kept = await make_conversation(client, admin, sms, "sms-kept", phone="(415) 555-0177")
    agent_phone = {"attributes": {"phone": "+14155550999"}}
    path = f"/api/v1/contacts/{kept['contact_id']}/attributes"
    assert (await client.patch(path, json=agent_phone, headers=admin.headers)).status_code == 200
    await _patch(client, admin, mappings=PHONE_MAPPINGS)
    assert await Worker(db, settings).run_until_idle() == 2  # one job per new mapping
    read = await client.get(f"/api/v1/contacts/{wa['contact_id']}", headers=admin.headers)
    assert read.json()["attributes"]["phone"] == "+14155550100"
    assert read.json()["linked_contact_ids"] == [tx["contact_id"]]
    history = await client.get(
        f"/api/v1/contacts/{wa['contact_id']}/history", headers=admin.headers
    )
    changes = [c for c in history.json()["items"] if c["key"] == "phone"]
    assert [(c["new_value"], c["source"]) for c in changes] == [("+14155550100", "platform")]
    kept_read = await client.get(f"/api/v1/contacts/{kept['contact_id']}", headers=admin.headers)
    assert kept_read.json()["attributes"]["phone"] == "+14155550999"
    # Saving the same mappings again queues nothing.
    await _patch(client, admin, mappings=PHONE_MAPPINGS)
    assert await Worker(db, settings).run_until_idle() == 0


async def test_an_agents_value_is_not_overwritten_by_a_mapping(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, whatsapp, _sms = await _phone_workspace(client, db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    first = await make_conversation(client, admin, whatsapp, "wa-2", phone="+14155550111")
    contact = first["contact_id"]
    written = await client.patch(
        f"/api/v1/contacts/{contact}/attributes",
        json={"attributes": {"phone": "+14155550999"}},
        headers=agent.headers,
    )
    assert written.status_code == 200, written.text
    again = await client.post(
        f"/api/v1/channels/{whatsapp}/inbound",
        json=inbound_body("wa-2", attributes={"phone": "+14155550222"}),
        headers=admin.headers,
    )
    assert again.status_code == 201, again.text
    read = await client.get(f"/api/v1/contacts/{contact}", headers=admin.headers)
    assert read.json()["attributes"]["phone"] == "+14155550999"
    assert read.json()["attributes"]["whatsapp-phone"] == "+14155550222"


async def test_a_platform_filled_value_follows_the_platform(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, whatsapp, _sms = await _phone_workspace(client, db)
    first = await make_conversation(client, admin, whatsapp, "wa-3", phone="+14155550111")
    await client.post(
        f"/api/v1/channels/{whatsapp}/inbound",
        json=inbound_body("wa-3", attributes={"phone": "+14155550333"}),
        headers=admin.headers,
    )
    read = await client.get(f"/api/v1/contacts/{first['contact_id']}", headers=admin.headers)
    assert read.json()["attributes"]["phone"] == "+14155550333"
    history = await client.get(
        f"/api/v1/contacts/{first['contact_id']}/history",
        params={"key": "phone"},
        headers=admin.headers,
    )
    changes = [(h["old_value"], h["new_value"], h["source"]) for h in history.json()["items"]]
    assert changes == [
        ("+14155550111", "+14155550333", "platform"),
        (None, "+14155550111", "platform"),
    ]


async def test_the_history_has_every_linked_channel_newest_first_and_pages(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, whatsapp, sms = await _phone_workspace(client, db)
    webchat = await make_channel(db, admin, "webchat", "Web")
    tx = await make_conversation(client, admin, sms, "sms-4", phone="+14155550144")
    wa = await make_conversation(client, admin, whatsapp, "wa-4", phone="+14155550144")
    web = await make_conversation(client, admin, webchat, "web-4")
    await client.patch(
        f"/api/v1/contacts/{web['contact_id']}/attributes",
        json={"attributes": {"phone": "+1 415 555 0144"}},
        headers=admin.headers,
    )
    await make_conversation(client, admin, sms, "sms-other", phone="+14155550999")
    body = await _history(client, admin, wa["contact_id"])
    items = body["items"]
    assert [i["id"] for i in items] == [
        web["conversation_id"],
        wa["conversation_id"],
        tx["conversation_id"],
    ]
    assert [i["medium"] for i in items] == ["webchat", "whatsapp", "sms"]
    assert items[2]["channel_name"] == "SMS Support"
    assert items[2]["status"] == "new"
    assert items[2]["last_message_text"] == "Hello"
    assert items[1]["linked_because"] is None
    assert items[2]["linked_because"] == {"attribute": "phone", "value": "+14155550144"}
    first = await _history(client, admin, wa["contact_id"], limit=2)
    assert first["next_cursor"]
    rest = await _history(client, admin, wa["contact_id"], limit=2, cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in items]
    assert rest["next_cursor"] is None


async def test_the_history_never_shows_another_workspace(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, whatsapp, _sms = await _phone_workspace(client, db)
    other, other_wa, _ = await _phone_workspace(client, db)
    mine = await make_conversation(client, admin, whatsapp, "wa-5", phone="+14155550155")
    theirs = await make_conversation(client, other, other_wa, "wa-5", phone="+14155550155")
    body = await _history(client, admin, mine["contact_id"])
    assert [i["id"] for i in body["items"]] == [mine["conversation_id"]]
    for path in ("conversations", "links"):
        foreign = await client.get(
            f"/api/v1/contacts/{theirs['contact_id']}/{path}", headers=admin.headers
        )
        assert foreign.status_code == 404
    read = await client.get(f"/api/v1/contacts/{mine['contact_id']}", headers=admin.headers)
    assert read.json()["linked_contact_ids"] == []


async def test_each_card_names_the_real_author_of_its_last_message(
    client: httpx.AsyncClient, db: Database
) -> None:
    """An agent's "Ben here…" is shown as the agent's, not under the contact's name (R11.5)."""
    admin, whatsapp, sms = await _phone_workspace(client, db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    tx = await make_conversation(client, admin, sms, "sms-6", phone="+14155550166")
    wa = await make_conversation(client, admin, whatsapp, "wa-6", phone="+14155550166")
    reply = await client.post(
        f"/api/v1/conversations/{tx['conversation_id']}/messages",
        json={"text": "Ben here, it ships today"},
        headers=agent.headers,
    )
    assert reply.status_code == 201, reply.text
    items = {i["id"]: i for i in (await _history(client, agent, wa["contact_id"]))["items"]}
    answered = items[tx["conversation_id"]]
    assert answered["last_message_text"] == "Ben here, it ships today"
    assert answered["last_message_author"] == {
        "kind": "agent",
        "id": agent.user_id,
        "name": "Test agent",
    }
    mine = items[wa["conversation_id"]]
    assert mine["last_message_author"] == {
        "kind": "contact",
        "id": wa["contact_id"],
        "name": mine["contact_display_name"],
    }


async def test_the_contact_tabs_links_follow_the_matching_attribute_at_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    # The tab skips the link look-up while no matching attribute is set (kept per
    # configuration version): setting, clearing and setting it again shows at once.
    admin, whatsapp, sms = await _phone_workspace(client, db)
    wa = await make_conversation(client, admin, whatsapp, "wa-1", phone="+1 415 555 0100")
    tx = await make_conversation(client, admin, sms, "sms-1", phone="(415) 555-0100")

    async def links() -> list[str]:
        tab = await client.get(
            f"/api/v1/conversations/{wa['conversation_id']}/contact-tab", headers=admin.headers
        )
        assert tab.status_code == 200, tab.text
        found: list[str] = tab.json()["contact"]["linked_contact_ids"]
        return found

    assert await links() == [tx["contact_id"]]
    await _patch(client, admin, matching_attribute=None)
    assert await links() == []
    await _patch(client, admin, matching_attribute="phone")
    assert await links() == [tx["contact_id"]]

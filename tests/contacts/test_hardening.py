"""Hidden (disabled) attributes never reach agents: contacts, search, Contact tab, history."""

from __future__ import annotations

from typing import Any

import httpx

from builders import (
    Actor,
    make_attribute,
    make_channel,
    make_conversation,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role
from rolodex.db import Database


async def _get(client: httpx.AsyncClient, actor: Actor, path: str, **params: str) -> Any:
    response = await client.get(path, headers=actor.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _hidden_setup(
    client: httpx.AsyncClient, db: Database
) -> tuple[Actor, Actor, str, dict[str, str]]:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    chat = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Salary", key="salary")
    await make_attribute(client, admin, label="Company", key="company")
    # A first name, so that the display name is not the (hidden) email.
    sent = await make_conversation(
        client, admin, chat, "v1", email="ada@x.test", **{"first-name": "Ada"}
    )
    written = await client.patch(
        f"/api/v1/contacts/{sent['contact_id']}/attributes",
        json={"attributes": {"salary": "secret-pay", "company": "Initech"}},
        headers=admin.headers,
    )
    assert written.status_code == 200, written.text
    off = await client.patch(
        "/api/v1/attributes/salary", json={"enabled": False}, headers=admin.headers
    )
    assert off.status_code == 200, off.text
    on_channel = await client.patch(
        "/api/v1/attributes/webchat-email",
        json={"disabled_channel_ids": [chat]},
        headers=admin.headers,
    )
    assert on_channel.status_code == 200, on_channel.text
    return admin, agent, chat, sent


async def test_agents_never_see_a_hidden_attribute(client: httpx.AsyncClient, db: Database) -> None:
    _admin, agent, _, sent = await _hidden_setup(client, db)
    contact = sent["contact_id"]
    hidden = {"salary", "webchat-email"}

    history = await _get(client, agent, f"/api/v1/contacts/{contact}/history")
    keys = {h["key"] for h in history["items"]}
    assert "company" in keys
    assert hidden.isdisjoint(keys)
    one = await _get(client, agent, f"/api/v1/contacts/{contact}/history", key="salary")
    assert one["items"] == []

    read = await _get(client, agent, f"/api/v1/contacts/{contact}")
    assert hidden.isdisjoint(read["attributes"])
    assert read["attributes"]["company"] == "Initech"
    listed = await _get(client, agent, "/api/v1/contacts")
    assert all(hidden.isdisjoint(c["attributes"]) for c in listed["items"])
    assert (await _get(client, agent, "/api/v1/contacts", q="secret-pay"))["items"] == []
    assert (await _get(client, agent, "/api/v1/contacts", q="ada@x.test"))["items"] == []

    tab = await _get(client, agent, f"/api/v1/conversations/{sent['conversation_id']}/contact-tab")
    assert hidden.isdisjoint(tab["contact"]["attributes"])
    assert hidden.isdisjoint(a["key"] for a in tab["attributes"])

    definitions = await _get(client, agent, "/api/v1/attributes")
    assert "salary" not in {a["key"] for a in definitions}
    assert (await client.get("/api/v1/attributes/salary", headers=agent.headers)).status_code == 404


async def test_admins_still_see_hidden_attributes(client: httpx.AsyncClient, db: Database) -> None:
    admin, _, _, sent = await _hidden_setup(client, db)
    contact = sent["contact_id"]
    history = await _get(client, admin, f"/api/v1/contacts/{contact}/history")
    assert {"salary", "webchat-email", "company"} <= {h["key"] for h in history["items"]}
    read = await _get(client, admin, f"/api/v1/contacts/{contact}")
    assert read["attributes"]["salary"] == "secret-pay"
    assert read["attributes"]["webchat-email"] == "ada@x.test"
    found = await _get(client, admin, "/api/v1/contacts", q="secret-pay")
    assert [c["id"] for c in found["items"]] == [contact]
    assert "salary" in {a["key"] for a in await _get(client, admin, "/api/v1/attributes")}


async def test_a_platform_attribute_off_on_another_channel_stays_visible(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    chat = await make_channel(db, admin, "webchat", "Chat one")
    other = await make_channel(db, admin, "webchat", "Chat two")
    sent = await make_conversation(client, admin, chat, "v1", email="ada@x.test")
    off = await client.patch(
        "/api/v1/attributes/webchat-email",
        json={"disabled_channel_ids": [other]},
        headers=admin.headers,
    )
    assert off.status_code == 200, off.text
    history = await _get(client, agent, f"/api/v1/contacts/{sent['contact_id']}/history")
    assert "webchat-email" in {h["key"] for h in history["items"]}
    read = await _get(client, agent, f"/api/v1/contacts/{sent['contact_id']}")
    assert read["attributes"]["webchat-email"] == "ada@x.test"

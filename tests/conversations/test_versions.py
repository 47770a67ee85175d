"""Versions, ETag and If-Match (R12.3): conversations, replies and contact attributes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import update

from builders import (
    Actor,
    inbound_body,
    make_attribute,
    make_channel,
    make_conversation,
    make_integration,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role, TokenKind
from rolodex.db import Database
from rolodex.models import Conversation
from rolodex.routing import repository as routing


async def _get(client: httpx.AsyncClient, actor: Actor, path: str) -> httpx.Response:
    response = await client.get(path, headers=actor.headers)
    assert response.status_code == 200, response.text
    return response


def _with(actor: Actor, if_match: str) -> dict[str, str]:
    return {**actor.headers, "If-Match": if_match}


async def test_conversation_if_match(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    sent = await make_conversation(client, admin, channel)
    url = f"/api/v1/conversations/{sent['conversation_id']}"
    read = await _get(client, agent, url)
    version = read.json()["version"]
    assert read.headers["ETag"] == f'"{version}"'
    # Ana resolves with the version she read: 200, version + 1, the new ETag.
    resolved = await client.patch(
        url, json={"status": "resolved"}, headers=_with(admin, f'"{version}"')
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["version"] == version + 1
    assert resolved.headers["ETag"] == f'"{version + 1}"'
    # Ben assigns with the version he read before: 412 stale with the current conversation.
    stale = await client.patch(
        url, json={"assignee_id": agent.user_id}, headers=_with(agent, f'W/"{version}"')
    )
    assert stale.status_code == 412
    problem = stale.json()
    assert problem["code"] == "stale"
    assert problem["current"]["status"] == "resolved"
    assert problem["current"]["version"] == version + 1
    assert problem["current"]["events"]
    assert (await _get(client, agent, url)).json()["assignee_id"] is None
    # Bare numbers, a list and * are accepted; without If-Match it behaves as before.
    listed = _with(agent, f'"99", {version + 1}')
    ok = await client.patch(url, json={"assignee_id": agent.user_id}, headers=listed)
    assert ok.status_code == 200
    assert ok.json()["version"] == version + 2
    star = await client.patch(url, json={"team_id": None}, headers=_with(agent, "*"))
    assert star.status_code == 200
    assert star.json()["version"] == version + 2  # nothing changed: no bump
    plain = await client.patch(url, json={"status": "new"}, headers=agent.headers)
    assert plain.status_code == 200
    assert plain.json()["version"] == version + 3


async def test_malformed_if_match_is_422(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    sent = await make_conversation(client, admin, channel)
    url = f"/api/v1/conversations/{sent['conversation_id']}"
    for bad in ("abc", '"1', "1.5", '"-1"', "", "9" * 40):
        response = await client.patch(url, json={"status": "pending"}, headers=_with(admin, bad))
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "If-Match"
    attributes = f"/api/v1/contacts/{sent['contact_id']}/attributes"
    response = await client.patch(attributes, json={"attributes": {}}, headers=_with(admin, "x"))
    assert response.status_code == 422


async def test_reply_if_match(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    sent = await make_conversation(client, admin, channel)
    url = f"/api/v1/conversations/{sent['conversation_id']}"
    version = (await _get(client, agent, url)).json()["version"]
    await client.patch(url, json={"status": "resolved"}, headers=admin.headers)
    # Ben replies on his stale page: refused, nothing written, the current conversation shown.
    stale = await client.post(
        f"{url}/messages", json={"text": "Hi"}, headers=_with(agent, f'"{version}"')
    )
    assert stale.status_code == 412
    assert stale.json()["current"]["status"] == "resolved"
    messages = await _get(client, agent, f"{url}/messages")
    assert [m["direction"] for m in messages.json()["items"]] == ["inbound"]
    current = stale.json()["current"]["version"]
    sent_ok = await client.post(
        f"{url}/messages", json={"text": "Hi"}, headers=_with(agent, f'"{current}"')
    )
    assert sent_ok.status_code == 201, sent_ok.text
    after = (await _get(client, agent, url)).json()
    assert after["status"] == "pending"
    assert after["version"] == current + 1
    assert after["last_message"]["direction"] == "outbound"
    assert after["last_message"]["text"] == "Hi"
    # A reply to a conversation already pending changes nothing versioned.
    again = await client.post(
        f"{url}/messages", json={"text": "More"}, headers=_with(agent, f'"{current + 1}"')
    )
    assert again.status_code == 201
    assert (await _get(client, agent, url)).json()["version"] == current + 1


async def test_inbound_reopen_bumps_the_version(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    sent = await make_conversation(client, admin, channel, "v1")
    url = f"/api/v1/conversations/{sent['conversation_id']}"
    await client.post(f"{url}/messages", json={"text": "Hi"}, headers=admin.headers)
    pending = (await _get(client, admin, url)).json()
    assert pending["status"] == "pending"
    response = await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body("v1", text="Back again"),
        headers=admin.headers,
    )
    assert response.status_code == 201
    reopened = (await _get(client, admin, url)).json()
    assert reopened["status"] == "new"
    assert reopened["version"] == pending["version"] + 1
    assert reopened["last_message"] == {
        "text": "Back again",
        "direction": "inbound",
        "at": reopened["last_message_at"],
    }
    # A message into a conversation that is already new bumps nothing.
    await client.post(
        f"/api/v1/channels/{channel}/inbound", json=inbound_body("v1"), headers=admin.headers
    )
    assert (await _get(client, admin, url)).json()["version"] == reopened["version"]


async def _contact_version(client: httpx.AsyncClient, actor: Actor, contact_id: str) -> int:
    response = await _get(client, actor, f"/api/v1/contacts/{contact_id}")
    version = int(response.json()["version"])
    assert response.headers["ETag"] == f'"{version}"'
    return version


async def test_contact_attributes_if_match(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    await make_attribute(client, admin, label="Company", key="company")
    sent = await make_conversation(client, admin, channel)
    contact = sent["contact_id"]
    url = f"/api/v1/contacts/{contact}/attributes"
    version = await _contact_version(client, agent, contact)
    ok = await client.patch(
        url, json={"attributes": {"company": "Initech"}}, headers=_with(admin, f'"{version}"')
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == version + 1
    assert ok.headers["ETag"] == f'"{version + 1}"'
    stale = await client.patch(
        url, json={"attributes": {"company": "Acme"}}, headers=_with(agent, f'"{version}"')
    )
    assert stale.status_code == 412
    body: dict[str, Any] = stale.json()
    assert body["code"] == "stale"
    assert body["current"]["attributes"]["company"] == "Initech"
    assert body["current"]["version"] == version + 1
    assert (await _get(client, agent, f"/api/v1/contacts/{contact}")).json()["attributes"][
        "company"
    ] == "Initech"
    # The same value again changes nothing: no bump.
    same = await client.patch(
        url, json={"attributes": {"company": "Initech"}}, headers=_with(agent, f'"{version + 1}"')
    )
    assert same.status_code == 200
    assert same.json()["version"] == version + 1


async def test_contact_version_follows_every_source(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    await make_attribute(client, admin, label="Company", key="company")
    sent = await make_conversation(client, admin, channel, "v1", email="ada@x.test")
    contact = sent["contact_id"]
    start = await _contact_version(client, admin, contact)
    # The platform: a new value on an inbound message (and the display name it changes).
    await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body("v1", attributes={"first-name": "Ada"}),
        headers=admin.headers,
    )
    after_platform = await _contact_version(client, admin, contact)
    assert after_platform > start
    # The same platform values again: nothing changes, no bump.
    await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body("v1", attributes={"first-name": "Ada"}),
        headers=admin.headers,
    )
    assert await _contact_version(client, admin, contact) == after_platform
    # A bot and a CRM integration write through the API.
    for kind in (TokenKind.BOT, TokenKind.CRM):
        integration = await make_integration(db, admin.workspace_id, kind)
        before = await _contact_version(client, admin, contact)
        written = await client.patch(
            f"/api/v1/contacts/{contact}/attributes",
            json={"attributes": {"company": f"By {kind.value}"}},
            headers=integration.headers,
        )
        assert written.status_code == 200, written.text
        assert await _contact_version(client, admin, contact) == before + 1


async def test_contact_tab_carries_both_versions(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    sent = await make_conversation(client, admin, channel)
    conversation = f"/api/v1/conversations/{sent['conversation_id']}"
    await client.patch(conversation, json={"status": "pending"}, headers=admin.headers)
    tab = (await _get(client, admin, f"{conversation}/contact-tab")).json()
    assert (
        tab["conversation_version"] == (await _get(client, admin, conversation)).json()["version"]
    )
    assert tab["version"] == await _contact_version(client, admin, sent["contact_id"])
    assert tab["contact"]["version"] == tab["version"]


async def test_concurrent_changes_with_one_version(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agents = [await make_user(db, admin.workspace_id, Role.AGENT) for _ in range(4)]
    channel = await make_channel(db, admin)
    sent = await make_conversation(client, admin, channel)
    url = f"/api/v1/conversations/{sent['conversation_id']}"
    version = (await _get(client, admin, url)).json()["version"]
    # Each agent takes it with the version they all read: exactly one wins (the row lock).
    answers = await asyncio.gather(
        *(
            client.patch(url, json={"assignee_id": a.user_id}, headers=_with(a, f'"{version}"'))
            for a in agents
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 412, 412, 412]
    final = (await _get(client, admin, url)).json()
    assert final["version"] == version + 1
    [winner] = [r for r in answers if r.status_code == 200]
    assert final["assignee_id"] == winner.json()["assignee_id"]


async def test_any_writer_bumps_the_conversation_version(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin)
    sent = await make_conversation(client, admin, channel)
    url = f"/api/v1/conversations/{sent['conversation_id']}"
    team = await client.post("/api/v1/teams", json={"name": "Tier 1"}, headers=admin.headers)
    assert team.status_code == 201, team.text
    start = (await _get(client, admin, url)).json()["version"]
    # Routing moves it with a statement of its own (no ORM object, no conversations service).
    async with db.transaction() as session:
        await routing.set_team(
            session, admin.workspace_id, [sent["conversation_id"]], team.json()["id"]
        )
    assert (await _get(client, admin, url)).json()["version"] == start + 1
    # Any other statement that unassigns it (as a foreign key's SET NULL would).
    await client.patch(url, json={"assignee_id": agent.user_id}, headers=admin.headers)
    assigned = (await _get(client, admin, url)).json()["version"]
    async with db.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == sent["conversation_id"])
            .values(assignee_id=None, priority_score=7)
        )
    after = (await _get(client, admin, url)).json()
    assert after["assignee_id"] is None
    assert after["version"] == assigned + 1


async def test_concurrent_attribute_writes_with_one_version(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    await make_attribute(client, admin, label="Company", key="company")
    sent = await make_conversation(client, admin, channel)
    contact = sent["contact_id"]
    version = await _contact_version(client, admin, contact)
    answers = await asyncio.gather(
        *(
            client.patch(
                f"/api/v1/contacts/{contact}/attributes",
                json={"attributes": {"company": f"Company {i}"}},
                headers=_with(admin, f'"{version}"'),
            )
            for i in range(4)
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 412, 412, 412]
    assert await _contact_version(client, admin, contact) == version + 1

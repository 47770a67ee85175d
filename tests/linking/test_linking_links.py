"""Which contacts are linked, and why: read-time look-ups on normalised values (R3, B3)."""

from __future__ import annotations

from typing import Any

import httpx

from builders import Actor, make_attribute, make_channel, make_conversation, make_workspace
from rolodex.db import Database
from rolodex.plans import Plan
from rolodex.workspaces import service as workspaces


async def _patch(client: httpx.AsyncClient, actor: Actor, **body: Any) -> None:
    response = await client.patch("/api/v1/settings/contacts", json=body, headers=actor.headers)
    assert response.status_code == 200, response.text


async def _set(client: httpx.AsyncClient, actor: Actor, contact: str, **values: Any) -> None:
    response = await client.patch(
        f"/api/v1/contacts/{contact}/attributes",
        json={"attributes": values},
        headers=actor.headers,
    )
    assert response.status_code == 200, response.text


async def _linked(client: httpx.AsyncClient, actor: Actor, contact: str) -> list[str]:
    response = await client.get(f"/api/v1/contacts/{contact}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return sorted(response.json()["linked_contact_ids"])


async def _contacts(
    client: httpx.AsyncClient, db: Database, admin: Actor, *mediums: str
) -> list[str]:
    out = []
    for n, medium in enumerate(mediums):
        channel = await make_channel(db, admin, medium, f"{medium} {n}")
        out.append((await make_conversation(client, admin, channel, f"p{n}"))["contact_id"])
    return out


async def test_without_a_matching_attribute_nobody_is_linked(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Email", key="email", format="email")
    a, b = await _contacts(client, db, admin, "webchat", "sms")
    await _set(client, admin, a, email="ana@example.com")
    await _set(client, admin, b, email="ana@example.com")
    assert await _linked(client, admin, a) == []
    links = await client.get(f"/api/v1/contacts/{a}/links", headers=admin.headers)
    assert links.json() == []


async def test_twitter_users_are_one_contact_across_accounts_with_no_setting(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    one = await make_channel(db, admin, "twitter", "Support")
    two = await make_channel(db, admin, "twitter", "Sales")
    first = await make_conversation(client, admin, one, "tw-42")
    second = await make_conversation(client, admin, two, "tw-42")
    assert first["contact_id"] == second["contact_id"]
    history = await client.get(
        f"/api/v1/contacts/{first['contact_id']}/conversations", headers=admin.headers
    )
    ids = {c["id"] for c in history.json()["items"]}
    assert ids == {first["conversation_id"], second["conversation_id"]}


async def test_email_matching_is_case_insensitive_and_explained(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Email", key="email", format="email")
    await _patch(client, admin, matching_attribute="email")
    a, b, c = await _contacts(client, db, admin, "webchat", "sms", "whatsapp")
    await _set(client, admin, a, email="Ana@Example.com")
    await _set(client, admin, b, email="ana@example.com")
    await _set(client, admin, c, email="bob@example.com")
    assert await _linked(client, admin, a) == [b]
    assert await _linked(client, admin, b) == [a]
    assert await _linked(client, admin, c) == []
    links = await client.get(f"/api/v1/contacts/{a}/links", headers=admin.headers)
    assert links.status_code == 200, links.text
    (link,) = links.json()
    assert link["contact_id"] == b
    assert link["medium"] == "sms"
    assert link["reason"] == {"attribute": "email", "value": "ana@example.com"}


async def test_phone_matching_across_formats_with_the_workspace_region(
    client: httpx.AsyncClient, db: Database
) -> None:
    async with db.transaction() as session:
        created = await workspaces.create_workspace(
            session,
            name="Madrid",
            plan=Plan.TEAM,
            admin_email="admin@madrid.test",
            admin_password="correct-horse-battery",
            default_phone_region="ES",
        )
    admin = Actor(created.workspace_id, created.admin_user_id, "", created.token)
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    await _patch(client, admin, matching_attribute="phone")
    a, b = await _contacts(client, db, admin, "webchat", "email")
    await _set(client, admin, a, phone="+34 612 345 678")
    await _set(client, admin, b, phone="0034612345678")
    assert await _linked(client, admin, a) == [b]


async def test_changing_a_value_moves_the_link_and_clearing_the_setting_unlinks_everyone(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Customer", key="customer_id")
    await _patch(client, admin, matching_attribute="customer_id")
    a, b, c = await _contacts(client, db, admin, "webchat", "sms", "email")
    await _set(client, admin, a, customer_id="  C-1 ")
    await _set(client, admin, b, customer_id="c-1")
    await _set(client, admin, c, customer_id="C-2")
    assert await _linked(client, admin, a) == [b]
    await _set(client, admin, a, customer_id="C-2")
    assert await _linked(client, admin, a) == [c]
    assert await _linked(client, admin, b) == []
    await _set(client, admin, a, customer_id=None)
    assert await _linked(client, admin, a) == []
    await _set(client, admin, b, customer_id="C-2")
    assert await _linked(client, admin, c) == [b]
    await _patch(client, admin, matching_attribute=None)
    for contact in (a, b, c):
        assert await _linked(client, admin, contact) == []
    await _patch(client, admin, matching_attribute="customer_id")
    assert await _linked(client, admin, c) == [b]

"""Writing contact values: who may write what, validation, all-or-nothing, provenance, history."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from builders import (
    Actor,
    make_attribute,
    make_channel,
    make_conversation,
    make_integration,
    make_user,
    make_workspace,
)
from rolodex.auth import service as auth
from rolodex.auth.principals import Role, TokenKind
from rolodex.db import Database
from rolodex.models import AttributeHistory, AttributeValue
from rolodex.plans import Plan
from rolodex.workspaces import service as workspaces


async def _write(
    client: httpx.AsyncClient, actor: Actor, contact: str, values: dict[str, Any], **extra: Any
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/contacts/{contact}/attributes",
        json={"attributes": values, **extra},
        headers=actor.headers,
    )


async def _setup(client: httpx.AsyncClient, db: Database) -> tuple[Actor, Actor, str]:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    await make_attribute(client, admin, label="Work email", key="work_email", format="email")
    await make_attribute(client, admin, label="Seats", key="seats", format="number")
    await make_attribute(client, admin, label="Renewal", key="renewal", format="date")
    await make_attribute(client, admin, label="Site", key="site", format="url")
    await make_attribute(client, admin, label="Company", key="company")
    await make_attribute(
        client, admin, label="Tier", key="tier", type="dropdown", options=["Gold", "Silver"]
    )
    contact = (await make_conversation(client, admin, channel, "v1", email="a@x.test"))[
        "contact_id"
    ]
    return admin, agent, contact


async def _rows(db: Database, contact: str) -> tuple[dict[str, tuple[Any, ...]], int]:
    async with db.reader() as session:
        values = (
            await session.execute(
                select(AttributeValue).where(AttributeValue.contact_id == contact)
            )
        ).scalars()
        snapshot = {
            v.definition_id: (v.value, v.normalized, v.source, v.actor_id, v.updated_at)
            for v in values
        }
        history = (
            await session.execute(
                select(AttributeHistory.id).where(AttributeHistory.contact_id == contact)
            )
        ).all()
    return snapshot, len(history)


async def test_an_agent_writes_values_normalised_with_provenance_and_history(
    client: httpx.AsyncClient, db: Database
) -> None:
    _admin, agent, contact = await _setup(client, db)
    response = await _write(
        client,
        agent,
        contact,
        {
            "phone": "(415) 555-0123",
            "work_email": " Ada@Example.TEST ",
            "seats": "12.0",
            "renewal": "2025-03-01",
            "site": "https://acme.example/x",
            "company": "  Acme   Corp ",
            "tier": "gold",
        },
    )
    assert response.status_code == 200, response.text
    attributes = response.json()["attributes"]
    assert attributes["phone"] == "+14155550123"
    assert attributes["work_email"] == "Ada@Example.TEST"
    assert attributes["seats"] == "12"
    assert attributes["renewal"] == "2025-03-01"
    assert attributes["company"] == "Acme   Corp"
    assert attributes["tier"] == "Gold"  # the option as the admin spelled it
    async with db.reader() as session:
        rows = (await session.execute(select(AttributeValue))).scalars().all()
    by_value = {r.value: r for r in rows}
    assert by_value["Ada@Example.TEST"].normalized == "ada@example.test"
    assert by_value["Acme   Corp"].normalized == "acme corp"
    assert by_value["Gold"].source == "agent"
    assert by_value["Gold"].actor_id == agent.user_id
    history = await client.get(f"/api/v1/contacts/{contact}/history", headers=agent.headers)
    items = history.json()["items"]
    assert {(h["key"], h["old_value"], h["new_value"], h["source"]) for h in items} >= {
        ("tier", None, "Gold", "agent"),
        ("phone", None, "+14155550123", "agent"),
    }


async def test_an_agent_may_not_write_a_platform_attribute(
    client: httpx.AsyncClient, db: Database
) -> None:
    _, agent, contact = await _setup(client, db)
    before = await _rows(db, contact)
    response = await _write(client, agent, contact, {"webchat-email": "b@x.test", "company": "X"})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "attribute_write_forbidden"
    assert [e["field"] for e in body["errors"]] == ["attributes.webchat-email"]
    assert await _rows(db, contact) == before


async def test_bad_values_are_422_each_named(client: httpx.AsyncClient, db: Database) -> None:
    _, agent, contact = await _setup(client, db)
    response = await _write(
        client,
        agent,
        contact,
        {
            "phone": "call me maybe",
            "work_email": "not-an-email",
            "tier": "Bronze",
            "seats": "many",
            "renewal": "31/12/2024",
            "site": "ftp://x",
            "nope": "x",
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "attributes.phone",
        "attributes.work_email",
        "attributes.tier",
        "attributes.seats",
        "attributes.renewal",
        "attributes.site",
        "attributes.nope",
    }


async def test_a_mixed_write_with_one_bad_value_writes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    _, agent, contact = await _setup(client, db)
    assert (await _write(client, agent, contact, {"company": "Acme"})).status_code == 200
    before = await _rows(db, contact)
    response = await _write(client, agent, contact, {"company": "Globex", "phone": "12"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["attributes.phone"]
    assert await _rows(db, contact) == before
    read = await client.get(f"/api/v1/contacts/{contact}", headers=agent.headers)
    assert read.json()["attributes"]["company"] == "Acme"


async def test_null_and_empty_text_clear_with_history(
    client: httpx.AsyncClient, db: Database
) -> None:
    _, agent, contact = await _setup(client, db)
    await _write(client, agent, contact, {"company": "Acme", "tier": "Gold"})
    response = await _write(client, agent, contact, {"company": None, "tier": ""})
    assert response.status_code == 200
    assert "company" not in response.json()["attributes"]
    assert "tier" not in response.json()["attributes"]
    again = await _write(client, agent, contact, {"company": None})
    assert again.status_code == 200
    history = (
        await client.get(
            f"/api/v1/contacts/{contact}/history", params={"key": "company"}, headers=agent.headers
        )
    ).json()["items"]
    assert [(h["old_value"], h["new_value"]) for h in history] == [("Acme", None), (None, "Acme")]


async def test_crm_managed_values_are_for_the_crm_and_for_agents_only_when_allowed(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, agent, contact = await _setup(client, db)
    crm = await make_integration(db, admin.workspace_id, TokenKind.CRM)
    bot = await make_integration(db, admin.workspace_id, TokenKind.BOT)
    managed = await client.patch(
        "/api/v1/attributes/company", json={"crm_managed": True}, headers=admin.headers
    )
    assert managed.status_code == 200
    refused = await _write(client, agent, contact, {"company": "Acme"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "attributes.company"
    assert (await _write(client, admin, contact, {"company": "Acme"})).status_code == 403
    assert (await _write(client, bot, contact, {"company": "Acme"})).status_code == 403
    by_crm = await _write(client, crm, contact, {"company": "Acme"})
    assert by_crm.status_code == 200, by_crm.text
    async with db.transaction() as session:
        principal = await auth.authenticate(session, admin.token)
        assert principal is not None
        await workspaces.set_agents_can_edit_crm_managed(session, principal, True)
    allowed = await _write(client, agent, contact, {"company": "Globex"})
    assert allowed.status_code == 200
    assert allowed.json()["attributes"]["company"] == "Globex"
    assert (await _write(client, bot, contact, {"company": "Initech"})).status_code == 403
    history = (
        await client.get(
            f"/api/v1/contacts/{contact}/history", params={"key": "company"}, headers=agent.headers
        )
    ).json()["items"]
    assert [h["source"] for h in history] == ["agent", "crm"]


async def test_integrations_write_with_their_own_source(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, _agent, contact = await _setup(client, db)
    bot = await make_integration(db, admin.workspace_id, TokenKind.BOT)
    crm = await make_integration(db, admin.workspace_id, TokenKind.CRM)
    assert (await _write(client, bot, contact, {"company": "Bot Co"})).status_code == 200
    assert (await _write(client, crm, contact, {"tier": "Silver"})).status_code == 200
    assert (await _write(client, admin, contact, {"seats": 3})).status_code == 200
    # No body chooses the source: claiming `import` is refused for users and integrations.
    for actor in (admin, bot):
        refused = await _write(client, actor, contact, {"seats": 4}, source="import")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "source"
    async with db.reader() as session:
        rows = (await session.execute(select(AttributeValue))).scalars().all()
    sources = {r.value: (r.source, r.actor_kind, r.actor_id) for r in rows}
    assert sources["Bot Co"] == ("bot", "bot", bot.user_id)
    assert sources["Silver"] == ("crm", "crm", crm.user_id)
    assert sources["3"] == ("agent", "user", admin.user_id)
    assert sources["a@x.test"][0] == "platform"


async def test_vip_is_a_boolean_read_as_the_contacts_vip(
    client: httpx.AsyncClient, db: Database
) -> None:
    _, agent, contact = await _setup(client, db)
    marked = await _write(client, agent, contact, {"vip": True})
    assert marked.status_code == 200
    assert marked.json()["vip"] is True
    assert "vip" not in marked.json()["attributes"]
    assert (await _write(client, agent, contact, {"vip": "maybe"})).status_code == 422
    assert (await _write(client, agent, contact, {"vip": 7})).status_code == 422
    unmarked = await _write(client, agent, contact, {"vip": False})
    assert unmarked.json()["vip"] is False
    read = await client.get(f"/api/v1/contacts/{contact}", headers=agent.headers)
    assert read.json()["vip"] is False


async def test_vip_outside_enterprise_is_refused_with_the_plan(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, Plan.TEAM)
    channel = await make_channel(db, admin, "sms")
    contact = (await make_conversation(client, admin, channel, "s1"))["contact_id"]
    response = await _write(client, admin, contact, {"vip": True})
    assert response.status_code == 403
    assert response.json()["code"] == "plan_required"
    assert "Enterprise" in response.json()["detail"]


async def test_another_workspaces_contact_is_404(client: httpx.AsyncClient, db: Database) -> None:
    _, _, contact = await _setup(client, db)
    other = await make_workspace(db, name="Other")
    await make_attribute(client, other, label="Company", key="company")
    response = await _write(client, other, contact, {"company": "Evil"})
    assert response.status_code == 404
    history = await client.get(f"/api/v1/contacts/{contact}/history", headers=other.headers)
    assert history.status_code == 404


async def test_history_is_newest_first_and_paginated(
    client: httpx.AsyncClient, db: Database
) -> None:
    _, agent, contact = await _setup(client, db)
    for name in ("A", "B", "C"):
        assert (await _write(client, agent, contact, {"company": name})).status_code == 200
    url = f"/api/v1/contacts/{contact}/history"
    params = {"limit": 2, "key": "company"}
    first = (await client.get(url, params=params, headers=agent.headers)).json()
    assert [h["new_value"] for h in first["items"]] == ["C", "B"]
    assert set(first["items"][0]) == {
        "id",
        "key",
        "old_value",
        "new_value",
        "source",
        "actor_kind",
        "actor_id",
        "channel_id",
        "at",
    }
    rest = (
        await client.get(
            url, params={**params, "cursor": first["next_cursor"]}, headers=agent.headers
        )
    ).json()
    assert [h["new_value"] for h in rest["items"]] == ["A"]
    assert rest["next_cursor"] is None
    bad = await client.get(url, params={"cursor": "!!"}, headers=agent.headers)
    assert bad.status_code == 422

"""GET|PATCH /api/v1/settings/contacts: the attribute used for matching and the mappings (R3.3)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from builders import Actor, make_attribute, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.db import Database
from rolodex.models import AuditEvent


async def _patch(client: httpx.AsyncClient, actor: Actor, **body: Any) -> httpx.Response:
    return await client.patch("/api/v1/settings/contacts", json=body, headers=actor.headers)


async def test_settings_start_empty_and_an_admin_picks_a_custom_attribute(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Email", key="email", format="email")
    got = await client.get("/api/v1/settings/contacts", headers=admin.headers)
    assert got.status_code == 200, got.text
    assert got.json() == {"matching_attribute": None, "mappings": []}
    response = await _patch(client, admin, matching_attribute="email")
    assert response.status_code == 200, response.text
    assert response.json()["matching_attribute"] == "email"
    again = await client.get("/api/v1/settings/contacts", headers=admin.headers)
    assert again.json()["matching_attribute"] == "email"
    async with db.reader() as session:
        events = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.action == "contact_settings.updated")
            )
        ).scalars()
        (event,) = list(events)
    assert event.before is not None
    assert event.before["matching_attribute"] is None
    assert event.after is not None
    assert event.after["matching_attribute"] == "email"


async def test_only_custom_attributes_match_and_only_admins_change_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_channel(db, admin, "whatsapp")
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    for key in ("whatsapp-phone", "vip", "nope"):
        response = await _patch(client, admin, matching_attribute=key)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "matching_attribute"
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    refused = await _patch(client, agent, matching_attribute="phone")
    assert refused.status_code == 403
    readable = await client.get("/api/v1/settings/contacts", headers=agent.headers)
    assert readable.status_code == 200


async def test_mappings_are_validated_entry_by_entry(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    await make_attribute(client, admin, label="Email", key="email", format="email")
    good = [
        {"from": "whatsapp-phone", "to": "phone"},
        {"from": "sms-phone", "to": "phone"},
        {"from": "email-address", "to": "email"},
        {"from": "webchat-email", "to": "email"},
    ]
    response = await _patch(client, admin, mappings=good)
    assert response.status_code == 200, response.text
    assert response.json()["mappings"] == good
    bad = [
        {"from": "phone", "to": "phone"},
        {"from": "sms-phone", "to": "email"},
        {"from": "sms-phone", "to": "whatsapp-phone"},
    ]
    response = await _patch(client, admin, mappings=bad)
    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["mappings.0.from", "mappings.1.to", "mappings.2.to"]
    kept = await client.get("/api/v1/settings/contacts", headers=admin.headers)
    assert kept.json()["mappings"] == good
    cleared = await _patch(client, admin, mappings=[])
    assert cleared.json()["mappings"] == []


async def test_deleting_the_matching_attribute_clears_the_setting(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Email", key="email", format="email")
    await _patch(
        client,
        admin,
        matching_attribute="email",
        mappings=[{"from": "webchat-email", "to": "email"}],
    )
    deleted = await client.delete("/api/v1/attributes/email", headers=admin.headers)
    assert deleted.status_code == 204, deleted.text
    got = await client.get("/api/v1/settings/contacts", headers=admin.headers)
    assert got.json() == {"matching_attribute": None, "mappings": []}

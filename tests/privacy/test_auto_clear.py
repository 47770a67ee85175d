"""Automatic clearing of contact attributes N days after a resolve (R8, business and enterprise)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update

from builders import Actor, inbound_body, make_attribute, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import AuditEvent, Job
from rolodex.plans import Plan
from rolodex.privacy.autoclear import AUTO_CLEAR_JOB
from rolodex.worker import Worker


async def _setup(
    client: httpx.AsyncClient, db: Database, days: int = 7
) -> tuple[Actor, dict[str, str]]:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Country", key="country")
    saved = await client.patch(
        "/api/v1/settings/privacy", json={"auto_clear_days": days}, headers=admin.headers
    )
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"auto_clear_days": days}
    made = await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body("ana", attributes={"email": "ana@example.test"}),
        headers=admin.headers,
    )
    ids: dict[str, str] = made.json()
    written = await client.patch(
        f"/api/v1/contacts/{ids['contact_id']}/attributes",
        json={"attributes": {"country": "ES"}},
        headers=admin.headers,
    )
    assert written.status_code == 200
    return admin, ids


async def _status(
    client: httpx.AsyncClient, admin: Actor, ids: dict[str, str], status: str
) -> None:
    response = await client.patch(
        f"/api/v1/conversations/{ids['conversation_id']}",
        json={"status": status},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text


async def _values(client: httpx.AsyncClient, admin: Actor, ids: dict[str, str]) -> dict[str, str]:
    read = await client.get(f"/api/v1/contacts/{ids['contact_id']}", headers=admin.headers)
    values: dict[str, str] = read.json()["attributes"]
    return values


async def _let_days_pass(db: Database, days: float) -> None:
    """Move the queued timers (and the resolve they count from) `days` into the past."""
    async with db.transaction() as session:
        jobs = (await session.execute(select(Job).where(Job.kind == AUTO_CLEAR_JOB))).scalars()
        for job in jobs:
            resolved_at = datetime.fromisoformat(job.payload["resolved_at"]) - timedelta(days=days)
            await session.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(
                    payload={**job.payload, "resolved_at": resolved_at.isoformat()},
                    run_at=job.run_at - timedelta(days=days),
                )
            )


async def test_values_are_cleared_after_the_period_and_not_before(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, ids = await _setup(client, db, days=7)
    await _status(client, admin, ids, "resolved")
    worker = Worker(db, settings)
    await worker.run_until_idle()
    assert (await _values(client, admin, ids))["country"] == "ES"  # day 0
    await _let_days_pass(db, 6)
    await worker.run_until_idle()
    assert (await _values(client, admin, ids))["country"] == "ES"  # day 6
    await _let_days_pass(db, 1.01)
    assert await worker.run_until_idle() == 1
    values = await _values(client, admin, ids)
    assert values == {}  # platform (email) and agent (country) values alike
    definitions = await client.get("/api/v1/attributes", headers=admin.headers)
    assert "country" in [a["key"] for a in definitions.json()]
    history = await client.get(
        f"/api/v1/contacts/{ids['contact_id']}/history", headers=admin.headers
    )
    assert history.json()["items"] == []
    async with db.reader() as session:
        event = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.action == "contact.attributes_cleared")
            )
        ).scalar_one()
    assert event.target_id == ids["contact_id"]
    assert event.after == {"values": 3, "days": 7}  # webchat-user-id, webchat-email, country


async def test_a_conversation_reopened_in_time_keeps_the_values(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, ids = await _setup(client, db, days=7)
    await _status(client, admin, ids, "resolved")
    await _let_days_pass(db, 5)
    await _status(client, admin, ids, "new")  # the timer stops
    await _let_days_pass(db, 30)
    await Worker(db, settings).run_until_idle()
    assert (await _values(client, admin, ids))["country"] == "ES"
    # The next resolve starts a new timer of the full period.
    await _status(client, admin, ids, "resolved")
    await _let_days_pass(db, 7.01)
    await Worker(db, settings).run_until_idle()
    assert await _values(client, admin, ids) == {}


async def test_off_by_default_and_only_on_business_and_enterprise(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    assert (await client.get("/api/v1/settings/privacy", headers=admin.headers)).json() == {
        "auto_clear_days": None
    }
    team = await make_workspace(db, Plan.TEAM, name="Small")
    refused = await client.patch(
        "/api/v1/settings/privacy", json={"auto_clear_days": 30}, headers=team.headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "plan_required"
    business = await make_workspace(db, Plan.BUSINESS, name="Mid")
    ok = await client.patch(
        "/api/v1/settings/privacy", json={"auto_clear_days": 365}, headers=business.headers
    )
    assert ok.status_code == 200
    for bad in (0, 366, "soon"):
        response = await client.patch(
            "/api/v1/settings/privacy", json={"auto_clear_days": bad}, headers=admin.headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "auto_clear_days"
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    forbidden = await client.patch(
        "/api/v1/settings/privacy", json={"auto_clear_days": 30}, headers=agent.headers
    )
    assert forbidden.status_code == 403
    off = await client.patch(
        "/api/v1/settings/privacy", json={"auto_clear_days": None}, headers=admin.headers
    )
    assert off.json() == {"auto_clear_days": None}

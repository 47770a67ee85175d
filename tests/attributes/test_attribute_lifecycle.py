"""Definition life: renaming, options added and removed (409 / force), format changes in a job."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from builders import Actor, make_attribute, make_channel, make_conversation, make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import AttributeValue, AuditEvent, Job
from rolodex.worker import Worker


async def _people(client: httpx.AsyncClient, admin: Actor, channel: str, n: int) -> list[str]:
    return [
        (await make_conversation(client, admin, channel, f"p{i}"))["contact_id"] for i in range(n)
    ]


async def _set(
    client: httpx.AsyncClient, admin: Actor, contact: str, key: str, value: object
) -> None:
    response = await client.patch(
        f"/api/v1/contacts/{contact}/attributes",
        json={"attributes": {key: value}},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text


async def test_rename_and_add_options_keep_values(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    await make_attribute(
        client, admin, label="Tier", key="tier", type="dropdown", options=["Gold", "Silver"]
    )
    [contact] = await _people(client, admin, channel, 1)
    await _set(client, admin, contact, "tier", "Gold")
    response = await client.patch(
        "/api/v1/attributes/tier",
        json={"label": "Level", "options": ["Gold", "Silver", "Bronze"]},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert (response.json()["label"], response.json()["options"]) == (
        "Level",
        ["Gold", "Silver", "Bronze"],
    )
    await _set(client, admin, contact, "tier", "bronze")
    read = await client.get(f"/api/v1/contacts/{contact}", headers=admin.headers)
    assert read.json()["attributes"]["tier"] == "Bronze"
    one = await client.patch(
        "/api/v1/attributes/tier", json={"options": ["Gold"]}, headers=admin.headers
    )
    assert one.status_code == 422


async def test_removing_a_used_option_is_409_with_the_count_unless_forced(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    await make_attribute(
        client, admin, label="Tier", key="tier", type="dropdown", options=["Gold", "Silver", "Tin"]
    )
    a, b, c = await _people(client, admin, channel, 3)
    await _set(client, admin, a, "tier", "Gold")
    await _set(client, admin, b, "tier", "Gold")
    await _set(client, admin, c, "tier", "Silver")
    url = "/api/v1/attributes/tier"
    unused = await client.patch(url, json={"options": ["Gold", "Silver"]}, headers=admin.headers)
    assert unused.status_code == 200
    refused = await client.patch(url, json={"options": ["Silver", "Tin"]}, headers=admin.headers)
    assert refused.status_code == 409
    body = refused.json()
    assert (body["code"], body["count"], body["options"]) == ("option_in_use", 2, ["Gold"])
    assert "2 contacts" in body["detail"]
    assert (await client.get(url, headers=admin.headers)).json()["options"] == ["Gold", "Silver"]
    forced = await client.patch(
        url, params={"force": "true"}, json={"options": ["Silver", "Tin"]}, headers=admin.headers
    )
    assert forced.status_code == 200
    assert forced.json()["options"] == ["Silver", "Tin"]
    for contact, expected in ((a, None), (b, None), (c, "Silver")):
        read = await client.get(f"/api/v1/contacts/{contact}", headers=admin.headers)
        assert read.json()["attributes"].get("tier") == expected
    history = (
        await client.get(
            f"/api/v1/contacts/{a}/history", params={"key": "tier"}, headers=admin.headers
        )
    ).json()["items"]
    assert (history[0]["old_value"], history[0]["new_value"]) == ("Gold", None)
    async with db.reader() as session:
        event = (
            await session.execute(
                select(AuditEvent)
                .where(AuditEvent.action == "attribute.updated")
                .order_by(AuditEvent.id.desc())
                .limit(1)
            )
        ).scalar_one()
    assert event.after is not None
    assert event.after["values_cleared"] == 2


async def test_a_format_change_renormalises_in_a_job_and_reports_invalid_values(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    await make_attribute(client, admin, label="Mobile", key="mobile")
    a, b, c = await _people(client, admin, channel, 3)
    await _set(client, admin, a, "mobile", "(415) 555-0123")
    await _set(client, admin, b, "mobile", "ask the front desk")
    await _set(client, admin, c, "mobile", "+44 20 7946 0958")
    url = "/api/v1/attributes/mobile"
    changed = await client.patch(url, json={"format": "phone"}, headers=admin.headers)
    assert changed.status_code == 200
    assert changed.json()["format"] == "phone"
    async with db.reader() as session:
        kinds = (await session.execute(select(Job.kind))).scalars().all()
    assert kinds == ["attributes.renormalize"]
    assert await Worker(db, settings).run_until_idle() == 1
    detail = (await client.get(url, headers=admin.headers)).json()
    assert detail["invalid_values"] == 1
    assert detail["invalid_samples"] == [{"contact_id": b, "value": "ask the front desk"}]
    async with db.reader() as session:
        rows = (await session.execute(select(AttributeValue))).scalars().all()
        event = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.action == "attribute.renormalized")
            )
        ).scalar_one()
    by_contact = {r.contact_id: r for r in rows}
    assert (by_contact[a].value, by_contact[a].normalized) == ("+14155550123", "+14155550123")
    assert (by_contact[b].value, by_contact[b].invalid) == ("ask the front desk", True)
    assert by_contact[c].value == "+442079460958"
    assert event.after is not None
    assert (event.after["checked"], event.after["changed"], event.after["invalid"]) == (3, 2, 1)
    assert event.after["invalid_contact_ids"] == [b]
    history = (
        await client.get(
            f"/api/v1/contacts/{a}/history", params={"key": "mobile"}, headers=admin.headers
        )
    ).json()["items"]
    assert (history[0]["old_value"], history[0]["new_value"]) == ("(415) 555-0123", "+14155550123")
    assert history[0]["actor_kind"] == "system"
    # Writing a valid value clears the mark; the job re-run changes nothing.
    await _set(client, admin, b, "mobile", "415 555 0199")
    assert (await client.get(url, headers=admin.headers)).json()["invalid_values"] == 0


async def test_format_is_only_for_custom_text_fields(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_channel(db, admin, "sms")
    await make_attribute(client, admin, label="T", key="t", type="dropdown", options=["a", "b"])
    for key in ("t", "sms-phone", "vip"):
        response = await client.patch(
            f"/api/v1/attributes/{key}", json={"format": "email"}, headers=admin.headers
        )
        assert response.status_code == 422, key

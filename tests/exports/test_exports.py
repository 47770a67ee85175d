"""On-demand exports of contact attributes (R7, B6) over HTTP, on both databases."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from builders import Actor, inbound_body, make_attribute, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.exports.writer import neutralised
from rolodex.kit.clock import utcnow
from rolodex.models import AuditEvent, Export
from rolodex.plans import Plan
from rolodex.worker import Worker
from support.processes import run_cli


async def _workspace(client: httpx.AsyncClient, db: Database) -> tuple[Actor, str, str]:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin, "webchat", "Web chat")
    sms = await make_channel(db, admin, "sms", "SMS line")
    await make_attribute(client, admin, label="Country", key="country")
    await make_attribute(client, admin, label="Notes", key="notes")
    return admin, chat, sms


async def _contact(
    client: httpx.AsyncClient, admin: Actor, channel: str, sender: str, **values: Any
) -> str:
    made = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=inbound_body(sender), headers=admin.headers
    )
    assert made.status_code == 201, made.text
    contact: str = made.json()["contact_id"]
    if values:
        written = await client.patch(
            f"/api/v1/contacts/{contact}/attributes",
            json={"attributes": values},
            headers=admin.headers,
        )
        assert written.status_code == 200, written.text
    return contact


async def _export(
    client: httpx.AsyncClient, db: Database, settings: Settings, admin: Actor, **body: Any
) -> tuple[dict[str, Any], list[list[str]]]:
    created = await client.post(
        "/api/v1/exports", json={"type": "contact_attributes", **body}, headers=admin.headers
    )
    assert created.status_code == 202, created.text
    export = created.json()
    assert export["status"] == "queued"
    early = await client.get(f"/api/v1/exports/{export['id']}/download", headers=admin.headers)
    assert early.status_code == 409
    assert early.json()["code"] == "export_not_ready"
    await Worker(db, settings).run_until_idle()
    done = (await client.get(f"/api/v1/exports/{export['id']}", headers=admin.headers)).json()
    assert done["status"] == "done", done
    download = await client.get(done["download_url"], headers=admin.headers)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    return done, list(csv.reader(io.StringIO(download.content.decode("utf-8"), newline="")))


async def test_one_column_per_attribute_in_the_admins_order(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, chat, _ = await _workspace(client, db)
    order = await client.get("/api/v1/attributes", headers=admin.headers)
    keys = [a["key"] for a in order.json()]
    # The admin moves notes first.
    moved = ["notes", *[k for k in keys if k != "notes"]]
    assert (
        await client.put("/api/v1/attributes/order", json={"keys": moved}, headers=admin.headers)
    ).status_code == 200
    ana = await _contact(
        client, admin, chat, "ana", country="ES", notes='Says "hi", twice', vip=True
    )
    export, rows = await _export(client, db, settings, admin)
    header, *body = rows
    fixed = [
        "contact_id",
        "medium",
        "channel_id",
        "channel_name",
        "platform_user_id",
        "display_name",
        "created_at",
        "updated_at",
        "vip",
        "linked_contact_ids",
    ]
    assert header[:10] == fixed
    assert header[10:] == [k for k in moved if k != "vip"]
    assert export["progress"] == {"done": 1, "total": 1}
    (row,) = body
    cells = dict(zip(header, row, strict=True))
    assert cells["contact_id"] == ana
    assert cells["medium"] == "webchat"
    assert cells["channel_name"] == "Web chat"
    assert cells["vip"] == "true"
    assert cells["notes"] == 'Says "hi", twice'
    assert cells["country"] == "ES"
    assert cells["webchat-user-id"] == "ana"
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
    assert re.fullmatch(stamp, cells["created_at"]), cells["created_at"]
    assert re.fullmatch(stamp, cells["updated_at"]), cells["updated_at"]
    assert cells["updated_at"] > cells["created_at"]  # the values were written after


async def test_filters_and_chosen_attributes(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, chat, sms = await _workspace(client, db)
    ana = await _contact(client, admin, chat, "ana", country="ES", vip=True)
    ben = await _contact(client, admin, sms, "ben", country="FR")
    cy = await _contact(client, admin, chat, "cy", country="ES")
    group = {"name": "Spain", "rules": [{"attribute": "country", "operator": "is", "value": "es"}]}
    assert (
        await client.post("/api/v1/contact-groups", json=group, headers=admin.headers)
    ).status_code == 201

    async def ids(**body: Any) -> list[str]:
        _, rows = await _export(client, db, settings, admin, **body)
        return sorted(r[0] for r in rows[1:])

    assert await ids(filters={"channel_ids": [sms]}) == [ben]
    assert await ids(filters={"mediums": ["webchat"]}) == sorted([ana, cy])
    assert await ids(filters={"vip": True}) == [ana]
    assert await ids(filters={"vip": False}) == sorted([ben, cy])
    assert await ids(filters={"group": "spain"}) == sorted([ana, cy])
    later = (utcnow() + timedelta(hours=1)).isoformat()
    assert await ids(filters={"updated_from": later}) == []
    assert await ids(filters={"updated_to": later}) == sorted([ana, ben, cy])
    _, rows = await _export(client, db, settings, admin, attributes=["country"])
    assert rows[0][10:] == ["country"]
    bad = await client.post(
        "/api/v1/exports",
        json={
            "type": "contact_attributes",
            "attributes": ["country", "nope"],
            "filters": {"channel_ids": ["ch_missing"], "group": "nope"},
        },
        headers=admin.headers,
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"attributes.1", "filters.channel_ids.0", "filters.group"}
    assert (
        await client.post("/api/v1/exports", json={"type": "other"}, headers=admin.headers)
    ).status_code == 422


async def test_formula_injection_is_neutralised(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, chat, _ = await _workspace(client, db)
    # Values are trimmed when written, so a leading tab or CR is checked on the cell rule below.
    for n, evil in enumerate(('=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)")):
        await _contact(client, admin, chat, f"p{n}", notes=evil)
    _, rows = await _export(client, db, settings, admin, attributes=["notes"])
    notes = sorted(r[10] for r in rows[1:])
    assert all(cell.startswith("'") for cell in notes), notes
    assert '\'=HYPERLINK("http://x")' in notes
    cells = ("\tx", "\rx", "plain", "a=b")
    assert [neutralised(c) for c in cells] == ["'\tx", "'\rx", "plain", "a=b"]


async def test_plans_roles_and_workspaces(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    team = await make_workspace(db, Plan.TEAM, name="Small")
    refused = await client.post(
        "/api/v1/exports", json={"type": "contact_attributes"}, headers=team.headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "plan_required"
    assert "enterprise" in refused.json()["detail"].lower()
    admin, chat, _ = await _workspace(client, db)
    await _contact(client, admin, chat, "ana")
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    assert (
        await client.post(
            "/api/v1/exports", json={"type": "contact_attributes"}, headers=agent.headers
        )
    ).status_code == 403
    export, _ = await _export(client, db, settings, admin)
    other = await make_workspace(db, name="Other")
    for path in (f"/api/v1/exports/{export['id']}", f"/api/v1/exports/{export['id']}/download"):
        assert (await client.get(path, headers=other.headers)).status_code == 404
        assert (await client.get(path, headers=agent.headers)).status_code == 403
    listed = await client.get("/api/v1/exports", headers=admin.headers)
    assert [e["id"] for e in listed.json()["items"]] == [export["id"]]
    assert (await client.get("/api/v1/exports", headers=other.headers)).json()["items"] == []
    async with db.reader() as session:
        events = (
            await session.execute(
                AuditEvent.__table__.select().where(AuditEvent.action == "export.generated")
            )
        ).all()
    assert len(events) == 1
    assert events[0].after["rows"] == 1
    assert events[0].after["requested_by"] == admin.user_id


async def test_a_failing_export_ends_failed_with_its_reason(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, chat, _ = await _workspace(client, db)
    await _contact(client, admin, chat, "ana")
    # The export directory cannot be created: a file stands where it should be.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "exports").write_text("not a directory")
    created = await client.post(
        "/api/v1/exports", json={"type": "contact_attributes"}, headers=admin.headers
    )
    await Worker(db, settings).run_until_idle()
    failed = (
        await client.get(f"/api/v1/exports/{created.json()['id']}", headers=admin.headers)
    ).json()
    assert failed["status"] == "failed"
    assert "exports" in failed["error"]
    assert failed["download_url"] is None
    download = await client.get(f"/api/v1/exports/{failed['id']}/download", headers=admin.headers)
    assert download.status_code == 409


async def test_an_expired_export_answers_410_and_its_file_is_removed(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, chat, _ = await _workspace(client, db)
    await _contact(client, admin, chat, "ana")
    export, _ = await _export(client, db, settings, admin)
    path = settings.data_dir / "exports" / admin.workspace_id / f"{export['id']}.csv"
    assert path.exists()
    async with db.transaction() as session:
        await session.execute(
            update(Export)
            .where(Export.id == export["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    gone = await client.get(f"/api/v1/exports/{export['id']}/download", headers=admin.headers)
    assert gone.status_code == 410
    assert gone.json()["code"] == "export_expired"
    read = (await client.get(f"/api/v1/exports/{export['id']}", headers=admin.headers)).json()
    assert read["expired"] is True
    assert read["download_url"] is None
    from rolodex.models import Job

    async with db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.kind == "exports.expire")
            .values(run_at=utcnow() - timedelta(seconds=1))
        )
    await Worker(db, settings).run_until_idle()
    assert not path.exists()


async def test_the_command_line_writes_the_same_file(
    client: httpx.AsyncClient, db: Database, settings: Settings, tmp_path: Any
) -> None:
    admin, chat, _ = await _workspace(client, db)
    await _contact(client, admin, chat, "ana", country="ES")
    await _contact(client, admin, chat, "ben", country="FR")
    _, rows = await _export(client, db, settings, admin, attributes=["country"])
    out = tmp_path / "contacts.csv"
    result = run_cli(
        settings,
        "export",
        "contact-attributes",
        "--workspace",
        admin.workspace_id,
        "--out",
        str(out),
        "--attributes",
        "country",
    )
    assert result.returncode == 0, result.stderr
    assert "2 contacts written" in result.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        from_cli = list(csv.reader(handle))
    # Same rows, except updated_at, which the API export's own reads may not move.
    assert [r[:7] + r[8:] for r in from_cli] == [r[:7] + r[8:] for r in rows]
    bad = run_cli(
        settings,
        "export",
        "contact-attributes",
        "--workspace",
        admin.workspace_id,
        "--out",
        str(out),
        "--attributes",
        "nope",
    )
    assert bad.returncode == 1
    assert "attributes.0" in bad.stderr


async def test_linked_contacts_are_listed_by_the_matching_attribute(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, chat, sms = await _workspace(client, db)
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    matching = {"matching_attribute": "phone"}
    assert (
        await client.patch("/api/v1/settings/contacts", json=matching, headers=admin.headers)
    ).status_code == 200
    ana = await _contact(client, admin, chat, "ana", phone="+1 415 555 0100")
    ana_sms = await _contact(client, admin, sms, "ana-sms", phone="(415) 555-0100")
    ben = await _contact(client, admin, chat, "ben", phone="+1 415 555 0199")
    _, rows = await _export(client, db, settings, admin, attributes=["phone"])
    links = {r[0]: r[9] for r in rows[1:]}
    assert links == {ana: ana_sms, ana_sms: ana, ben: ""}

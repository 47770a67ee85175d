"""Deleting a contact (R8.1) and the deleted-contacts log (R8.2), over HTTP on both databases."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest
from sqlalchemy import JSON, String, Text, cast, func, or_, select, text

from builders import Actor, inbound_body, make_attribute, make_channel, make_user, make_workspace
from rolodex.auth import service as auth
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import Base
from rolodex.privacy import service
from rolodex.worker import Worker


def _file(sender: str) -> bytes:
    return b"%PDF-1.4 invoice for " + sender.encode()


async def _person(
    client: httpx.AsyncClient, admin: Actor, channel: str, sender: str, **attributes: str
) -> dict[str, str]:
    """A contact with a message and a file, values with history, groups, a resolved conversation."""
    files = [
        {
            "filename": "invoice.pdf",
            "content_type": "application/pdf",
            "content_base64": base64.b64encode(_file(sender)).decode(),
        }
    ]
    body = inbound_body(sender, attributes={"email": f"{sender}@example.test"}, attachments=files)
    made = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=body, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    ids: dict[str, str] = made.json()
    values = {"country": "ES", "vip": True, **attributes}
    path = f"/api/v1/contacts/{ids['contact_id']}/attributes"
    written = await client.patch(path, json={"attributes": values}, headers=admin.headers)
    assert written.status_code == 200, written.text
    resolved = await client.patch(
        f"/api/v1/conversations/{ids['conversation_id']}",
        json={"status": "resolved"},
        headers=admin.headers,
    )
    assert resolved.status_code == 200, resolved.text
    return ids


async def _setup(client: httpx.AsyncClient, db: Database) -> tuple[Actor, str]:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Country", key="country")
    group = {"name": "Spain", "rules": [{"attribute": "country", "operator": "is", "value": "es"}]}
    made = await client.post("/api/v1/contact-groups", json=group, headers=admin.headers)
    assert made.status_code == 201, made.text
    # With auto-clear on, resolving queues a job about the contact: deletion must take it too.
    auto = await client.patch(
        "/api/v1/settings/privacy", json={"auto_clear_days": 30}, headers=admin.headers
    )
    assert auto.status_code == 200, auto.text
    return admin, channel


async def _mentions(db: Database, needles: list[str]) -> dict[str, int]:
    """Rows of every table of the models whose text or JSON columns contain a needle."""
    found: dict[str, int] = {}
    async with db.reader() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            conditions = [cast(c, Text).contains(n) for c in columns for n in needles]
            stmt = select(func.count()).select_from(table).where(or_(*conditions))
            count = (await session.execute(stmt)).scalar_one()
            if count:
                found[table.name] = count
    return found


async def test_a_deleted_contact_leaves_no_row_and_no_file(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, channel = await _setup(client, db)
    gone = await _person(client, admin, channel, "ana")
    kept = await _person(client, admin, channel, "ben")
    sha = hashlib.sha256(_file("ana")).hexdigest()
    path = settings.data_dir / "attachments" / sha[:2] / sha
    assert path.exists()
    needles = [gone["contact_id"], gone["conversation_id"], gone["message_id"]]
    assert await _mentions(db, needles)  # the probe finds the rows before the delete

    deleted = await client.delete(
        f"/api/v1/contacts/{gone['contact_id']}",
        params={"hint": "Ana G., web chat, order 1234"},
        headers=admin.headers,
    )
    assert deleted.status_code == 204, deleted.text
    assert await _mentions(db, needles) == {}
    assert await Worker(db, settings).run_until_idle() >= 1
    assert not path.exists()
    # The other contact is untouched, its file too.
    other = hashlib.sha256(_file("ben")).hexdigest()
    assert (settings.data_dir / "attachments" / other[:2] / other).exists()
    read = await client.get(f"/api/v1/contacts/{kept['contact_id']}", headers=admin.headers)
    assert read.json()["attributes"]["country"] == "ES"
    assert (
        await client.get(f"/api/v1/contacts/{gone['contact_id']}", headers=admin.headers)
    ).status_code == 404


async def test_a_failure_mid_delete_leaves_everything_as_it_was(
    client: httpx.AsyncClient, db: Database, db_url: str
) -> None:
    admin, channel = await _setup(client, db)
    ana = await _person(client, admin, channel, "ana")
    before = await _mentions(db, [ana["contact_id"]])
    # A real database failure on the last statement of the delete (the contact row itself).
    async with db.transaction() as session:
        if db_url.startswith("sqlite"):
            await session.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE DELETE ON contacts "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )
        else:
            await session.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
                )
            )
            await session.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE DELETE ON contacts "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    try:
        principal = None
        async with db.reader() as session:
            principal = await auth.authenticate(session, admin.token)
        assert principal is not None
        with pytest.raises(Exception, match="injected failure"):
            async with db.transaction() as session:
                await service.delete_contact(session, principal, ana["contact_id"], hint="Ana")
        assert await _mentions(db, [ana["contact_id"]]) == before
        log = await client.get("/api/v1/privacy/deleted-contacts", headers=admin.headers)
        assert log.json() == []
    finally:
        async with db.transaction() as session:
            await session.execute(
                text(
                    "DROP TRIGGER refuse" + ("" if db_url.startswith("sqlite") else " ON contacts")
                )
            )
            if not db_url.startswith("sqlite"):
                await session.execute(text("DROP FUNCTION refuse()"))


async def test_only_admins_delete_and_only_their_workspaces_contacts(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, channel = await _setup(client, db)
    ana = await _person(client, admin, channel, "ana")
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    path = f"/api/v1/contacts/{ana['contact_id']}"
    refused = await client.delete(path, params={"hint": "Ana"}, headers=agent.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "admin_required"
    other = await make_workspace(db, name="Other")
    assert (
        await client.delete(path, params={"hint": "Ana"}, headers=other.headers)
    ).status_code == 404
    missing = await client.delete(path, headers=admin.headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "query.hint"
    blank = await client.delete(path, params={"hint": "   "}, headers=admin.headers)
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "query.hint"
    long = await client.delete(path, params={"hint": "x" * 101}, headers=admin.headers)
    assert long.status_code == 422
    assert (await client.get(path, headers=admin.headers)).status_code == 200


async def test_the_same_sender_writing_again_becomes_a_new_contact(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, channel = await _setup(client, db)
    ana = await _person(client, admin, channel, "ana")
    deleted = await client.delete(
        f"/api/v1/contacts/{ana['contact_id']}", params={"hint": "Ana"}, headers=admin.headers
    )
    assert deleted.status_code == 204
    again = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=inbound_body("ana"), headers=admin.headers
    )
    assert again.status_code == 201, again.text
    fresh = again.json()
    assert fresh["contact_id"] != ana["contact_id"]
    assert fresh["conversation_id"] != ana["conversation_id"]
    read = await client.get(f"/api/v1/contacts/{fresh['contact_id']}", headers=admin.headers)
    assert "country" not in read.json()["attributes"]
    history = await client.get(
        f"/api/v1/contacts/{fresh['contact_id']}/conversations", headers=admin.headers
    )
    assert [c["id"] for c in history.json()["items"]] == [fresh["conversation_id"]]


async def test_the_log_shows_hint_medium_date_and_admin_newest_first(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, channel = await _setup(client, db)
    people = [await _person(client, admin, channel, s) for s in ("ana", "ben", "cy")]
    for person, hint in zip(
        people, ("Ana G., order 1234", "Ben, refund", "Cy, order 99"), strict=True
    ):
        response = await client.delete(
            f"/api/v1/contacts/{person['contact_id']}", params={"hint": hint}, headers=admin.headers
        )
        assert response.status_code == 204
    log = await client.get("/api/v1/privacy/deleted-contacts", headers=admin.headers)
    assert log.status_code == 200
    entries = log.json()
    assert [e["hint"] for e in entries] == ["Cy, order 99", "Ben, refund", "Ana G., order 1234"]
    first = entries[0]
    assert first["medium"] == "webchat"
    assert first["deleted_at"]
    assert first["deleted_by"]["id"] == admin.user_id
    assert first["deleted_by"]["email"] == admin.email
    assert set(first) == {"id", "hint", "medium", "deleted_at", "deleted_by"}
    search = await client.get(
        "/api/v1/privacy/deleted-contacts", params={"q": "ORDER"}, headers=admin.headers
    )
    assert [e["hint"] for e in search.json()] == ["Cy, order 99", "Ana G., order 1234"]
    paged = await client.get(
        "/api/v1/privacy/deleted-contacts", params={"limit": 2}, headers=admin.headers
    )
    assert len(paged.json()) == 2
    rest = await client.get(
        "/api/v1/privacy/deleted-contacts",
        params={"limit": 2, "cursor": paged.headers["X-Next-Cursor"]},
        headers=admin.headers,
    )
    assert [e["hint"] for e in rest.json()] == ["Ana G., order 1234"]
    assert 'rel="next"' in paged.headers["Link"]
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    refused = await client.get("/api/v1/privacy/deleted-contacts", headers=agent.headers)
    assert refused.status_code == 403
    other = await make_workspace(db, name="Other")
    assert (
        await client.get("/api/v1/privacy/deleted-contacts", headers=other.headers)
    ).json() == []


async def test_include_linked_erases_the_person_on_every_channel(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, chat = await _setup(client, db)
    sms = await make_channel(db, admin, "sms")
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    patched = await client.patch(
        "/api/v1/settings/contacts", json={"matching_attribute": "phone"}, headers=admin.headers
    )
    assert patched.status_code == 200
    one = await _person(client, admin, chat, "ana", phone="+14155550100")
    two = await _person(client, admin, sms, "ana-sms", phone="+1 415 555 0100")
    response = await client.delete(
        f"/api/v1/contacts/{one['contact_id']}",
        params={"hint": "Ana, every channel", "include_linked": "true"},
        headers=admin.headers,
    )
    assert response.status_code == 204
    assert await _mentions(db, [one["contact_id"], two["contact_id"]]) == {}
    log = (await client.get("/api/v1/privacy/deleted-contacts", headers=admin.headers)).json()
    assert sorted(e["medium"] for e in log) == ["sms", "webchat"]

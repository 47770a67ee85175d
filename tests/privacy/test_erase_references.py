"""Erasing a person with the most linked contacts finds their jobs and audit rows by key."""

from __future__ import annotations

import httpx
from sqlalchemy import func, insert, select

from builders import Actor, inbound_body, make_attribute, make_channel, make_workspace
from rolodex.audit import service as audit
from rolodex.crm import triggers
from rolodex.db import Database
from rolodex.kit.ids import new_id
from rolodex.models import (
    AttributeValue,
    AuditEvent,
    AuditEventContact,
    Contact,
    DeletedContact,
    Job,
)
from rolodex.privacy.repository import ERASED
from rolodex.privacy.service import MAX_LINKED


async def _contact(client: httpx.AsyncClient, admin: Actor, channel: str, phone: str) -> str:
    made = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=inbound_body(phone), headers=admin.headers
    )
    assert made.status_code == 201, made.text
    contact_id = str(made.json()["contact_id"])
    path = f"/api/v1/contacts/{contact_id}/attributes"
    written = await client.patch(path, json={"attributes": {"phone": phone}}, headers=admin.headers)
    assert written.status_code == 200, written.text
    return contact_id


async def _clone_peers(db: Database, workspace_id: str, contact_id: str, n: int) -> list[str]:
    """n more contacts sharing the contact's matching value: all linked to it."""
    async with db.transaction() as session:
        contact = (
            await session.execute(select(Contact).where(Contact.id == contact_id))
        ).scalar_one()
        values = (
            (
                await session.execute(
                    select(AttributeValue).where(AttributeValue.contact_id == contact_id)
                )
            )
            .scalars()
            .all()
        )
        peers = [new_id("ct") for _ in range(n)]
        contact_cols = [c.key for c in Contact.__table__.columns]
        value_cols = [c.key for c in AttributeValue.__table__.columns]
        await session.execute(
            insert(Contact),
            [
                {
                    **{k: getattr(contact, k) for k in contact_cols},
                    "id": peer,
                    "platform_user_id": f"peer-{i}",
                }
                for i, peer in enumerate(peers)
            ],
        )
        await session.execute(
            insert(AttributeValue),
            [
                {**{k: getattr(v, k) for k in value_cols}, "contact_id": p}
                for p in peers
                for v in values
            ],
        )
    return peers


async def test_erasing_a_person_with_the_most_linked_contacts_takes_their_jobs_and_audit(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    ws = admin.workspace_id
    channel = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Phone", key="phone", format="phone")
    patched = await client.patch(
        "/api/v1/settings/contacts", json={"matching_attribute": "phone"}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    ana = await _contact(client, admin, channel, "+14155550100")
    other = await _contact(client, admin, channel, "+14155550199")
    peers = await _clone_peers(db, ws, ana, MAX_LINKED)
    person = [ana, *peers]
    # A job and an audit entry about every contact of the person, and about someone else;
    # one re-check report naming both.
    async with db.transaction() as session:
        for contact_id in [*person, other]:
            await triggers.enqueue_lookup(session, ws, contact_id, "test")
            await audit.record(
                session,
                None,
                "contact.attributes_cleared",
                workspace_id=ws,
                target_type="contact",
                target_id=contact_id,
                after={"values": 1},
                contact_ids=[contact_id],
            )
        named = [*person[:150], other]
        await audit.record(
            session,
            None,
            "attribute.renormalized",
            workspace_id=ws,
            target_type="attribute",
            target_id="phone",
            after={"invalid_contact_ids": named},
            contact_ids=named,
        )

    response = await client.delete(
        f"/api/v1/contacts/{ana}",
        params={"hint": "Ana, every channel", "include_linked": "true"},
        headers=admin.headers,
    )
    assert response.status_code == 204, response.text

    async with db.reader() as session:
        records = select(func.count()).where(DeletedContact.workspace_id == ws)
        assert (await session.execute(records)).scalar_one() == MAX_LINKED + 1
        contacts = select(Contact.id).where(Contact.workspace_id == ws)
        assert set((await session.execute(contacts)).scalars()) == {other}
        stmt = select(Job.contact_id, Job.payload).where(Job.workspace_id == ws)
        jobs = (await session.execute(stmt)).all()
        assert [c for c, _ in jobs if c is not None] == [other]
        assert all(p.get("contact_id") in (None, other) for _, p in jobs)
        events = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.target_id, AuditEvent.after).where(
                    AuditEvent.workspace_id == ws,
                    AuditEvent.target_type.in_(["contact", "attribute"]),
                )
            )
        ).all()
        cleared = [t for a, t, _ in events if a == "contact.attributes_cleared"]
        assert cleared == [other]
        [report] = [after for a, _, after in events if a == "attribute.renormalized"]
        assert report["invalid_contact_ids"] == [ERASED] * 150 + [other]
        refs = (
            await session.execute(
                select(AuditEventContact.contact_id, func.count())
                .where(AuditEventContact.workspace_id == ws)
                .group_by(AuditEventContact.contact_id)
            )
        ).all()
        assert refs == [(other, 2)]

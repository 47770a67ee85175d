"""Concurrent writers keep history, status events and positions correct (issue 14).

SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL runs these requests at once
(each has its own connection), so a read-then-write there needs a lock. Every test fires
its requests with asyncio.gather through the in-process client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import pytest
from sqlalchemy import Select, func, select

from builders import make_attribute, make_channel, make_conversation, make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import AttributeDefinition, AttributeHistory, ConversationEvent, Job
from support.crm import connect


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Loopback CRM targets allowed: the write-back test connects to one that never answers."""
    return settings.model_copy(update={"allow_private_webhook_targets": True})


def _assert_one_chain(rows: Sequence[tuple[str | None, str | None]], count: int) -> None:
    # Walk from the first write (old value None): each row must replace the previous one's
    # value; a lost update shows as two rows claiming the same old value.
    assert len(rows) == count
    by_old: dict[str | None, str | None] = {}
    for old, new in rows:
        assert old not in by_old, f"two writes both claim to replace {old!r}"
        by_old[old] = new
    seen, current = 0, None
    while current in by_old:
        current = by_old.pop(current)
        seen += 1
    assert seen == count, f"the history breaks after {seen} of {count} rows"


async def _history(db: Database, contact_id: str, key: str) -> list[tuple[str | None, str | None]]:
    async with db.reader() as session:
        stmt = (
            select(AttributeHistory.old_value, AttributeHistory.new_value)
            .join(AttributeDefinition, AttributeDefinition.id == AttributeHistory.definition_id)
            .where(AttributeHistory.contact_id == contact_id, AttributeDefinition.key == key)
            .order_by(AttributeHistory.at, AttributeHistory.id)
        )
        return [(old, new) for old, new in await session.execute(stmt)]


async def test_concurrent_value_writes_keep_one_unbroken_history(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin)
    contact_id = (await make_conversation(client, admin, channel_id))["contact_id"]
    await make_attribute(client, admin, label="Note", key="note")
    path = f"/api/v1/contacts/{contact_id}/attributes"

    async def write(i: int) -> None:
        body = {"attributes": {"note": f"value {i}"}}
        response = await client.patch(path, json=body, headers=admin.headers)
        assert response.status_code == 200, response.text

    # The first write finds no value row: concurrent inserts of it must serialise too.
    await asyncio.gather(*(write(i) for i in range(50)))

    rows = await _history(db, contact_id, "note")
    _assert_one_chain(rows, 50)
    # In time order as well: each row's old value is the previous row's new value.
    assert [old for old, _ in rows] == [None, *(new for _, new in rows[:-1])]
    final = await client.get(f"/api/v1/contacts/{contact_id}", headers=admin.headers)
    assert final.json()["attributes"]["note"] == rows[-1][1]


async def test_concurrent_inbound_platform_values_keep_one_unbroken_history(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin)
    # The first messages race to create the contact as well as its values.
    sent = await asyncio.gather(
        *(
            make_conversation(client, admin, channel_id, "racer", **{"page-title": f"page {i}"})
            for i in range(20)
        )
    )
    assert len({s["contact_id"] for s in sent}) == 1
    _assert_one_chain(await _history(db, sent[0]["contact_id"], "webchat-page-title"), 20)


async def _count(db: Database, stmt: Select[tuple[int]]) -> int:
    async with db.reader() as session:
        return int((await session.execute(stmt)).scalar_one())


async def test_concurrent_resolves_record_one_status_change_and_one_write_back(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin)
    # Write-backs are only enqueued (no worker runs), so the CRM need not answer.
    await connect(client, admin, "http://127.0.0.1:9")
    conversation_id = (await make_conversation(client, admin, channel_id))["conversation_id"]

    async def resolve() -> None:
        response = await client.patch(
            f"/api/v1/conversations/{conversation_id}",
            json={"status": "resolved"},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "resolved"

    await asyncio.gather(*(resolve() for _ in range(10)))

    status_events = select(func.count()).where(
        ConversationEvent.conversation_id == conversation_id, ConversationEvent.kind == "status"
    )
    assert await _count(db, status_events) == 1
    write_backs = select(func.count()).where(
        Job.kind == "crm.write_back", Job.workspace_id == admin.workspace_id
    )
    assert await _count(db, write_backs) == 1


async def test_concurrent_assignments_record_one_event(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin)
    conversation_id = (await make_conversation(client, admin, channel_id))["conversation_id"]

    async def assign() -> None:
        response = await client.patch(
            f"/api/v1/conversations/{conversation_id}",
            json={"assignee_id": admin.user_id},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text

    await asyncio.gather(*(assign() for _ in range(10)))

    events = select(func.count()).where(
        ConversationEvent.conversation_id == conversation_id, ConversationEvent.kind == "assignee"
    )
    assert await _count(db, events) == 1


async def test_concurrent_creates_get_distinct_positions(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await asyncio.gather(
        *(make_attribute(client, admin, label=f"Field {i}", key=f"field_{i}") for i in range(20))
    )
    response = await client.get("/api/v1/attributes", headers=admin.headers)
    positions = [a["position"] for a in response.json()]
    assert len(positions) == len(set(positions)), sorted(positions)

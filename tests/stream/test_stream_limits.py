"""Limits: a slow stream client is disconnected (its queue is bounded) and resumes; idle
streams get a heartbeat."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from builders import make_workspace
from rolodex.config import Settings
from rolodex.contacts.events import ContactDeleted
from rolodex.db import Database
from rolodex.kit.events import emit


@pytest.fixture
def stream_settings(settings: Settings) -> Settings:
    """Queues of three events, a heartbeat every 0.2 s."""
    return settings.model_copy(update={"stream_queue_size": 3, "stream_ping_seconds": 0.2})


async def _deleted(db: Database, workspace_id: str, count: int) -> list[str]:
    ids = [f"ct_gone{n:05d}" for n in range(count)]
    async with db.transaction() as session:
        for contact_id in ids:
            await emit(
                session,
                ContactDeleted(
                    workspace_id=workspace_id, contact_id=contact_id, hint="", medium="x"
                ),
            )
    return ids


async def test_a_client_that_falls_behind_is_disconnected_and_resumes(
    db: Database, streams: Any, live: Any
) -> None:
    admin = await make_workspace(db)
    stream = await streams(admin.headers)
    await _deleted(db, admin.workspace_id, 1)
    last = await stream.next()
    # Ten events at once into a queue of three: the client is dropped, not waited for.
    ids = await _deleted(db, admin.workspace_id, 10)
    with pytest.raises(EOFError):
        await stream.until("never")
    deadline = time.monotonic() + 5
    while live.app.state.stream.client_count() != 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    # It reconnects with the last id it had and gets what it missed.
    resumed = await streams(admin.headers, last_event_id=last.id)
    assert [(await resumed.next()).data["contact_id"] for _ in ids] == ids


async def test_an_idle_stream_gets_a_heartbeat(db: Database, streams: Any) -> None:
    admin = await make_workspace(db)
    stream = await streams(admin.headers)
    assert await stream.comment(timeout=5) == ": ping"

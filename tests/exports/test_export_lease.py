"""An export that takes longer than its job's lease renews it: claimed once, finished once."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx
import pytest
from sqlalchemy import select

from builders import inbound_body, make_channel, make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.exports import jobs as export_jobs
from rolodex.exports import writer
from rolodex.exports.service import EXPORT_JOB
from rolodex.jobs.registry import JobContext
from rolodex.models import Job
from rolodex.worker import Worker

CONTACTS = 20
BATCH = 2
LEASE = 2.0
PAUSE = 0.3  # after each of the 11 progress reports: the export outlasts its lease


async def test_an_export_longer_than_its_lease_is_claimed_once_and_finishes_once(
    client: httpx.AsyncClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin, "webchat")
    for n in range(CONTACTS):
        made = await client.post(
            f"/api/v1/channels/{chat}/inbound", json=inbound_body(f"p{n}"), headers=admin.headers
        )
        assert made.status_code == 201, made.text
    created = await client.post(
        "/api/v1/exports", json={"type": "contact_attributes"}, headers=admin.headers
    )
    assert created.status_code == 202, created.text
    export_id = created.json()["id"]
    # Small batches, each slow: the whole export lasts longer than the lease.
    monkeypatch.setattr(writer, "BATCH", BATCH)
    report = export_jobs._progress

    async def slow_progress(ctx: JobContext, export: str, done: int, total: int) -> None:
        await report(ctx, export, done, total)
        await asyncio.sleep(PAUSE)

    monkeypatch.setattr(export_jobs, "_progress", slow_progress)
    leased = settings.model_copy(update={"export_job_lease_seconds": LEASE})
    first, rival = Worker(db, leased), Worker(db, leased)
    finished = asyncio.Event()
    rival_runs = 0

    async def run() -> int:
        try:
            return await first.run_once()
        finally:
            finished.set()

    async def claimed() -> bool:
        async with db.reader() as session:
            stmt = select(Job.status).where(Job.ref == export_id, Job.kind == EXPORT_JOB)
            return (await session.execute(stmt)).scalar_one() != "queued"

    async def poll() -> None:
        # A second worker looks for due jobs all along, as another process would, once the
        # first has claimed the export (under load the rival could otherwise claim it first).
        nonlocal rival_runs
        while not finished.is_set():
            if await claimed():
                break
            await asyncio.sleep(0.02)
        while not finished.is_set():
            rival_runs += await rival.run_once()
            await asyncio.sleep(0.2)

    loop = asyncio.get_running_loop()
    started = loop.time()
    ran, _ = await asyncio.gather(run(), poll())
    assert loop.time() - started > LEASE * 1.2
    assert (ran, rival_runs) == (1, 0)

    async with db.reader() as session:
        stmt = select(Job).where(Job.ref == export_id, Job.kind == EXPORT_JOB)
        job = (await session.execute(stmt)).scalar_one()
    assert (job.status, job.attempts, job.last_error) == ("done", 1, None)
    done = (await client.get(f"/api/v1/exports/{export_id}", headers=admin.headers)).json()
    assert done["status"] == "done", done
    assert done["progress"] == {"done": CONTACTS, "total": CONTACTS}
    download = await client.get(done["download_url"], headers=admin.headers)
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8"), newline="")))
    assert len(rows) == CONTACTS + 1
    assert len({r[0] for r in rows[1:]}) == CONTACTS

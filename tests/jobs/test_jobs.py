"""The jobs outbox: transactional enqueue, retries with backoff, leases, concurrent workers."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from builders import make_workspace
from rolodex.config import Settings
from rolodex.db import Database, open_database
from rolodex.jobs import service
from rolodex.kit.clock import utcnow
from rolodex.models import Job
from rolodex.worker import Worker
from support.processes import run_cli, spawn_cli


async def _jobs(db: Database) -> list[Job]:
    async with db.reader() as session:
        return list((await session.execute(select(Job).order_by(Job.id))).scalars())


async def _enqueue(db: Database, kind: str, payload: dict[str, object], **kw: object) -> str:
    async with db.transaction() as session:
        return await service.enqueue(session, kind, payload, **kw)  # type: ignore[arg-type]


async def test_job_of_a_rolled_back_transaction_never_runs(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"

    async def failing_request() -> None:
        async with db.transaction() as session:
            await service.enqueue(session, "test.record", {"path": str(out)})
            raise RuntimeError("the request failed after enqueueing")

    with pytest.raises(RuntimeError):
        await failing_request()
    assert await Worker(db, settings).run_until_idle() == 0
    assert await _jobs(db) == []
    assert not out.exists()


async def test_committed_job_runs_once_and_idempotency_key_dedupes(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"
    first = await _enqueue(db, "test.record", {"path": str(out)}, idempotency_key="k-1")
    await _enqueue(db, "test.record", {"path": str(out)}, idempotency_key="k-1")
    assert await Worker(db, settings).run_until_idle() == 1
    assert out.read_text().split() == [first]
    (job,) = await _jobs(db)
    assert (job.status, job.attempts, job.finished_at is not None) == ("done", 1, True)


async def _make_due(db: Database, job_id: str) -> None:
    # Moves the clock instead of sleeping through the backoff.
    async with db.transaction() as session:
        await session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))


async def test_a_retry_waits_for_the_time_the_failure_names(
    db: Database, settings: Settings
) -> None:
    """A handler's `not_before` (X's x-rate-limit-reset) delays the retry past the backoff,
    but never more than an hour."""
    for ahead, expected in ((timedelta(minutes=10), 600), (timedelta(days=2), 3600)):
        not_before = utcnow() + ahead
        job_id = await _enqueue(db, "test.rate_limited", {"not_before": not_before.isoformat()})
        before = utcnow()
        assert await Worker(db, settings).run_once() == 1
        job = next(j for j in await _jobs(db) if j.id == job_id)
        assert job.status == "queued"
        waited = (job.run_at - before).total_seconds()
        assert expected - 2 <= waited <= expected + 2


async def test_failing_job_backs_off_then_ends_failed_and_is_listed(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    admin = await make_workspace(db)
    job_id = await _enqueue(db, "test.fail", {}, workspace_id=admin.workspace_id)
    worker = Worker(db, settings)
    expected_delays = [1, 2]
    for attempt, delay in enumerate(expected_delays, start=1):
        before = utcnow()
        assert await worker.run_once() == 1
        (job,) = await _jobs(db)
        assert (job.status, job.attempts) == ("queued", attempt)
        assert f"boom on attempt {attempt}" in (job.last_error or "")
        waited = job.run_at - before
        assert timedelta(seconds=delay) <= waited < timedelta(seconds=delay + 2)
        assert await worker.run_once() == 0, "not due before its backoff"
        await _make_due(db, job_id)
    assert await worker.run_once() == 1
    (job,) = await _jobs(db)
    assert (job.status, job.attempts) == ("failed", 3)

    listed = await client.get("/api/v1/jobs?status=failed", headers=admin.headers)
    assert [j["id"] for j in listed.json()["items"]] == [job_id]
    cli = run_cli(settings, "jobs", "list", "--failed", "--json")
    assert cli.returncode == 0, cli.stderr
    assert [j["id"] for j in json.loads(cli.stdout)] == [job_id]

    retried = await client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin.headers)
    assert retried.json()["status"] == "queued"
    again = await client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin.headers)
    assert again.status_code == 409


async def _wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.slow
async def test_job_of_a_killed_worker_runs_again_after_its_lease(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    started = tmp_path / "started.txt"
    job_id = await _enqueue(db, "test.sleep", {"started": str(started)})
    process = spawn_cli(settings, "worker")
    try:
        await _wait_for(lambda: started.exists() and started.read_text() == "1\n", 30)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    (job,) = await _jobs(db)
    assert job.status == "running", "the killed worker left its job leased"
    worker = Worker(db, settings)
    assert await worker.run_once() == 0, "not taken again while the lease holds"
    assert job.lease_until is not None
    await _wait_for(lambda: utcnow() > job.lease_until, 10)  # type: ignore[operator]
    assert await worker.run_once() == 1
    (job,) = await _jobs(db)
    assert (job.id, job.status, job.attempts) == (job_id, "done", 2)
    assert started.read_text() == "1\n2\n"


async def test_two_workers_never_run_the_same_job(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"
    ids = set()
    async with db.transaction() as session:
        for _ in range(40):
            ids.add(await service.enqueue(session, "test.record", {"path": str(out), "hold": 0.02}))
    second = open_database(settings.resolved_database_url())
    try:
        one, two = Worker(db, settings, concurrency=4), Worker(second, settings, concurrency=4)
        counts = await asyncio.gather(one.run_until_idle(), two.run_until_idle())
    finally:
        await second.dispose()
    ran = out.read_text().split()
    assert sorted(ran) == sorted(ids), "every job ran exactly once"
    assert sum(counts) == 40
    assert {j.status for j in await _jobs(db)} == {"done"}


async def test_embedded_worker_starts_a_job_as_soon_as_it_is_committed(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    settings.worker_poll_seconds = 60  # so only the commit's wake-up can explain a prompt start
    out = tmp_path / "ran.txt"
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(db, settings).run_forever(stop))
    try:
        await asyncio.sleep(0.2)
        await _enqueue(db, "test.record", {"path": str(out)})
        await _wait_for(out.exists, 5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)

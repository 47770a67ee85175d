"""`rolodex serve --workers 2` on PostgreSQL: one process runs the jobs (it holds the worker
lock), and a job enqueued by either process runs at once, not at the next poll."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from rolodex.config import Settings
from rolodex.db import Database
from rolodex.jobs import service
from rolodex.worker import ELECTION_KEY
from support.live import free_port, wait_started
from support.processes import spawn_cli


async def _holders(db: Database) -> int:
    async with db.reader() as session:
        found = await session.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = :key"
            ),
            {"key": ELECTION_KEY},
        )
        return int(found.scalar_one())


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_one_process_of_the_deployment_runs_the_jobs(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    port = free_port()
    # A slow poll: a job that starts quickly was woken, not found by polling.
    process = spawn_cli(
        settings, "serve", "--workers", "2", "--port", str(port), ROLODEX_WORKER_POLL_SECONDS="30"
    )
    try:
        await wait_started(f"http://127.0.0.1:{port}", process)
        for _ in range(100):
            if await _holders(db):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # the other process has tried too by now
        assert await _holders(db) == 1

        # Enqueued from outside (as the CLI or another process would): NOTIFY wakes the worker.
        out = tmp_path / "ran.txt"
        service.notify_other_processes()
        async with db.transaction() as session:
            await service.enqueue(session, "test.record", {"path": str(out)})
        started = time.monotonic()
        while not out.exists():
            assert time.monotonic() - started < 5, "the elected worker did not run the job"
            await asyncio.sleep(0.05)
    finally:
        service.notify_other_processes(False)
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

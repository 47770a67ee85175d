"""The job runner: claims due jobs with a lease and runs them, in-process or standalone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from datetime import datetime

import psycopg
from sqlalchemy.engine import make_url

from rolodex.channels import intake
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.jobs import service
from rolodex.jobs.registry import JobContext, LeaseLost
from rolodex.jobs.service import Claimed

log = logging.getLogger(__name__)


class Worker:
    """Runs jobs with bounded concurrency; any number of workers may share a PostgreSQL database."""

    def __init__(self, db: Database, settings: Settings, *, concurrency: int | None = None) -> None:
        self.db = db
        self.settings = settings
        self.concurrency = concurrency or settings.worker_concurrency
        self._wake = asyncio.Event()
        # Platform deliveries (webhook_events) wake the intake loop; it runs beside the jobs.
        self._intake_wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Look for due jobs now (another process enqueued some)."""
        self._on_enqueue()

    def _on_enqueue(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)
            self._loop.call_soon_threadsafe(self._intake_wake.set)

    async def _claim(self, limit: int) -> list[Claimed]:
        async with self.db.transaction() as session:
            return await service.claim(session, limit, self.settings)

    async def _execute(self, job: Claimed) -> None:
        lease = job.spec.schedule(self.settings)[1]
        ctx = JobContext(
            job.id,
            job.kind,
            job.attempt,
            job.workspace_id,
            job.payload,
            self.db,
            self.settings,
            lease,
        )
        # Stop before the lease runs out, so that no other worker takes it while this one runs;
        # a handler that renews its lease (ctx.renew_lease) moves this deadline with it.
        timeout = max(lease.total_seconds() - 1.0, 0.5)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout) as deadline:
                ctx.on_renew = lambda: deadline.reschedule(loop.time() + timeout)
                await job.spec.handler(ctx)
        except LeaseLost:
            # Another worker runs it now and records its outcome; this attempt's is void.
            log.warning("job %s (%s) attempt %s lost its lease", job.id, job.kind, job.attempt)
            return
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            if isinstance(exc, TimeoutError):
                detail = f"timed out after {timeout:.0f}s"
            log.warning("job %s (%s) attempt %s failed: %s", job.id, job.kind, job.attempt, detail)
            # A handler may say when to try again (a platform's rate-limit reset).
            not_before = getattr(exc, "not_before", None)
            async with self.db.transaction() as session:
                await service.mark_failed_attempt(
                    session,
                    job,
                    detail,
                    self.settings,
                    not_before if isinstance(not_before, datetime) else None,
                )
            return
        async with self.db.transaction() as session:
            if not await service.mark_done(session, job):
                log.warning("job %s finished after its lease was taken over", job.id)

    async def run_once(self) -> int:
        """Process pending platform deliveries, then claim the jobs due now (up to the
        concurrency) and run them; returns how many deliveries and jobs ran."""
        processed = await self.drain_intake()
        jobs = await self._claim(self.concurrency)
        await asyncio.gather(*(self._execute(job) for job in jobs))
        return processed + len(jobs)

    async def drain_intake(self) -> int:
        """Process platform deliveries until none is pending; returns how many."""
        total = 0
        while processed := await intake.drain(self.db, self.settings):
            total += processed
        return total

    async def _intake_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._intake_wake.clear()
            try:
                await self.drain_intake()
            except Exception:
                # A database hiccup must not stop the intake; the next wake or poll retries.
                log.exception("processing webhook deliveries failed")
            if stop.is_set():
                break
            await self._nap(self._intake_wake, stop)

    async def _nap(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        # Until woken, stopped, or the poll interval has passed (other processes' work).
        waiters = [asyncio.create_task(wake.wait()), asyncio.create_task(stop.wait())]
        await asyncio.wait(
            waiters, timeout=self.settings.worker_poll_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in waiters:
            waiter.cancel()

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Run rounds until nothing is due (tests and the CLI use it); returns jobs run."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_once()
            if ran == 0:
                break
            total += ran
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run due jobs until `stop` is set; a commit here that enqueues one wakes it at once."""
        self._loop = asyncio.get_running_loop()
        service.add_enqueue_listener(self._on_enqueue)
        intake_task = asyncio.create_task(self._intake_loop(stop))
        try:
            while not stop.is_set():
                free = self.concurrency - len(self._running)
                jobs = await self._claim_safely(free) if free > 0 else []
                for job in jobs:
                    task = asyncio.create_task(self._execute(job))
                    self._running.add(task)
                    task.add_done_callback(self._finished)
                if jobs and len(jobs) == free:
                    await asyncio.sleep(0)
                    continue
                self._wake.clear()
                await self._nap(self._wake, stop)
        finally:
            service.remove_enqueue_listener(self._on_enqueue)
            await asyncio.gather(intake_task, return_exceptions=True)
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("job task crashed", exc_info=task.exception())

    async def _claim_safely(self, limit: int) -> list[Claimed]:
        try:
            return await self._claim(limit)
        except Exception:
            # A database hiccup must not kill the worker; the next poll tries again.
            log.exception("claiming jobs failed")
            return []


# `serve --workers N` on PostgreSQL: one process runs the jobs, the one holding this advisory
# lock (on a connection of its own, held while it works); the others try again now and then,
# so one takes over if that process dies. Enqueuers NOTIFY it (jobs/service.py).
ELECTION_KEY = 0x526F6C6F  # "Rolo"
ELECTION_RETRY_SECONDS = 30.0


async def run_elected(database: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Run the jobs here only while this process holds the deployment's worker lock."""
    service.notify_other_processes()
    conninfo = make_url(database.url).set(drivername="postgresql")
    url = conninfo.render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(
                url, autocommit=True, application_name="rolodex-worker-lock"
            ) as conn:
                cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (ELECTION_KEY,))
                row = await cursor.fetchone()
                if row is not None and row[0]:
                    log.info("worker: this process runs the jobs")
                    await conn.execute(f"LISTEN {service.JOBS_CHANNEL}")
                    worker = Worker(database, settings)
                    relay = asyncio.create_task(_relay(conn, worker))
                    try:
                        await worker.run_forever(stop)
                    finally:
                        relay.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await relay
                    return
        except (psycopg.Error, OSError) as exc:
            log.warning("worker: election failed (%s)", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ELECTION_RETRY_SECONDS)


async def _relay(conn: psycopg.AsyncConnection[object], worker: Worker) -> None:
    # Another process enqueued a job: start it now rather than at the next poll.
    async for _notify in conn.notifies():
        worker.wake()

"""Job kinds used only by the tests, loaded through ROLODEX_JOB_MODULES."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta
from pathlib import Path

from rolodex.jobs.registry import JobContext, job


@job("test.record", retry_delays=())
async def record(ctx: JobContext) -> None:
    """Append this job's id to a file (O_APPEND writes are atomic), holding it a moment."""
    path = Path(ctx.payload["path"])
    marker = path.with_suffix(f".{ctx.job_id}.running")
    # Exclusive create: a second runner of the same job at the same time fails loudly.
    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    try:
        await asyncio.sleep(float(ctx.payload.get("hold", 0.0)))
        with path.open("a") as out:
            out.write(ctx.job_id + "\n")
    finally:
        os.close(fd)
        marker.unlink()


@job("test.fail", retry_delays=(timedelta(seconds=1), timedelta(seconds=2)))
async def fail(ctx: JobContext) -> None:
    """Always fails, to exercise retries."""
    raise RuntimeError(f"boom on attempt {ctx.attempt}")


class _RateLimited(Exception):
    def __init__(self, not_before: datetime) -> None:
        super().__init__("rate limited")
        self.not_before = not_before


@job("test.rate_limited", retry_delays=(timedelta(seconds=1),))
async def rate_limited(ctx: JobContext) -> None:
    """Fails saying when to try again (as a platform's rate-limit reset does)."""
    raise _RateLimited(datetime.fromisoformat(ctx.payload["not_before"]))


@job("test.sleep", retry_delays=(timedelta(seconds=0),), lease=timedelta(seconds=3))
async def sleep(ctx: JobContext) -> None:
    """Marks that it started, then sleeps; the first attempt is killed by the test."""
    started = Path(ctx.payload["started"])
    with started.open("a") as out:
        out.write(f"{ctx.attempt}\n")
    if ctx.attempt == 1:
        await asyncio.sleep(60)

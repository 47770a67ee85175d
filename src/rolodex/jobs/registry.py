"""Job kinds and their handlers, registered with the @job decorator."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.config import Settings
from rolodex.db import Database
from rolodex.jobs import repository
from rolodex.kit.clock import utcnow

DEFAULT_RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (10, 60, 300, 1800))
DEFAULT_LEASE = timedelta(minutes=5)

# Every module whose import registers job kinds; each domain adds its jobs module here.
JOB_MODULES: tuple[str, ...] = (
    "rolodex.attributes.jobs",
    "rolodex.linking.jobs",
    "rolodex.privacy.jobs",
    "rolodex.exports.jobs",
    "rolodex.crm.jobs",
    "rolodex.webhooks.jobs",
    "rolodex.channels.jobs",
    "rolodex.bots.jobs",
)


class LeaseLost(RuntimeError):
    """Another worker took the job over (its lease ran out): this run must stop."""


@dataclass
class JobContext:
    """What a handler gets: its payload and a way to open its own transactions."""

    job_id: str
    kind: str
    attempt: int
    workspace_id: str | None
    payload: dict[str, Any]
    db: Database
    settings: Settings
    lease: timedelta = DEFAULT_LEASE
    # Set by the worker: moves its own deadline on when the lease is renewed.
    on_renew: Callable[[], None] | None = None

    @property
    def last_attempt(self) -> bool:
        """Whether a failure now ends the job failed instead of being retried."""
        return self.attempt > len(REGISTRY[self.kind].schedule(self.settings)[0])

    async def renew_lease(self, session: AsyncSession) -> None:
        """Hold the job one more lease from now, in the caller's transaction (or LeaseLost)."""
        # Long handlers call this between batches: a job that outlives one lease is then not
        # claimed again (and started over) by another worker while this one still runs it.
        until = utcnow() + self.lease
        if not await repository.renew(session, self.job_id, self.attempt, until):
            raise LeaseLost(f"job {self.job_id} attempt {self.attempt} lost its lease")
        if self.on_renew is not None:
            self.on_renew()


Handler = Callable[[JobContext], Awaitable[None]]
# A kind whose schedule depends on settings: (retry delays, lease) for these settings.
Tuning = Callable[[Settings], tuple[tuple[timedelta, ...], timedelta]]


@dataclass(frozen=True)
class JobSpec:
    """A registered job kind: its handler, its retry schedule and its lease."""

    kind: str
    handler: Handler
    retry_delays: tuple[timedelta, ...]
    lease: timedelta
    tuning: Tuning | None = None

    @property
    def max_attempts(self) -> int:
        """The first run plus one retry per delay."""
        return len(self.retry_delays) + 1

    def schedule(self, settings: Settings) -> tuple[tuple[timedelta, ...], timedelta]:
        """The retry delays and the lease under these settings (as many delays as registered)."""
        if self.tuning is None:
            return self.retry_delays, self.lease
        return self.tuning(settings)


REGISTRY: dict[str, JobSpec] = {}


def job(
    kind: str,
    *,
    retry_delays: Iterable[timedelta] = DEFAULT_RETRY_DELAYS,
    lease: timedelta = DEFAULT_LEASE,
    tuning: Tuning | None = None,
) -> Callable[[Handler], Handler]:
    """Register an async handler for a job kind.

    Handlers must be idempotent: a job whose worker died after the handler's
    own commit but before it was marked done runs again.
    """

    def register(handler: Handler) -> Handler:
        REGISTRY[kind] = JobSpec(kind, handler, tuple(retry_delays), lease, tuning)
        return handler

    return register


def load_job_modules(extra: Iterable[str] = ()) -> None:
    """Import every module that registers job kinds (and extra ones from settings)."""
    for name in (*JOB_MODULES, *extra):
        importlib.import_module(name)

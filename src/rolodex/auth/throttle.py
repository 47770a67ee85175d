"""Throttling failed logins per account, client address and OAuth2 client, shared by processes.

`limits` supplies the fixed-window strategy; its counters live in the `login_failures` table
(`DatabaseStorage`) so that every process on one PostgreSQL (or SQLite file) sees one count.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.exc import SQLAlchemyError

from rolodex.db import Database, insert_for, prepared
from rolodex.errors import TooManyRequests
from rolodex.i18n import _
from rolodex.kit.clock import utcnow
from rolodex.kit.secrets import token_hash
from rolodex.models import LoginFailure
from rolodex.models.base import UTCDateTime

# Expired rows are left for the next failure of their key to reuse; every this many writes a
# process also deletes the expired ones, so keys tried once do not pile up.
_PURGE_EVERY = 100


def _build_incr(dialect: str) -> Any:
    table = LoginFailure.__table__
    stmt = insert_for(dialect, table).values(
        key=bindparam("key"),
        count=bindparam("amount"),
        window_start=bindparam("now", type_=UTCDateTime()),
        expires_at=bindparam("expires_at", type_=UTCDateTime()),
    )
    # One statement, so concurrent failures of one key never lose a count, on either database.
    expired = table.c.expires_at <= stmt.excluded.window_start
    return stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "count": case(
                (expired, stmt.excluded.count), else_=table.c.count + stmt.excluded.count
            ),
            "window_start": case((expired, stmt.excluded.window_start), else_=table.c.window_start),
            "expires_at": case((expired, stmt.excluded.expires_at), else_=table.c.expires_at),
        },
    ).returning(table.c.count)


_incr = prepared(_build_incr)


class DatabaseStorage(Storage):
    """A `limits` async storage on the login_failures table; every write is its own transaction.

    Its own transactions, because a failed login's request rolls back: the count must stay.
    On SQLite they wait for the write lock, so call this before the request's session writes.
    """

    STORAGE_SCHEME = None  # built from a Database, never from a storage URI

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.database = database
        self._writes = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """What a failing database raises."""
        return SQLAlchemyError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` more for the key, starting a new window if the last one expired."""
        now = utcnow()
        values = {
            "key": _digest(key),
            "amount": amount,
            "now": now,
            "expires_at": now + timedelta(seconds=expiry),
        }
        async with self.database.transaction() as session:
            count = int((await session.execute(_incr(session), values)).scalar_one())
        self._writes += 1
        if self._writes % _PURGE_EVERY == 0:
            await self.purge()
        return count

    async def get(self, key: str) -> int:
        """The key's count in its current window (0 once the window has passed)."""
        row = await self._row(key)
        return row[0] if row is not None else 0

    async def get_expiry(self, key: str) -> float:
        """When the key's current window ends (epoch seconds; now if it has none)."""
        row = await self._row(key)
        return row[1] if row is not None else time.time()

    async def check(self) -> bool:
        """Whether the table answers."""
        async with self.database.reader() as session:
            await session.execute(select(LoginFailure.key).limit(1))
        return True

    async def reset(self) -> int | None:
        """Forget every count; returns how many keys were dropped."""
        async with self.database.transaction() as session:
            result = await session.execute(delete(LoginFailure))
        return int(getattr(result, "rowcount", 0) or 0)

    async def clear(self, key: str) -> None:
        """Forget one key's count."""
        async with self.database.transaction() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.key == _digest(key)))

    async def purge(self) -> None:
        """Delete the rows whose window has passed."""
        async with self.database.transaction() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.expires_at <= utcnow()))

    async def _row(self, key: str) -> tuple[int, float] | None:
        stmt = select(LoginFailure.count, LoginFailure.expires_at).where(
            LoginFailure.key == _digest(key)
        )
        async with self.database.reader() as session:
            row = (await session.execute(stmt)).first()
        # By position: a Row's `count` is the tuple method, not the column.
        if row is None or row[1] <= utcnow():
            return None
        return int(row[0]), row[1].timestamp()


def _digest(key: str) -> str:
    # Fixed width for the primary key, and no email or address kept in plain sight.
    return token_hash(key)


@dataclass
class LoginThrottle:
    """After `max_failures` failures within the window a key is refused (429) until it ends.

    It holds the database because every step of a login but issuing the token runs outside
    the request's transaction (see `DatabaseStorage`).
    """

    database: Database
    limiter: FixedWindowRateLimiter
    item: RateLimitItem

    @classmethod
    def create(cls, database: Database, *, max_failures: int, window_seconds: int) -> LoginThrottle:
        """A throttle on the database's login_failures table."""
        item = RateLimitItemPerSecond(max_failures, window_seconds, namespace="login")
        return cls(database, FixedWindowRateLimiter(DatabaseStorage(database)), item)

    async def check(self, *keys: str) -> None:
        """429 with Retry-After if any of the keys has no failures left in its window."""
        wait = 0.0
        for key in keys:
            if not await self.limiter.test(self.item, key):
                stats = await self.limiter.get_window_stats(self.item, key)
                wait = max(wait, stats.reset_time - time.time())
        if wait > 0:
            raise TooManyRequests(
                _("Too many failed attempts; wait a while and try again."),
                retry_after=math.ceil(wait),
            )

    async def failed(self, *keys: str) -> None:
        """Count one failure against each key."""
        for key in keys:
            await self.limiter.hit(self.item, key)

    async def succeeded(self, key: str) -> None:
        """Start the key afresh (a right password clears the account's failures)."""
        await self.limiter.clear(self.item, key)


def account_key(email: str) -> str:
    """The throttle key of an email (every account with it, in any workspace)."""
    return f"account:{email.strip().lower()}"


def address_key(address: str) -> str:
    """The throttle key of a client address."""
    return f"address:{address}"


def client_key(client_id: str) -> str:
    """The throttle key of an OAuth2 client id."""
    return f"client:{client_id}"


def client_address(request: Request) -> str:
    """The caller's address (the proxy's, unless uvicorn is told to trust forwarded headers)."""
    return request.client.host if request.client else "unknown"


async def login_throttle(request: Request) -> LoginThrottle:
    """The app's login throttle, made on first use from its database and settings."""
    # async: FastAPI would run a plain def dependency in a thread, a hop on every request.
    state = request.app.state
    throttle: LoginThrottle | None = getattr(state, "login_throttle", None)
    if throttle is None or throttle.database is not state.database:
        settings = state.settings
        throttle = LoginThrottle.create(
            state.database,
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
        )
        state.login_throttle = throttle
    return throttle


LoginThrottleDep = Annotated[LoginThrottle, Depends(login_throttle)]

"""Engines and sessions. Only the request or job boundary commits; services flush.

SQLite (the embedded default) gets WAL, a busy timeout and `BEGIN IMMEDIATE`
for write transactions, so concurrent writers wait instead of failing with
"database is locked". Reads use a separate engine with deferred transactions so
they never queue behind writers. On PostgreSQL reads use an autocommit engine of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import ColumnElement, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.util import await_only

T = TypeVar("T")


def async_url(url: str) -> str:
    """The SQLAlchemy async URL for a plain `sqlite:///` or `postgresql://` URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    else:
        raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")
    return parsed.render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The SQLAlchemy sync URL (migrations run on a sync connection)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    else:
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    """Whether the URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


class _OneHopCursor:
    """An aiosqlite cursor that does a statement's whole round in one trip to the driver's
    thread: open, execute, fetch every row, close. aiosqlite's own takes four (each a thread
    hand-off costing more CPU than an indexed SQLite read); SQLAlchemy fetches every row of a
    client-side cursor at once anyway."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection  # aiosqlite.Connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: list[Any] = []

    async def __aenter__(self) -> _OneHopCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def _round(self, run: Callable[[Any], Any]) -> None:
        # In the driver's thread: the sqlite3 cursor lives and dies here.
        cursor = self._connection._conn.cursor()
        try:
            run(cursor)
            self.description = cursor.description
            self._rows = cursor.fetchall() if cursor.description else []
            self.rowcount, self.lastrowid = cursor.rowcount, cursor.lastrowid
        finally:
            cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> _OneHopCursor:
        """Run one statement and keep its rows."""
        args = () if parameters is None else (parameters,)
        await self._connection._execute(self._round, lambda c: c.execute(sql, *args))
        return self

    async def executemany(self, sql: str, seq_of_parameters: Any) -> _OneHopCursor:
        """Run one statement for every set of parameters."""
        await self._connection._execute(
            self._round, lambda c: c.executemany(sql, seq_of_parameters)
        )
        return self

    async def fetchall(self) -> list[Any]:
        """The rows (already here)."""
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        """The next row (already here)."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """The next rows (already here)."""
        count = size or self.arraysize
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        """Nothing to close: the round closed its cursor."""


class _OneHopConnection:
    """An aiosqlite connection whose cursors are one-trip (_OneHopCursor); the rest is
    aiosqlite's (commit, rollback, close, the thread)."""

    def __init__(self, connection: Any) -> None:
        self._inner = connection

    def cursor(self) -> _OneHopCursor:
        """A one-trip cursor (server-side cursors are not used here)."""
        return _OneHopCursor(self._inner)

    async def commit(self) -> None:
        """Commit, with no trip at all when no transaction is open (every read's end)."""
        if self._inner._conn.in_transaction:
            await self._inner.commit()

    async def rollback(self) -> None:
        """Roll back, with no trip at all when no transaction is open."""
        if self._inner._conn.in_transaction:
            await self._inner.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _one_hop_creator(path: str) -> Callable[[], Coroutine[Any, Any, _OneHopConnection]]:
    async def connect() -> _OneHopConnection:
        import aiosqlite

        connection = aiosqlite.connect(path, timeout=30, check_same_thread=False)
        connection._thread.daemon = True  # as SQLAlchemy's own connector does
        return _OneHopConnection(await connection)

    return connect


class WriteLock:
    """One SQLite write transaction at a time in this process, the others queued in order.

    Without it, concurrent writers each hold a connection and spin in SQLite's busy handler,
    whose growing sleeps make multi-second tails; queued here they wait for exactly the
    commit before them. Other processes (the CLI, a standalone worker) still meet
    `busy_timeout`. Re-entrant per task: a transaction opened inside another's (a throttle
    counting a failure) behaves as it did without the lock.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def acquire(self) -> None:
        """Wait for the write transaction before this one to end."""
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    def release(self) -> None:
        """The write transaction ended: the next one may begin."""
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


_HOLDS_LOCK = "rolodex_write_lock"


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int) -> AsyncEngine:
    # A pool as large as the usual concurrency: opening a connection runs the PRAGMAs below,
    # and a small pool with overflow opens and closes them under load.
    engine = create_async_engine(
        async_url(url),
        async_creator=_one_hop_creator(str(make_url(url).database)),
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        # Sessions end every transaction (commit or rollback) before they return the
        # connection: the pool's own rollback would be one more hop to aiosqlite's thread.
        pool_reset_on_return=None,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    if immediate:
        lock = WriteLock()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # The sync event runs in SQLAlchemy's greenlet: await_only waits on the event loop.
            await_only(lock.acquire())
            conn.info[_HOLDS_LOCK] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(conn)
                raise

        def _release(conn: Any) -> None:
            if conn.info.pop(_HOLDS_LOCK, False):
                lock.release()

        event.listen(engine.sync_engine, "commit", _release)
        event.listen(engine.sync_engine, "rollback", _release)

    return engine


@dataclass
class Database:
    """The engines and session factories of one process."""

    url: str
    write_engine: AsyncEngine
    read_engine: AsyncEngine
    writer: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]

    @property
    def sqlite(self) -> bool:
        """Whether this is the embedded SQLite database."""
        return is_sqlite(self.url)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write session that commits on success and rolls back on error (job/CLI boundary)."""
        async with self.writer() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise


POOL_RECYCLE_SECONDS = 1800


def open_database(url: str, *, pool_size: int = 10) -> Database:
    """Engines and session factories for a database URL."""
    if is_sqlite(url):
        _prepare_sqlite_file(url)
        write = _sqlite_engine(url, immediate=True, pool_size=pool_size)
        read = _sqlite_engine(url, immediate=False, pool_size=pool_size)
    else:
        # JIT off: our statements are index look-ups and batches whose row estimates can
        # cross jit_above_cost, and compiling one then costs ~0.4 s against ~30 ms to run.
        # The connection budget (docs/deploy.md): per process at most 3 x pool_size (two
        # engines of pool_size + pool_size / 2 overflow) plus the stream's LISTEN connection.
        # No pre-ping (a round trip per checkout): connections are recycled before servers or
        # proxies drop idle ones, and a dead one fails its request once, then is replaced.
        common: dict[str, Any] = {
            "pool_size": pool_size,
            "max_overflow": max(1, pool_size // 2),
            "pool_recycle": POOL_RECYCLE_SECONDS,
            # A failed statement's message would otherwise carry its values: secrets, hashes.
            "hide_parameters": True,
            "connect_args": {"options": "-c jit=off"},
        }
        write = create_async_engine(async_url(url), **common)
        read = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT", **common)
    return Database(
        url=url,
        write_engine=write,
        read_engine=read,
        writer=async_sessionmaker(write, expire_on_commit=False, autoflush=False),
        reader=async_sessionmaker(read, expire_on_commit=False, autoflush=False),
    )


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TransactionalRoute(APIRoute):
    """A route whose request runs in one transaction, committed before the response is sent.

    Committing here rather than in a yield-dependency guarantees that a client
    never sees a success for work that then failed to commit.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the endpoint in a session that commits on success and rolls back otherwise."""
        handler = super().get_route_handler()

        async def run_in_transaction(request: Request) -> Response:
            database: Database = request.app.state.database
            factory = database.reader if request.method in _READ_METHODS else database.writer
            # Opened by the first dependency that asks (request_session): a read answered
            # from memory (GET /me with a cached principal) opens none.
            request.state.db_factory = factory
            request.state.db = None
            try:
                response = await handler(request)
                session: AsyncSession | None = request.state.db
                if session is not None:
                    if response.status_code < 400:
                        await session.commit()
                    else:
                        await session.rollback()
                return response
            finally:
                if request.state.db is not None:
                    await request.state.db.close()

        return run_in_transaction


async def request_session(request: Request) -> AsyncSession:
    """The request's session, opened on first use; its route commits it (TransactionalRoute)."""
    # async: FastAPI would run a plain def dependency in a thread, a hop on every request.
    session: AsyncSession | None = request.state.db
    if session is None:
        session = request.state.db = request.state.db_factory()
    return session


SessionDep = Annotated[AsyncSession, Depends(request_session)]


def insert_for(dialect: str, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on the named dialect (sqlite or postgresql)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on the session's database (SQLite or PostgreSQL)."""
    return insert_for(_dialect_name(session), table)


def _dialect_name(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def one_of(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], name: str, dialect: str
) -> ColumnElement[bool]:
    """`column IN` the list parameter `name`; on PostgreSQL `= ANY` of one array parameter.

    An expanding IN renders one placeholder per value at every execution, and psycopg parses
    a statement of over 50 parameters anew each time; one array keeps the text the same.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def prepared(build: Callable[[str], T]) -> Callable[[AsyncSession], T]:
    """A statement built once per dialect, for hot paths; it takes its values as parameters.

    Building an upsert (its `excluded` alias above all) and compiling its cache key
    costs more than executing it, so hot-path statements are built once and reused.
    """
    built: dict[str, T] = {}

    def for_session(session: AsyncSession) -> T:
        name = _dialect_name(session)
        if name not in built:
            built[name] = build(name)
        return built[name]

    return for_session

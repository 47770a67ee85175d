"""PostgreSQL: this process LISTENs on its own connection and hands every batch to the broker
(and tells auth to forget its cached principals when another process revoked a token).

The connection is psycopg's, in autocommit, apart from the pools (it is held for the life of
the process, and a pooled one would be recycled). When it drops, events committed meanwhile
are lost to this process: on reconnecting (with backoff) the broker tells its clients to
reload. A quiet connection is checked every CHECK_SECONDS, so a dead one is noticed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy.engine import make_url

from rolodex.auth import service as auth
from rolodex.stream.records import decode
from rolodex.stream.subscribers import CHANNEL

if TYPE_CHECKING:
    from rolodex.stream.broker import Broker

log = logging.getLogger(__name__)

CHECK_SECONDS = 15.0
# How the connection shows in pg_stat_activity.
APPLICATION_NAME = "rolodex-stream-listen"
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 15.0


def conninfo(url: str) -> str:
    """The libpq URL for a SQLAlchemy PostgreSQL URL (driver name dropped)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(url: str, broker: Broker, ready: asyncio.Event) -> None:
    """LISTEN until cancelled, reconnecting with backoff; each reconnect is a gap."""
    backoff = BACKOFF_FIRST
    lost = False  # since the last LISTEN, some events may have gone by unseen
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                conninfo(url), autocommit=True, application_name=APPLICATION_NAME
            ) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                # Revocations and changes of what principals carry (auth/service.py).
                await conn.execute(f"LISTEN {auth.FORGET_CHANNEL}")
                if lost:
                    auth.forget_principals()
                if lost:
                    broker.gap()
                    lost = False
                backoff = BACKOFF_FIRST
                ready.set()
                await _receive(conn, broker)
        except (psycopg.Error, OSError) as exc:
            log.warning("stream: LISTEN connection lost (%s); retrying in %.1f s", exc, backoff)
            lost = True
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX)


async def _receive(conn: psycopg.AsyncConnection[object], broker: Broker) -> None:
    while True:
        async for notify in conn.notifies(timeout=CHECK_SECONDS):
            if notify.channel == auth.FORGET_CHANNEL:
                auth.forget_principals()
            else:
                broker.publish(decode(notify.payload))
        await conn.execute("SELECT 1")  # quiet for a while: is it still there?

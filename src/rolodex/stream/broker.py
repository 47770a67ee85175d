"""The per-process broker: a ring of recent events, the connected clients, and the fan-out.

Records arrive in commit order (from this process's commits on SQLite, from LISTEN on
PostgreSQL) and go into one inbox. One dispatcher task takes them in that order: each is kept
in the ring (the last `ring_size` events, at most `ring_seconds` old), and when the workspace has
clients its payload is built once per variant they need, JSON- and SSE-encoded once, and the
same bytes are put on every such client's bounded queue (put_nowait: a client whose queue is
full is disconnected, never waited for). No database connection is held between events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.auth.principals import Principal
from rolodex.db import Database
from rolodex.stream import payloads
from rolodex.stream.payloads import Variant
from rolodex.stream.records import MESSAGE_CREATED, RELOAD, Record

log = logging.getLogger(__name__)

# Sent first on every stream: the client is registered from here on (tests and benches wait for
# it; browsers ignore comments).
CONNECTED = b": connected\n\n"
PING = b": ping\n\n"


def frame(payload: payloads.Payload) -> bytes:
    """One SSE event, encoded once for every client that receives it."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"id: {payload['id']}\nevent: {payload['type']}\ndata: {data}\n\n".encode()


def reload_frame(last_id: str | None) -> bytes:
    """The `reload` event; it carries the newest id this process knows, to resume from after."""
    head = f"id: {last_id}\n" if last_id else ""
    return f'{head}event: {RELOAD}\ndata: {{"type":"{RELOAD}"}}\n\n'.encode()


class Client:
    """One connected stream: its workspace, what it may see, and its bounded queue."""

    __slots__ = ("closed", "plan", "queue", "variant", "workspace_id")

    def __init__(self, principal: Principal, size: int) -> None:
        self.workspace_id = principal.workspace_id
        self.plan = principal.plan
        self.variant = payloads.variant_of(principal)
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=size)
        self.closed = False

    def offer(self, data: bytes) -> None:
        """Queue an event; a full queue disconnects the client (it resumes with Last-Event-ID)."""
        if self.closed:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        """End the stream: what is queued is dropped, the generator sees the end at once."""
        if self.closed:
            return
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


@dataclass(eq=False)
class Entry:
    """An event in the ring, with its payloads per variant once built."""

    record: Record
    seq: int
    at: float
    built: dict[Variant, asyncio.Future[bytes | None]] = field(default_factory=dict)


@dataclass
class Subscription:
    """A client just connected: what it must be sent before the live events."""

    client: Client
    reload: bool
    replay: list[Entry]


class Broker:
    """This process's stream: clients by workspace, the ring, the dispatcher."""

    def __init__(
        self,
        database: Database,
        *,
        queue_size: int = 256,
        ring_size: int = 1000,
        ring_seconds: float = 300.0,
    ) -> None:
        self.database = database
        self.queue_size = queue_size
        self.ring_size = ring_size
        self.ring_seconds = ring_seconds
        # Names this process on the stream's responses (X-Rolodex-Process): not the pid.
        self.process_id = secrets.token_hex(6)
        self._clients: dict[str, set[Client]] = {}
        self._ring: deque[Entry] = deque()
        self._by_id: dict[str, Entry] = {}
        self._seq = 0
        self._inbox: asyncio.Queue[list[Record]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stops: list[Callable[[], None]] = []
        # Web chat visitors' streams: the ids of new messages of their contact (webchat/).
        self._watchers: dict[str, set[asyncio.Queue[str]]] = {}

    # --- life ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the dispatcher and the transport (SQLite: this process's commits; PG: LISTEN)."""
        from rolodex.stream import listener, subscribers

        self._loop = asyncio.get_running_loop()
        self._tasks.append(asyncio.create_task(self._dispatch(), name="stream-dispatch"))
        if self.database.sqlite:
            self._stops.append(subscribers.attach_local(self.database.url, self.publish))
        else:
            ready = asyncio.Event()
            task = asyncio.create_task(
                listener.listen(self.database.url, self, ready), name="stream-listen"
            )
            self._tasks.append(task)
            # Serve once listening, so that a client connected now misses nothing; a database
            # that does not answer yet does not hold the start (the listener keeps trying).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), timeout=10)

    async def stop(self) -> None:
        """Disconnect every client and stop the tasks."""
        for detach in self._stops:
            detach()
        for clients in list(self._clients.values()):
            for client in list(clients):
                client.close()
        self._clients.clear()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    # --- input -----------------------------------------------------------------------------
    def publish(self, records: list[Record]) -> None:
        """Committed records, in commit order (any thread: SQLite commits may come from one)."""
        if not records or self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._inbox.put_nowait(records)
        else:
            self._loop.call_soon_threadsafe(self._inbox.put_nowait, records)

    def gap(self) -> None:
        """Events may have been lost (the LISTEN connection dropped): every client reloads.

        The ring is emptied too: an id from before the gap cannot be resumed exactly.
        """
        self._ring.clear()
        self._by_id.clear()
        data = reload_frame(None)
        for clients in self._clients.values():
            for client in list(clients):
                client.offer(data)

    # --- clients ---------------------------------------------------------------------------
    def connect(self, principal: Principal, last_event_id: str | None) -> Subscription:
        """Register a client; with Last-Event-ID, the workspace's events after it to replay."""
        self._expire()
        client = Client(principal, self.queue_size)
        self._clients.setdefault(client.workspace_id, set()).add(client)
        if not last_event_id:
            return Subscription(client, reload=False, replay=[])
        seen = self._by_id.get(last_event_id)
        if seen is None:
            return Subscription(client, reload=True, replay=[])
        replay = [
            e for e in self._ring if e.seq > seen.seq and e.record["w"] == client.workspace_id
        ]
        return Subscription(client, reload=False, replay=replay)

    def disconnect(self, client: Client) -> None:
        """Forget a client (its stream ended)."""
        client.closed = True
        clients = self._clients.get(client.workspace_id)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self._clients[client.workspace_id]

    def watch(self, contact_id: str) -> asyncio.Queue[str]:
        """A queue of the ids of the contact's new messages (a visitor's stream)."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=self.queue_size)
        self._watchers.setdefault(contact_id, set()).add(queue)
        return queue

    def unwatch(self, contact_id: str, queue: asyncio.Queue[str]) -> None:
        """Forget a visitor's queue (its stream ended)."""
        queues = self._watchers.get(contact_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._watchers[contact_id]

    def _notify_watchers(self, record: Record) -> None:
        if record["t"] != MESSAGE_CREATED:
            return
        for queue in self._watchers.get(record.get("k") or "", ()):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck visitor misses, never blocks
                queue.put_nowait(record["m"])

    def client_count(self) -> int:
        """How many streams this process serves now."""
        return sum(len(c) for c in self._clients.values())

    async def events(
        self, principal: Principal, last_event_id: str | None, *, ping_seconds: float = 15.0
    ) -> AsyncIterator[bytes]:
        """A client's stream: reload or the missed events first, then the live ones.

        The client is registered when the response starts, not before: a request that never
        streams leaves nothing behind. The first bytes (a comment) say it is registered. The
        heartbeat is sent from here, not by a task of its own per client (memory per client).
        """
        subscription = self.connect(principal, last_event_id)
        client = subscription.client
        try:
            yield CONNECTED
            if subscription.reload:
                yield reload_frame(self._ring[-1].record["i"] if self._ring else None)
            if subscription.replay:
                for data in await self._replay(client, subscription.replay):
                    yield data
            while True:
                try:
                    async with asyncio.timeout(ping_seconds):
                        item = await client.queue.get()
                except TimeoutError:
                    yield PING
                    continue
                if item is None:
                    return
                yield item
        finally:
            self.disconnect(client)

    async def _replay(self, client: Client, entries: list[Entry]) -> list[bytes]:
        # Built (lazily: maybe nobody was connected then) before anything is sent, so the
        # session is closed before a slow client is written to.
        out: list[bytes] = []
        async with self.database.reader() as session:
            for entry in entries:
                data = await self._payload(session, entry, client.variant, client.plan)
                session.expunge_all()  # as in _fan_out: every event reads its rows afresh
                if data is not None:
                    out.append(data)
        return out

    # --- the fan-out -----------------------------------------------------------------------
    def _expire(self) -> None:
        horizon = time.monotonic() - self.ring_seconds
        while self._ring and (len(self._ring) > self.ring_size or self._ring[0].at < horizon):
            old = self._ring.popleft()
            self._by_id.pop(old.record["i"], None)

    def _append(self, record: Record) -> Entry:
        self._seq += 1
        entry = Entry(record, self._seq, time.monotonic())
        self._ring.append(entry)
        self._by_id[record["i"]] = entry
        self._expire()
        return entry

    async def _dispatch(self) -> None:
        while True:
            records = await self._inbox.get()
            # Whatever else has arrived goes in the same round: one session for all of it.
            while not self._inbox.empty():
                records = records + self._inbox.get_nowait()
            try:
                await self._fan_out(records)
            except Exception:
                log.exception("stream: events could not be sent; clients reload")
                self.gap()

    async def _fan_out(self, records: list[Record]) -> None:
        # Ring and targets are fixed before any await: a client connecting meanwhile finds
        # these events in the ring (replay), not also on its queue.
        work: list[tuple[Entry, list[Client]]] = []
        for record in records:
            self._notify_watchers(record)
            entry = self._append(record)
            targets = list(self._clients.get(record["w"], ()))
            if targets:
                work.append((entry, targets))
        if not work:
            return
        async with self.database.reader() as session:
            for entry, targets in work:
                for variant in {c.variant for c in targets}:
                    await self._payload(session, entry, variant, targets[0].plan)
                # Each event reads the rows afresh: an object loaded for an earlier event of
                # this round would otherwise be served from the identity map as it was then.
                session.expunge_all()
        for entry, targets in work:
            for client in targets:
                data = entry.built[client.variant].result()
                if data is not None:
                    client.offer(data)

    async def _payload(
        self, session: AsyncSession, entry: Entry, variant: Variant, plan: str
    ) -> bytes | None:
        """The entry's encoded event for a variant, built once (None: its object is gone)."""
        while (built := entry.built.get(variant)) is not None:
            try:
                return await asyncio.shield(built)
            except asyncio.CancelledError:
                if not built.cancelled():
                    raise  # this task is cancelled, not the one building
                # The client that was building it went away: build it here.
        assert self._loop is not None
        future: asyncio.Future[bytes | None] = self._loop.create_future()
        entry.built[variant] = future
        record = entry.record
        try:
            reader = payloads.reader(record["w"], plan, variant)
            payload = await payloads.build(session, record, reader)
        except BaseException as exc:
            del entry.built[variant]
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: whoever waits on it raises it
            raise
        data = None if payload is None else frame(payload)
        future.set_result(data)
        return data

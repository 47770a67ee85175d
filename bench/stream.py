"""The live stream at 1,000 clients (issue 18): change-to-event latency and server memory.

One `rolodex serve` process (SQLite, then PostgreSQL), an enterprise workspace with an
admin and agents, one web-chat contact and its conversation (an inbound message). 1,000
clients open `GET /api/v1/stream` from this one asyncio process (raw sockets: a minimal
HTTP/1.1 client that de-chunks and splits the events; an agent's or the admin's token
each, so both visibility variants of a payload are built). Then, one at a time, a PATCH
changes the conversation's status (new <-> pending) or a custom attribute of the contact,
and every client's arrival time of the matching event is recorded. Measured per change:
the time from the PATCH's response to the event at the LAST client (the issue's figure),
and from the request being sent; per client: the latency of each event. Memory: the
server's RSS idle (before any stream client) and with the 1,000 connected, and its peak.
Goals (issue 18): p99 <= 1 s, memory <= 200 MB. The clients share the 2 cores with the
server: their CPU is reported next to the server's.

    python bench/stream.py [--databases sqlite,postgresql] [--clients 1000] [--changes 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from _common import (
    cpu_seconds,
    create_workspace,
    free_port,
    fresh_postgres,
    server,
    write_section,
)

AGENTS = 10
EVENT_TIMEOUT = 10.0  # seconds a change waits for its event at every client


def _proc_kb(pid: int, key: str) -> int:
    """One `VmRSS`-like line of /proc/<pid>/status, in kB (0 if the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(c) for c in children.read().split()]
    except FileNotFoundError:
        return []


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """The server's resident memory in MB: the process and any children it started."""
    pids = [pid]
    for p in pids:
        pids.extend(_children(p))
    return sum(_proc_kb(p, key) for p in pids) / 1024


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit (the server inherits it); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- the stream clients -------------------------------------------------------------------


@dataclass
class Expectation:
    """The event a change waits for, and when each client received it."""

    match: Callable[[dict[str, Any]], bool]
    clients: int
    arrivals: dict[int, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def arrived(self, client: int, at: float) -> None:
        """Record a client's first matching event."""
        if client not in self.arrivals:
            self.arrivals[client] = at
            if len(self.arrivals) >= self.clients:
                self.done.set()


@dataclass
class Tally:
    """What the clients saw besides the expected events."""

    events: int = 0
    reloads: int = 0
    closed: int = 0
    bad_status: list[int] = field(default_factory=list)
    parse_errors: int = 0


class StreamClient(asyncio.Protocol):
    """One SSE connection: HTTP/1.1 response, chunked body, events split on blank lines."""

    def __init__(self, index: int, request: bytes, bench: StreamBench) -> None:
        self.index = index
        self.request = request
        self.bench = bench
        self.raw = b""
        self.headers_done = False
        self.chunked = False
        self.body = b""
        self.connected: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the request."""
        # uvloop's transports do not subclass asyncio.Transport: no isinstance check.
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        """Count a stream the server closed."""
        if not self.connected.done():
            self.connected.set_result(0)
        self.bench.tally.closed += 1

    def data_received(self, data: bytes) -> None:
        """Stamp the arrival first, then de-chunk and hand complete events on."""
        at = time.perf_counter()
        self.raw += data
        if not self.headers_done:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.raw = self.raw[:end].decode("latin-1"), self.raw[end + 4 :]
            status = int(head.split(" ", 2)[1])
            self.chunked = "transfer-encoding: chunked" in head.lower()
            self.headers_done = True
            self.connected.set_result(status)
            if status != 200:
                self.bench.tally.bad_status.append(status)
                if self.transport:
                    self.transport.close()
                return
        if self.chunked:
            while True:
                line_end = self.raw.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self.raw[:line_end].split(b";")[0], 16)
                if len(self.raw) < line_end + 2 + size + 2:
                    break
                self.body += self.raw[line_end + 2 : line_end + 2 + size]
                self.raw = self.raw[line_end + 2 + size + 2 :]
        else:
            self.body, self.raw = self.body + self.raw, b""
        # SSE lines end in \r\n, \n or \r (sse-starlette writes \r\n); an event ends on a blank one.
        self.body = self.body.replace(b"\r\n", b"\n")
        while True:
            end = self.body.find(b"\n\n")
            if end < 0:
                break
            block, self.body = self.body[:end], self.body[end + 2 :]
            self.bench.on_event(self.index, block, at)


class StreamBench:
    """Holds the clients and the change being waited for."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.expected: Expectation | None = None
        self.clients: list[StreamClient] = []

    def on_event(self, client: int, block: bytes, at: float) -> None:
        """Parse an event only if it may be the one expected (cheap on the clients' CPU)."""
        data = [line[5:].strip() for line in block.split(b"\n") if line.startswith(b"data:")]
        if not data:
            return  # a heartbeat comment or a bare id/retry field
        self.tally.events += 1
        joined = b"\n".join(data)
        if b'"reload"' in joined[:40]:
            self.tally.reloads += 1
        if self.expected is None:
            return
        try:
            payload = json.loads(joined)
        except ValueError:
            self.tally.parse_errors += 1
            return
        if self.expected.match(payload):
            self.expected.arrived(client, at)

    async def connect(self, url: str, tokens: list[str], clients: int) -> float:
        """Open `clients` streams (in waves of 50); seconds until all answered 200."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        for wave in range(0, clients, 50):
            opened = []
            for index in range(wave, min(clients, wave + 50)):
                token = tokens[index % len(tokens)]
                request = (
                    f"GET /api/v1/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n"
                    "Cache-Control: no-cache\r\n\r\n"
                ).encode()
                client = StreamClient(index, request, self)
                await loop.create_connection(lambda c=client: c, host, port)  # type: ignore[misc]
                self.clients.append(client)
                opened.append(client)
            statuses = await asyncio.wait_for(
                asyncio.gather(*(c.connected for c in opened)), timeout=60
            )
            if any(s != 200 for s in statuses):
                raise SystemExit(f"stream refused: statuses {sorted(set(statuses))}")
        return time.perf_counter() - started

    def close(self) -> None:
        """Close every stream."""
        for client in self.clients:
            if client.transport:
                client.transport.close()


# ---- the workspace ------------------------------------------------------------------------


@dataclass
class Setup:
    """What the changes need."""

    admin_token: str
    tokens: list[str]  # the stream clients' tokens: the admin's and the agents'
    conversation_id: str
    contact_id: str


def _setup(url: str, database_url: str) -> Setup:
    created = create_workspace(database_url)
    admin = created["token"]
    headers = {"Authorization": f"Bearer {admin}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        channel = client.post("/api/v1/channels", json={"medium": "webchat", "name": "Shop chat"})
        channel.raise_for_status()
        attribute = {"label": "Bench counter", "key": "bench_counter", "type": "text"}
        client.post("/api/v1/attributes", json=attribute).raise_for_status()
        tokens = [admin]
        for n in range(AGENTS):
            email = f"agent{n}-{created['workspace_id'][-6:]}@example.test"
            user = {"email": email, "name": f"Agent {n}", "role": "agent", "password": "pw-" * 4}
            client.post("/api/v1/users", json=user).raise_for_status()
            login = client.post(
                "/api/v1/auth/token",
                json={"email": email, "password": "pw-" * 4},
                headers={"Authorization": ""},
            )
            login.raise_for_status()
            tokens.append(login.json()["access_token"])
        message = {
            "external_message_id": "bench-stream-1",
            "sender": {"id": "visitor-1", "attributes": {"first-name": "Ana"}},
            "text": "Hello, where is my order?",
        }
        landed = client.post(f"/api/v1/channels/{channel.json()['id']}/inbound", json=message)
        landed.raise_for_status()
    return Setup(admin, tokens, landed.json()["conversation_id"], landed.json()["contact_id"])


# ---- the changes --------------------------------------------------------------------------


@dataclass
class Change:
    """One PATCH and when each client saw its event (perf_counter seconds)."""

    kind: str
    sent: float
    answered: float
    arrivals: list[float]


def _status_change(setup: Setup, n: int) -> tuple[str, dict[str, Any], Callable[..., bool]]:
    target = "pending" if n % 2 == 0 else "new"

    def match(p: dict[str, Any]) -> bool:
        if p.get("type") != "conversation.updated":
            return False
        if p.get("conversation_id") != setup.conversation_id:
            return False
        change = (p.get("changes") or {}).get("status")
        return bool(change and change.get("to") == target)

    return f"/api/v1/conversations/{setup.conversation_id}", {"status": target}, match


def _attribute_change(setup: Setup, n: int) -> tuple[str, dict[str, Any], Callable[..., bool]]:
    value = f"value {n}"

    def match(p: dict[str, Any]) -> bool:
        if p.get("type") != "contact.updated" or p.get("contact_id") != setup.contact_id:
            return False
        return bool((p.get("contact") or {}).get("attributes", {}).get("bench_counter") == value)

    path = f"/api/v1/contacts/{setup.contact_id}/attributes"
    return path, {"attributes": {"bench_counter": value}}, match


async def _changes(
    bench: StreamBench, url: str, setup: Setup, count: int, clients: int
) -> tuple[list[Change], int]:
    """Alternate status and attribute PATCHes; wait for each at every client. (changes, misses)"""
    done: list[Change] = []
    misses = 0
    headers = {"Authorization": f"Bearer {setup.admin_token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        for n in range(count):
            kind = "status" if n % 2 == 0 else "attribute"
            maker = _status_change if kind == "status" else _attribute_change
            path, body, match = maker(setup, n // 2)
            bench.expected = Expectation(match, clients)
            sent = time.perf_counter()
            response = await http.patch(path, json=body)
            answered = time.perf_counter()
            response.raise_for_status()
            try:
                await asyncio.wait_for(bench.expected.done.wait(), EVENT_TIMEOUT)
            except TimeoutError:
                misses += 1
                print(f"  change {n} ({kind}): {len(bench.expected.arrivals)}/{clients} clients")
                continue
            done.append(Change(kind, sent, answered, list(bench.expected.arrivals.values())))
            bench.expected = None
            await asyncio.sleep(0.05)  # let the last writes drain before the next change
    return done, misses


# ---- one database -------------------------------------------------------------------------


@dataclass
class Row:
    """One database's figures."""

    database: str
    clients: int
    connect_s: float
    changes: list[Change]
    misses: int
    rss_idle: float
    rss_connected: float
    rss_after: float
    rss_peak: float
    server_cpu_ms: float  # per change, while the clients were connected
    client_cpu_ms: float
    load: float
    tally: Tally


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _run(database: str, url: str, pid: int, setup: Setup, clients: int, count: int) -> Row:
    bench = StreamBench()
    # A few reads first so that the idle figure is a warmed-up server, not a cold one.
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(20):
            await http.get("/api/v1/me", headers={"Authorization": f"Bearer {setup.admin_token}"})
    await asyncio.sleep(1)
    rss_idle = rss_mb(pid)
    connect_s = await bench.connect(url, setup.tokens, clients)
    await asyncio.sleep(2)
    rss_connected = rss_mb(pid)
    cpu_before, mine_before = cpu_seconds(pid), time.process_time()
    changes, misses = await _changes(bench, url, setup, count, clients)
    server_cpu = cpu_seconds(pid) - cpu_before
    client_cpu = time.process_time() - mine_before
    rss_after = rss_mb(pid)
    row = Row(
        database,
        clients,
        connect_s,
        changes,
        misses,
        rss_idle,
        rss_connected,
        rss_after,
        rss_mb(pid, "VmHWM"),
        server_cpu * 1000 / max(count, 1),
        client_cpu * 1000 / max(count, 1),
        os.getloadavg()[0],
        bench.tally,
    )
    # Streams the server closed while the changes ran (those closed below are this side's).
    row.tally = Tally(**vars(bench.tally))
    bench.close()
    await asyncio.sleep(0.5)
    return row


def _measure(database: str, database_url: str | None, clients: int, count: int) -> Row:
    with server(database_url) as served:
        setup = _setup(served.url, served.database_url)
        assert served.pid is not None
        try:
            import uvloop

            return uvloop.run(_run(database, served.url, served.pid, setup, clients, count))
        except ImportError:
            return asyncio.run(_run(database, served.url, served.pid, setup, clients, count))


# The floor: a bare sse-starlette endpoint on uvicorn (no app, no auth), the same client.
BARE_APP = """
import asyncio, sys, uvicorn
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.routing import Route

async def events():
    await asyncio.Event().wait()
    yield {"data": "never"}

async def stream(request):
    return EventSourceResponse(events(), ping=0)

app = Starlette(routes=[Route("/api/v1/stream", stream)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def bare_floor(clients: int) -> tuple[float, float]:
    """RSS (MB) of a bare sse-starlette server idle and with `clients` streams connected."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)

        async def measure() -> tuple[float, float]:
            await asyncio.sleep(1)
            idle = rss_mb(process.pid)
            bench = StreamBench()
            await bench.connect(url, ["-"], clients)
            await asyncio.sleep(2)
            connected = rss_mb(process.pid)
            bench.close()
            return idle, connected

        return asyncio.run(measure())
    finally:
        process.terminate()
        process.wait(30)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.0995 else f"{seconds * 1000:.1f} ms"


def _report(rows: list[Row], count: int, floor: tuple[float, float] | None = None) -> str:
    lines = [
        "| database | clients | change | changes | last client after the response: p50 "
        "| p99 | max | every client after the request: p50 | p99 | PATCH p50 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for kind in ("status", "attribute", "both"):
            picked = [c for c in row.changes if kind in ("both", c.kind)]
            if not picked:
                continue
            last = [max(c.arrivals) - c.answered for c in picked]
            every = [a - c.sent for c in picked for a in c.arrivals]
            patch = [c.answered - c.sent for c in picked]
            label = {
                "status": "conversation status",
                "attribute": "contact attribute",
                "both": "**all**",
            }[kind]
            lines.append(
                f"| {row.database} | {row.clients:,} | {label} | {len(picked)} "
                f"| {_ms(statistics.median(last))} | {_ms(_percentile(last, 0.99))} "
                f"| {_ms(max(last))} | {_ms(statistics.median(every))} "
                f"| {_ms(_percentile(every, 0.99))} | {_ms(statistics.median(patch))} |"
            )
    lines += [
        "",
        "| database | server RSS idle | with the clients connected | per client "
        "| after the changes | peak (VmHWM) | connecting all clients | server CPU per change "
        "| clients' CPU per change | events received | reloads, closed streams, missed changes "
        "| load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.database} | {row.rss_idle:.0f} MB | {row.rss_connected:.0f} MB "
            f"| {(row.rss_connected - row.rss_idle) * 1024 / row.clients:.0f} kB "
            f"| {row.rss_after:.0f} MB | {row.rss_peak:.0f} MB | {row.connect_s:.1f} s "
            f"| {row.server_cpu_ms:.0f} ms | {row.client_cpu_ms:.0f} ms "
            f"| {row.tally.events:,} | {row.tally.reloads}, {row.tally.closed}, {row.misses} "
            f"| {row.load:.1f} |"
        )
    if floor:
        clients = rows[0].clients if rows else 0
        lines.append(
            f"| bare sse-starlette (the floor) | {floor[0]:.0f} MB | {floor[1]:.0f} MB "
            f"| {(floor[1] - floor[0]) * 1024 / max(clients, 1):.0f} kB "
            "| - | - | - | - | - | - | - | - |"
        )
    verdicts = []
    for row in rows:
        last = [max(c.arrivals) - c.answered for c in row.changes]
        p99 = _percentile(last, 0.99) if last else float("inf")
        verdicts.append(
            f"{row.database}: p99 {'meets' if p99 <= 1 and not row.misses else 'misses'} "
            f"<= 1 s ({_ms(p99)}), memory "
            f"{'meets' if row.rss_after <= 200 and row.rss_connected <= 200 else 'misses'} "
            f"<= 200 MB ({max(row.rss_connected, row.rss_after):.0f} MB with the clients)"
        )
    return "\n".join(lines) + (
        f"\n\nGoals (issue 18): {'; '.join(verdicts)}.\n\n"
        f"One `rolodex serve` process (one uvicorn worker, embedded job worker on). The "
        f"clients: one asyncio process (uvloop) on the same 2 cores, raw sockets speaking "
        f"HTTP/1.1 to `GET /api/v1/stream` with a bearer token each (the admin's and "
        f"{AGENTS} agents' in turn), opened in waves of 50. Changes: {count} PATCHes one at "
        f"a time from one client, alternating the conversation's status (new <-> pending, "
        f"`PATCH /api/v1/conversations/{{id}}`) and a custom text attribute of its contact "
        f"(`PATCH /api/v1/contacts/{{id}}/attributes`); the next starts once every client has "
        f"its event (`conversation.updated` with that status change; `contact.updated` "
        f"with the new value), or after {EVENT_TIMEOUT:.0f} s (a missed change). Each "
        f"arrival is stamped when its bytes reach the client's socket callback, before "
        f"parsing; the clients parse only events that may match. Last client after the "
        f"response: the issue's figure (the PATCH's response to the last of the clients); "
        f"every client after the request: each client's latency from the PATCH being sent, "
        f"all clients of all changes. RSS: the server process's VmRSS (/proc), idle after "
        f"20 warm-up reads, 2 s after the last client connected, and after the changes; "
        f"per client: the difference connected - idle / clients; the peak (VmHWM) is "
        f"reached at start-up (migrations run in the process; the same with 100 clients). "
        f"The floor: a bare sse-starlette endpoint on uvicorn that never sends (no "
        f"application, no authentication), the same clients, in the same run. "
        f"Server CPU: the server process's user+system time over the changes / changes; "
        f"clients' CPU: this process's, likewise (the same 2 cores). Load avg: 1-minute, "
        f"after the changes."
    )


def main() -> None:
    """Measure each database and write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="Print, do not touch docs.")
    args = parser.parse_args()
    limit = raise_fd_limit(2 * args.clients + 1024)
    print(f"open files limit: {limit}")
    rows = []
    for database in args.databases.split(","):
        if database == "sqlite":
            rows.append(_measure("SQLite", None, args.clients, args.changes))
        elif database == "postgresql":
            url = fresh_postgres()
            if url is None:
                continue
            rows.append(_measure("PostgreSQL", url, args.clients, args.changes))
        else:
            raise SystemExit(f"unknown database {database!r}")
        print(_report(rows[-1:], args.changes))
    floor = bare_floor(args.clients)
    body = _report(rows, args.changes, floor)
    print(body)
    if not args.no_write:
        write_section("stream", "The live stream at 1,000 clients (issue 18)", body)


if __name__ == "__main__":
    main()

"""Platform webhooks (issue 17): acknowledged per second, then processed per second.

Ack: signed WhatsApp Cloud deliveries posted to a real `rolodex serve` (its worker off, so only
the webhook path runs: find the channel, check the signature, store the body, answer), as a
ratio to /healthz in the same run. Drain: 10,000 stored deliveries from 500 senders, then ONE
`rolodex worker` process until nothing is pending, checked for losses. SQLite and PostgreSQL.
Goals: ack >= 0.3x /healthz and p99 <= 4x p50; drain >= 0.1x /healthz on PostgreSQL (issue 17);
server CPU <= 1 ms per ack, one worker's CPU <= 4 ms per message on PostgreSQL (issue 22).
`--no-write` prints without writing the docs; `--database SQLite|PostgreSQL` runs one of them.

`python bench/webhooks.py --profile [plain|timed|cprofile]` instead fills PostgreSQL databases
the same way and drains each in this process: timed, with the intake's functions and statements
timed, or under cProfile (printed; nothing written to the docs).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import datetime as dt
import functools
import hashlib
import hmac
import inspect
import json
import os
import pstats
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _common import (
    POSTGRES_URL,
    Served,
    WrkResult,
    cpu_seconds,
    create_workspace,
    fresh_postgres,
    server,
    write_section,
    wrk,
)

SCRIPT = Path(__file__).with_suffix(".lua")
ROUND_SECONDS = 5
ROUNDS = 3
BODIES_PER_ROUND = 20_000  # more than a round can send at /healthz's rate; checked (wrapped)
BURST = 10_000
SENDERS = 500
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "bench-app-secret"
# Serve and worker are separate processes: the channel's secrets must open in both.
SECRET_KEY = "bench-" + "0" * 58
ENV = {
    "ROLODEX_RUN_WORKER": "0",
    "ROLODEX_ALLOW_PRIVATE_WEBHOOK_TARGETS": "1",
    "ROLODEX_SECRET_KEY": SECRET_KEY,
}


def _body(run: str, n: int) -> bytes:
    # A WhatsApp Cloud API delivery carrying one text message (tests/support/meta.py's shape).
    wa_id = str(34600000000 + n % SENDERS)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": f"Customer {n % SENDERS}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.bench-{run}-{n}",
                "timestamp": str(1764700000 + n),
                "type": "text",
                "text": {"body": f"Hola, ¿dónde está mi pedido {n}?"},
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


def _signature(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def _write_bodies(path: Path, run: str, count: int) -> None:
    with path.open("w") as out:
        for n in range(count):
            body = _body(run, n)
            out.write(f"{_signature(body)} {body.decode()}\n")


def _query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the benchmark's database directly (not through Rolodex)."""
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(database_url.split("///", 1)[1], timeout=60)) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        return conn.execute(sql).fetchall()


def _scalar(database_url: str, sql: str) -> Any:
    return _query(database_url, sql)[0][0]


def _backends(database_url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend on the database (none on SQLite)."""
    if database_url.startswith("sqlite"):
        return {}
    rows = _query(
        database_url,
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    found = {}
    for (pid,) in rows:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # ended meanwhile
            found[int(pid)] = cpu_seconds(int(pid))
    return found


def _backends_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """The backends' CPU between two snapshots (one born meanwhile counts all of its own)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _analyze(database_url: str) -> None:
    """ANALYZE a PostgreSQL benchmark database after loading it (statistics for the planner)."""
    if database_url.startswith("sqlite"):
        return
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("ANALYZE")


def _setup(url: str, database_url: str) -> str:
    """A workspace and a connected WhatsApp channel; its webhook URL."""
    token = create_workspace(database_url)["token"]
    connection = {
        "provider": "whatsapp_cloud",
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": "EAAG-bench-token",
        "app_secret": APP_SECRET,
    }
    response = httpx.post(
        f"{url}/api/v1/channels",
        json={"medium": "whatsapp", "name": "WhatsApp", "connection": connection},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return f"{url}/webhooks/{response.json()['id']}"


def _median(results: list[WrkResult]) -> WrkResult:
    rate = statistics.median(r.requests_per_second for r in results)
    return min(results, key=lambda r: abs(r.requests_per_second - rate))


def _load() -> float:
    return os.getloadavg()[0]


@dataclass
class Ack:
    """The ack rounds of one database."""

    database: str
    ack: WrkResult
    health: WrkResult
    cpu_ms: float  # server CPU per acknowledged delivery, median round
    health_cpu_ms: float
    database_cpu_ms: float | None  # PostgreSQL's backends' CPU per delivery (None: SQLite)
    sent: int  # requests wrk completed over the measured rounds and warm-up
    stored: int  # webhook_events rows afterwards (>= sent: wrk drops requests in flight)
    distinct: int  # distinct bodies among them
    load: float


def _ack(database: str, database_url: str | None, tmp: Path) -> Ack:
    with server(database_url) as served:
        webhook = _setup(served.url, served.database_url)
        pid = served.pid or 0
        sent = 0

        def post(run: str, seconds: int) -> tuple[WrkResult, float, float]:
            nonlocal sent
            bodies, report = tmp / f"bodies-{run}.txt", tmp / f"report-{run}.txt"
            _write_bodies(bodies, run, BODIES_PER_ROUND)
            env = {"BODIES": str(bodies), "REPORT": str(report), "THREADS": "2"}
            backends = _backends(served.database_url)
            before = cpu_seconds(pid)
            result = wrk(webhook, seconds=seconds, script=SCRIPT, env=env)
            spent = cpu_seconds(pid) - before
            database = _backends_spent(backends, _backends(served.database_url))
            requests, wrapped, _errors = (int(x) for x in report.read_text().split())
            if wrapped:
                raise SystemExit(f"{run}: bodies ran out ({requests} requests); raise the count")
            sent += requests
            return result, spent * 1000 / max(requests, 1), database * 1000 / max(requests, 1)

        def health() -> tuple[WrkResult, float]:
            before = cpu_seconds(pid)
            result = wrk(f"{served.url}/healthz", seconds=ROUND_SECONDS)
            spent = cpu_seconds(pid) - before
            return result, spent * 1000 / max(result.requests_per_second * ROUND_SECONDS, 1)

        wrk(f"{served.url}/healthz", seconds=2)
        post(f"w{uuid.uuid4().hex[:6]}", 2)  # warm-up
        acks, healths = [], []
        for _ in range(ROUNDS):
            healths.append(health())
            acks.append(post(uuid.uuid4().hex[:8], ROUND_SECONDS))
        load = _load()
        ack = _median([a for a, _c, _d in acks])
        healthz = _median([h for h, _ in healths])
        stored, distinct = _query(
            served.database_url, "SELECT count(*), count(DISTINCT body) FROM webhook_events"
        )[0]
        return Ack(
            database,
            ack,
            healthz,
            statistics.median(c for _, c, _d in acks),
            statistics.median(c for _, c in healths),
            None if database == "SQLite" else statistics.median(d for _a, _c, d in acks),
            sent,
            stored,
            distinct,
            load,
        )


async def _burst(webhook: str, run: str, count: int, concurrency: int = 16) -> int:
    """Post `count` signed deliveries through the webhook URL, each until acknowledged.

    A delivery whose answer is lost (a connection error) is posted again, as platforms do;
    returns how many were, since each may have been stored twice.
    """
    queue = iter(range(count))
    again = 0
    async with httpx.AsyncClient(timeout=60) as client:

        async def send() -> None:
            nonlocal again
            for n in queue:
                body = _body(run, n)
                headers = {
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": _signature(body),
                }
                for attempt in range(5):
                    try:
                        response = await client.post(webhook, content=body, headers=headers)
                        break
                    except httpx.TransportError as exc:
                        print(f"delivery {n}, attempt {attempt + 1}: {exc!r}", flush=True)
                        again += 1
                else:
                    raise RuntimeError(f"delivery {n}: no answer in 5 attempts")
                if response.status_code != 200:
                    raise RuntimeError(f"delivery {n}: {response.status_code} {response.text}")

        await asyncio.gather(*(send() for _ in range(concurrency)))
    return again


def _timestamp(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=None)


@dataclass
class Drain:
    """One worker draining BURST stored deliveries."""

    database: str
    messages_per_second: float  # first to last processed_at
    wall_seconds: float  # `rolodex worker` launched until nothing pending (start-up included)
    worker_cpu_ms: float  # the worker process's CPU per message
    database_cpu_ms: float | None  # PostgreSQL's backends' CPU per message (None: SQLite)
    health: WrkResult  # median of the /healthz rounds before and after
    counts: dict[str, int]
    load: float
    errors_logged: list[str]  # ERROR lines of the worker's log


def _health_rounds(url: str) -> list[WrkResult]:
    return [wrk(f"{url}/healthz", seconds=ROUND_SECONDS) for _ in range(ROUNDS)]


def _fill(served: Served) -> int:
    """A connected channel and BURST deliveries stored (the server's worker is off); how many
    rows (a few more than BURST when answers were lost and deliveries posted again)."""
    webhook = _setup(served.url, served.database_url)
    again = asyncio.run(_burst(webhook, "d", BURST))
    stored = int(_scalar(served.database_url, "SELECT count(*) FROM webhook_events"))
    if not BURST <= stored <= BURST + again:
        raise SystemExit(f"{stored} deliveries stored, expected {BURST} (+ up to {again})")
    _analyze(served.database_url)
    return stored


def _drain(database: str, database_url: str | None, tmp: Path) -> Drain:
    with server(database_url) as served:
        url, db_url = served.url, served.database_url
        wrk(f"{url}/healthz", seconds=2)
        healths = _health_rounds(url)
        stored = _fill(served)
        env = {**os.environ, "ROLODEX_DATABASE_URL": db_url, "ROLODEX_DATA_DIR": str(tmp)}
        started = time.monotonic()
        log = (tmp / f"worker-{database}.log").open("w+")
        worker = subprocess.Popen(
            [sys.executable, "-m", "rolodex", "worker"], env=env, stderr=log, stdout=log
        )
        try:
            # Worker CPU from the first poll that sees deliveries processed (its start-up
            # not counted) to the end, over the deliveries processed meanwhile.
            first: tuple[int, float, dict[int, float]] | None = None
            while pending := _scalar(
                db_url, "SELECT count(*) FROM webhook_events WHERE status = 'pending'"
            ):
                if first is None and pending < stored:
                    first = (pending, cpu_seconds(worker.pid), _backends(db_url))
                if time.monotonic() - started > 3600 or worker.poll() is not None:
                    raise SystemExit("the worker stopped or did not finish in an hour")
                time.sleep(0.5)
            wall = time.monotonic() - started
            load = _load()
            counted, cpu_then, backends = first or (stored, 0.0, {})
            worker_cpu_ms = (cpu_seconds(worker.pid) - cpu_then) * 1000 / counted
            database_cpu_ms = (
                None
                if database == "SQLite"
                else _backends_spent(backends, _backends(db_url)) * 1000 / counted
            )
        finally:
            worker.terminate()
            worker.wait(30)
            log.seek(0)
            # What the worker logged as errors, and the exceptions their tracebacks end with.
            errors = [
                line.strip()
                for line in log
                if line.startswith("ERROR") or re.match(r"[\w.]+(Error|Exception): ", line)
            ]
            log.close()
        healths += _health_rounds(url)
        counts, rate = _check(db_url)
        counts["stored"] = stored
        health = _median(healths)
        return Drain(
            database, rate, wall, worker_cpu_ms, database_cpu_ms, health, counts, load, errors
        )


def _check(db_url: str) -> tuple[dict[str, int], float]:
    """What the drain left: every delivery processed into its own message, none failed."""
    statuses = dict(_query(db_url, "SELECT status, count(*) FROM webhook_events GROUP BY status"))
    outcomes = [
        json.loads(o) if isinstance(o, str) else o
        for (o,) in _query(db_url, "SELECT outcome FROM webhook_events")
    ]
    first = _scalar(db_url, "SELECT min(processed_at) FROM webhook_events")
    last = _scalar(db_url, "SELECT max(processed_at) FROM webhook_events")
    counts = {
        "processed": int(statuses.get("processed", 0)),
        "pending": int(statuses.get("pending", 0)),
        "failed": int(statuses.get("failed", 0)),
        "outcome messages": sum(o["messages"] for o in outcomes if o),
        "outcome duplicates": sum(o["duplicates"] for o in outcomes if o),
        "messages": _scalar(
            db_url,
            "SELECT count(DISTINCT external_id) FROM messages WHERE external_id LIKE 'wamid.%'",
        ),
        "contacts": _scalar(db_url, "SELECT count(*) FROM contacts"),
        "conversations": _scalar(db_url, "SELECT count(*) FROM conversations"),
    }
    seconds = (_timestamp(last) - _timestamp(first)).total_seconds()
    return counts, (counts["processed"] - 1) / seconds


def _complete(counts: dict[str, int]) -> bool:
    return (
        counts["processed"] == counts["stored"]
        and counts["messages"] == counts["outcome messages"] == BURST
        and counts["outcome duplicates"] == counts["stored"] - BURST
        and counts["pending"] == counts["failed"] == 0
        and counts["contacts"] == SENDERS
    )


def _ms(value: float | None) -> str:
    return "in process" if value is None else f"{value:.2f} ms"


def _verdict(met: bool) -> str:
    return "meets" if met else "misses"


def _deliveries(stored: int) -> str:
    return f"{stored:,}" + (f" ({stored - BURST} stored twice)" if stored > BURST else "")


def _logged(lines: list[str]) -> str:
    if not lines:
        return "no error"
    counts: dict[str, int] = {}
    for line in lines:
        counts[line[:100]] = counts.get(line[:100], 0) + 1
    return "; ".join(f"{n}x `{line}`" for line, n in counts.items())


def _git(*args: str) -> str:
    where = str(Path(__file__).parent)
    return subprocess.run(["git", "-C", where, *args], capture_output=True, text=True).stdout


def _commit() -> str:
    """The commit measured, and whether src/ differs from it (a digest of the difference)."""
    changes = _git("diff", "HEAD", "--", "../src")
    digest = hashlib.sha256(changes.encode()).hexdigest()[:8]
    head = _git("rev-parse", "--short", "HEAD").strip()
    return f"{head} with uncommitted changes to src/ ({digest})" if changes else head


def _report(acks: list[Ack], drains: list[Drain], autovacuum: str = "") -> str:
    lines = [
        "| database | webhook acks/s | p50 | p99 | p99/p50 | /healthz req/s (p50, p99) | ratio "
        "| server CPU per ack | per /healthz | PostgreSQL's CPU per ack | errors "
        "| acked, stored (distinct) | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for a in acks:
        r, h = a.ack, a.health
        lines.append(
            f"| {a.database} | {r.requests_per_second:,.0f} | {r.p50_ms:.1f} ms "
            f"| {r.p99_ms:.1f} ms | {r.p99_ms / r.p50_ms:.1f}x | {h.requests_per_second:,.0f} "
            f"({h.p50_ms:.1f} ms, {h.p99_ms:.1f} ms) "
            f"| {r.requests_per_second / h.requests_per_second:.2f}x | {a.cpu_ms:.2f} ms "
            f"| {a.health_cpu_ms:.2f} ms | {_ms(a.database_cpu_ms)} | {r.errors} "
            f"| {a.sent:,}, {a.stored:,} "
            f"({a.distinct:,}) | {a.load:.1f} |"
        )
    lines += [
        "",
        "| database | deliveries | one worker: messages/s | /healthz req/s | ratio "
        "| worker CPU per message | PostgreSQL's CPU per message | launch to none pending "
        "| processed, failed, pending | messages (distinct ids) | contacts | worker's log "
        "| load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d in drains:
        c = d.counts
        lines.append(
            f"| {d.database} | {_deliveries(c['stored'])} | {d.messages_per_second:,.0f} "
            f"| {d.health.requests_per_second:,.0f} "
            f"| {d.messages_per_second / d.health.requests_per_second:.3f}x "
            f"| {d.worker_cpu_ms:.2f} ms | {_ms(d.database_cpu_ms)} | {d.wall_seconds:.1f} s "
            f"| {c['processed']:,}, {c['failed']}, {c['pending']} | {c['messages']:,} "
            f"| {c['contacts']} | {_logged(d.errors_logged)} | {d.load:.1f} |"
        )
    goals = []
    for a in acks:
        goals.append(f"{a.database} ack CPU {_verdict(a.cpu_ms <= 1)} <= 1 ms ({a.cpu_ms:.2f} ms)")
        ratio = a.ack.requests_per_second / a.health.requests_per_second
        spread = a.ack.p99_ms / a.ack.p50_ms
        goals.append(f"{a.database} ack {_verdict(ratio >= 0.3)} >= 0.3x ({ratio:.2f}x)")
        floor = a.health.p99_ms / a.health.p50_ms
        goals.append(
            f"{a.database} p99 {_verdict(spread <= 4)} <= 4x p50 ({spread:.1f}x; /healthz's "
            f"own in the same rounds {floor:.1f}x)"
        )
    for d in drains:
        ratio = d.messages_per_second / d.health.requests_per_second
        goal = f"{_verdict(ratio >= 0.1)} >= 0.1x" if d.database == "PostgreSQL" else "no goal"
        goals.append(f"{d.database} drain {goal} ({ratio:.3f}x)")
        if d.database == "PostgreSQL":
            goals.append(
                f"{d.database} drain CPU {_verdict(d.worker_cpu_ms <= 4)} <= 4 ms per message "
                f"({d.worker_cpu_ms:.2f} ms)"
            )
        if not _complete(d.counts):
            goals.append(f"{d.database} drain LOST OR FAILED DELIVERIES: {d.counts}")
    how = [
        f"Goals (issues 17 and 22): {'; '.join(goals)}.",
        f"""Rolodex at commit {_commit()}. Ack: a WhatsApp Cloud channel connected through the
        API (`connection` with an app secret), `rolodex serve` with `ROLODEX_RUN_WORKER=0` so
        that only the webhook path runs (find the channel, check `X-Hub-Signature-256` over the
        raw body, store the body, answer once it is committed). wrk -t2 -c50 through
        `bench/webhooks.lua`, which cycles through {BODIES_PER_ROUND:,} bodies signed
        beforehand with HMAC-SHA256 (wrk's LuaJIT has none), written fresh for each round:
        every request carries its own message id (`wamid.bench-<round>-<n>`, one text message
        from one of {SENDERS} wa_ids) and a valid signature, and no round ran out of bodies.
        After a 2 s warm-up, {ROUNDS} alternating rounds of {ROUND_SECONDS} s of `/healthz` and
        of the webhook; each figure is the median round. Server CPU: the `rolodex serve`
        process's user+system CPU over a round / its requests; PostgreSQL's: its backends'
        CPU on the benchmark's database over the same round / the requests (SQLite's runs in
        the server process).
        Acked, stored (distinct): requests wrk completed, rows in webhook_events afterwards (a
        few more: wrk drops the replies in flight when it stops) and distinct bodies among
        them.""",
        f"""Drain: a fresh database, {BURST:,} deliveries from {SENDERS} wa_ids
        ({BURST // SENDERS} messages each, so contacts and their open conversation repeat)
        posted through the same webhook URL with the worker off (a delivery whose answer was
        lost is posted again, as platforms do: the deliveries column says so), then one
        `rolodex worker`
        process (default concurrency) started and the database polled every 0.5 s until
        nothing was pending. Messages/s: deliveries / the span of their `processed_at` (first
        to last, the worker's start-up not counted); launch to none pending includes it.
        Worker CPU: the worker process's CPU from the first poll that saw deliveries processed
        to the end / the deliveries processed meanwhile; PostgreSQL's: its backends' CPU on the
        database over the same span / the same deliveries. The PostgreSQL database is
        `ANALYZE`d after the burst is stored, before the worker starts. /healthz: the median of
        {2 * ROUNDS} rounds of {ROUND_SECONDS} s on the same (idle) server, {ROUNDS} before the
        burst and {ROUNDS} after the drain. Checked afterwards: every delivery `processed`, with
        one message each and a duplicate only for those stored twice, none failed or pending,
        one message per id, {SENDERS} contacts. Worker's log: the ERROR lines `rolodex worker`
        wrote and the exceptions their tracebacks end with. Load avg: the machine's 1-minute
        load average at the end of the rounds (2 cores)."""
        + (
            """ PostgreSQL's autovacuum is off on this server, so the tables the drain fills
            have no statistics while it runs (as in a fresh database's first minute)."""
            if autovacuum == "off"
            else ""
        ),
    ]
    return "\n".join(lines) + "\n\n" + "\n\n".join(" ".join(p.split()) for p in how)


def main() -> None:
    """Run both databases and write the section (not when the code changed meanwhile)."""
    os.environ.update(ENV)
    commit = _commit()
    acks: list[Ack] = []
    drains: list[Drain] = []
    with tempfile.TemporaryDirectory(prefix="rolodex-bench-webhooks-") as name:
        tmp = Path(name)
        chosen = sys.argv[sys.argv.index("--database") + 1] if "--database" in sys.argv else ""
        for database in [d for d in ("SQLite", "PostgreSQL") if chosen in ("", d)]:
            # A fresh database for each part (SQLite: server() makes a new file).
            fresh: Callable[[], str | None] = (
                fresh_postgres if database == "PostgreSQL" else lambda: None
            )
            url = fresh()
            if database == "PostgreSQL" and url is None:
                continue
            acks.append(_ack(database, url, tmp))
            print(acks[-1], flush=True)
            drains.append(_drain(database, fresh(), tmp))
            print(drains[-1], flush=True)
    autovacuum = ""
    if len(drains) > 1:
        autovacuum = str(_scalar(POSTGRES_URL.rsplit("/", 1)[0] + "/postgres", "SHOW autovacuum"))
    body = _report(acks, drains, autovacuum)
    print(body)
    if "--no-write" in sys.argv:
        return
    if _commit() != commit:
        raise SystemExit(f"not written: the commit moved from {commit} to {_commit()} meanwhile")
    write_section("webhooks", "Platform webhooks: acknowledged, then processed (issue 17)", body)


def profile(modes: list[str]) -> None:
    """Fresh PostgreSQL databases of BURST deliveries, each drained in this process.

    plain: Worker.drain_intake timed (wall, CPU); timed: the intake's functions wrapped with
    timers (inclusive and own wall and CPU) and every statement timed; cprofile: cProfile with
    a CPU clock, its own time summed by package. Each mode in its own process (timed patches
    modules). Printed, not written to the docs.
    """
    if len(modes) != 1:
        for mode in modes or ["plain", "timed", "cprofile"]:
            subprocess.run([sys.executable, __file__, "--profile", mode], check=True)
        return
    os.environ.update(ENV)
    database_url = fresh_postgres()
    if database_url is None:
        raise SystemExit("PostgreSQL is needed")
    with server(database_url) as served:
        _fill(served)
    print(f"== {modes[0]} (load avg {_load():.1f})", flush=True)
    asyncio.run(_profiled_drain(database_url, modes[0]))


class _Timers:
    """Wall and CPU time of wrapped functions, inclusive and own (the drain runs one at a time)."""

    def __init__(self) -> None:
        self.stats: dict[str, list[float]] = {}  # calls, wall, cpu, own wall, own cpu
        self.stack: list[list[float]] = []  # start wall, start cpu, children's wall, cpu

    def enter(self) -> None:
        self.stack.append([time.perf_counter(), time.process_time(), 0.0, 0.0])

    def leave(self, name: str) -> None:
        start, cpu_start, child_wall, child_cpu = self.stack.pop()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        row = self.stats.setdefault(name, [0, 0.0, 0.0, 0.0, 0.0])
        row[0] += 1
        row[1] += wall
        row[2] += cpu
        row[3] += wall - child_wall
        row[4] += cpu - child_cpu
        if self.stack:
            self.stack[-1][2] += wall
            self.stack[-1][3] += cpu

    def wrap(self, owner: Any, attribute: str, name: str | None = None) -> None:
        original = getattr(owner, attribute)
        label = name or f"{owner.__name__.removeprefix('rolodex.')}.{attribute}"
        setattr(owner, attribute, self.timed(original, label))

    def timed(self, original: Any, label: str) -> Any:
        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                self.enter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.leave(label)

            return timed_async

        @functools.wraps(original)
        def timed_sync(*args: Any, **kwargs: Any) -> Any:
            self.enter()
            try:
                return original(*args, **kwargs)
            finally:
                self.leave(label)

        return timed_sync


def _instrument(timers: _Timers) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

    from rolodex.attributes import service as attributes
    from rolodex.channels import connections, inbound, intake, repository
    from rolodex.channels.connectors.whatsapp_cloud import WhatsAppCloud
    from rolodex.contacts import service as contacts
    from rolodex.conversations import repository as conversation_rows
    from rolodex.conversations import service as conversations
    from rolodex.kit.events import registry

    for owner, names in (
        (intake, ("_process_one", "_message", "_after_message", "_region", "_known_ids")),
        (intake, ("_parse",)),
        (repository, ("claim_channel_with_pending", "pending_events", "finish_events")),
        (connections, ("load",)),
        (conversations, ("find_received", "received_ids", "receive_message", "_append", "emit")),
        (inbound, ("store", "_contact_with_values", "sender_values")),
        (attributes, ("ensure_definitions", "check_sender_attributes", "write_values")),
        (contacts, ("identify", "rename", "emit")),
        (conversation_rows, ("open_conversation", "insert_inbound_message")),
        (WhatsAppCloud, ("parse",)),
        (AsyncSession, ("commit",)),
        (AsyncSessionTransaction, ("__aenter__", "__aexit__")),
    ):
        for name in names:
            if hasattr(owner, name):  # the code moves; time what is there
                timers.wrap(owner, name)
    for handlers in registry._in_transaction.values():
        for n, handler in enumerate(handlers):
            handlers[n] = timers.timed(
                handler, f"subscriber {handler.__module__}.{handler.__name__}"
            )


async def _profiled_drain(database_url: str, mode: str) -> None:
    from sqlalchemy import event

    from rolodex import subscriptions
    from rolodex.config import Settings
    from rolodex.db import open_database
    from rolodex.jobs.registry import load_job_modules
    from rolodex.worker import Worker

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            database_url=database_url, secret_key=SECRET_KEY, data_dir=Path(data_dir)
        )
        load_job_modules(settings.job_modules)
        subscriptions.register_all()
        db = open_database(database_url)
        timers = _Timers()
        statements: dict[str, list[float]] = {}
        if mode == "timed":
            _instrument(timers)
            started_at: list[float] = []

            def before(*_args: Any) -> None:
                started_at.append(time.perf_counter())

            def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
                elapsed = time.perf_counter() - started_at.pop()
                key = re.sub(r"sa_savepoint_\d+", "sa_savepoint_N", " ".join(statement.split()))
                row = statements.setdefault(key[:90], [0, 0.0])
                row[0] += 1
                row[1] += elapsed

            event.listen(db.write_engine.sync_engine, "before_cursor_execute", before)
            event.listen(db.write_engine.sync_engine, "after_cursor_execute", after)
        profiler = cProfile.Profile(time.process_time)
        started, cpu = time.perf_counter(), time.process_time()
        if mode == "cprofile":
            profiler.enable()
        processed = await Worker(db, settings).drain_intake()
        profiler.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        await db.dispose()
    print(
        f"{processed} deliveries in {wall:.1f} s ({processed / wall:.0f}/s): "
        f"{wall * 1000 / processed:.2f} ms wall, {cpu * 1000 / processed:.2f} ms CPU per delivery"
    )
    if mode == "timed":
        print("calls/delivery  wall ms  CPU ms  own wall  own CPU  (per delivery)  function")
        for label, (calls, w, c, ow, oc) in sorted(timers.stats.items(), key=lambda kv: -kv[1][1]):
            per = 1000 / processed
            print(
                f"{calls / processed:8.2f} {w * per:9.3f} {c * per:7.3f} {ow * per:9.3f} "
                f"{oc * per:8.3f}  {label}"
            )
        total = sum(n for n, _ in statements.values())
        spent = sum(t for _, t in statements.values())
        print(
            f"{total / processed:.2f} statements per delivery, "
            f"{spent * 1000 / processed:.3f} ms wall per delivery executing them:"
        )
        for key, (n, t) in sorted(statements.items(), key=lambda kv: -kv[1][1])[:25]:
            print(
                f"{n / processed:8.2f} {t * 1000 / processed:8.3f} ms {t * 1000 / n:7.3f} ms  {key}"
            )
    if mode == "cprofile":
        out = Path(tempfile.gettempdir()) / "webhooks-drain.prof"
        profiler.dump_stats(out)
        stats = pstats.Stats(profiler)
        by_package: dict[str, float] = {}
        for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
            match = re.search(r"site-packages/([^/]+)", filename) or re.search(
                r"/src/(rolodex/[^/.]+)|python3\.11/([^/.]+)", filename
            )
            package = next((g for g in match.groups() if g), "?") if match else filename
            by_package[package] = by_package.get(package, 0.0) + row[2]
        total = sum(by_package.values())
        print(f"CPU by package (own time, cProfile with a CPU clock; {total:.1f} s in all):")
        for package, spent in sorted(by_package.items(), key=lambda kv: -kv[1])[:20]:
            print(
                f"{spent * 1000 / processed:8.3f} ms per delivery  {spent / total:5.1%}  {package}"
            )
        stats.sort_stats("tottime").print_stats(40)
        print(f"profile written to {out}")


if __name__ == "__main__":
    if "--profile" in sys.argv:
        profile(sys.argv[sys.argv.index("--profile") + 1 :])
    else:
        main()

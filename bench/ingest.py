"""Inbound messages over HTTP on one uvicorn worker: server CPU per message beside /healthz.

Two workspaces on one server: a bare one (a web-chat channel, nothing configured) and a
configured one (a contact group every sender joins, routing with a VIP team, a group route,
a fallback and priorities, a CRM connected with the web-chat email as its lookup attribute,
so each new sender queues a look-up job). Per workspace, new senders (every message creates
a contact and a conversation) and returning senders (a pool of 500 contacts, messages
append to open conversations), on SQLite and on PostgreSQL (ANALYZEd after each warm-up).
The embedded job worker is off: the queued look-ups are not run, so the figures are the
synchronous request's own work. Goals (issue 22): with the group, routing and CRM, a new
sender <= 5 ms of server CPU on PostgreSQL and <= 7 ms on SQLite, a returning sender
<= 2.5 ms; on the bare workspace a new sender <= 3 ms on PostgreSQL; p99 <= 4x p50.
"""

from __future__ import annotations

import os
import statistics
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import (
    WrkResult,
    cpu_seconds,
    cpu_verdict,
    create_workspace,
    fresh_postgres,
    server,
    write_section,
    wrk,
)

SCRIPT = Path(__file__).with_suffix(".lua")
SECONDS = 5
ROUNDS = 3
CONNECTIONS = 32
# (workspace, senders) -> (goal on PostgreSQL, goal on SQLite) in ms of server CPU per message.
GOALS: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("configured", "new"): (5.0, 7.0),
    ("configured", "returning"): (2.5, 2.5),
    ("bare", "new"): (3.0, None),
}


@dataclass
class Row:
    """One measured row: the median round of the inbound runs and of /healthz."""

    label: str
    goal: float | None
    inbound: WrkResult
    health: WrkResult
    cpu: float
    health_cpu: float
    load: float


def _workspace(url: str, database_url: str, configured: bool) -> tuple[str, str]:
    created = create_workspace(database_url)
    headers = {"Authorization": f"Bearer {created['token']}"}

    def call(method: str, path: str, body: dict[str, object]) -> dict[str, object]:
        response = httpx.request(method, f"{url}/api/v1{path}", json=body, headers=headers)
        response.raise_for_status()
        out: dict[str, object] = response.json()
        return out

    channel = str(call("POST", "/channels", {"medium": "webchat", "name": "Shop chat"})["id"])
    if configured:
        sales = call("POST", "/teams", {"name": "Sales"})["id"]
        support = call("POST", "/teams", {"name": "Support"})["id"]
        rule = {"attribute": "webchat-email", "operator": "contains", "value": "example"}
        call("POST", "/contact-groups", {"name": "Shoppers", "key": "shoppers", "rules": [rule]})
        call(
            "PATCH",
            "/settings/routing",
            {
                "vip_team_id": sales,
                "group_routes": [{"group": "shoppers", "team_id": sales}],
                "fallback_team_id": support,
                "prioritized_groups": [
                    {"group": "vip", "weight": 50},
                    {"group": "shoppers", "weight": 10},
                ],
                "prioritized_channel_ids": [{"channel_id": channel, "weight": 5}],
            },
        )
        call("PATCH", "/attributes/webchat-email", {"lookup": True})
        crm = "https://crm.example.test"
        call(
            "PUT",
            "/integrations/crm",
            {"lookup_url": f"{crm}/lookup", "write_back_url": f"{crm}/write-back"},
        )
    return created["token"], channel


def _analyze(database_url: str) -> None:
    # Fresh statistics, as a deployment's autovacuum would keep them: plans as in production.
    if database_url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("ANALYZE")


def _round(pid: int, url: str, **options: object) -> tuple[WrkResult, float]:
    # Server CPU per request: less sensitive than req/s to other work on a shared machine.
    before = cpu_seconds(pid)
    result = wrk(url, seconds=SECONDS, connections=CONNECTIONS, **options)  # type: ignore[arg-type]
    spent = cpu_seconds(pid) - before
    return result, spent * 1000 / max(result.requests_per_second * SECONDS, 1)


def _median(rounds: list[tuple[WrkResult, float]]) -> tuple[WrkResult, float]:
    cpu = statistics.median(c for _, c in rounds)
    return min(rounds, key=lambda r: abs(r[1] - cpu))


def _measure(database: str, database_url: str | None) -> list[Row]:
    rows = []
    postgres = database == "PostgreSQL"
    with server(database_url) as served:
        url, pid = served.url, served.pid or 0
        wrk(f"{url}/healthz", seconds=2)
        for workspace in ("bare", "configured"):
            token, channel_id = _workspace(url, served.database_url, workspace == "configured")
            inbound = f"{url}/api/v1/channels/{channel_id}/inbound"
            for senders, count in (("new", "0"), ("returning", "500")):
                env = {"TOKEN": token, "SENDERS": count}
                wrk(inbound, seconds=2, script=SCRIPT, env={**env, "RUN": uuid.uuid4().hex[:6]})
                _analyze(served.database_url)
                healths, inbounds = [], []
                for _ in range(ROUNDS):
                    healths.append(_round(pid, f"{url}/healthz"))
                    run = {**env, "RUN": uuid.uuid4().hex[:6]}
                    inbounds.append(_round(pid, inbound, script=SCRIPT, env=run))
                (h, h_cpu), (r, cpu) = _median(healths), _median(inbounds)
                goals = GOALS.get((workspace, senders), (None, None))
                rows.append(
                    Row(
                        f"{database}, {workspace}, {senders} senders",
                        goals[0] if postgres else goals[1],
                        r,
                        h,
                        cpu,
                        h_cpu,
                        os.getloadavg()[0],
                    )
                )
                print(rows[-1].label, f"{cpu:.2f} ms", flush=True)
    return rows


def _line(row: Row) -> str:
    r, h = row.inbound, row.health
    goal = "" if row.goal is None else cpu_verdict(row.cpu, row.health_cpu, row.goal)
    return (
        f"| {row.label} | {row.cpu:.2f} ms | {row.health_cpu:.2f} ms | {goal or '-'} "
        f"| {r.requests_per_second:,.0f} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms "
        f"| {r.p99_ms / max(r.p50_ms, 0.001):.1f}x | {h.requests_per_second:,.0f} "
        f"| {r.requests_per_second / h.requests_per_second:.3f}x | {r.errors} | {row.load:.1f} |"
    )


def main() -> None:
    """Run both databases and write the table."""
    # The queued CRM look-ups would otherwise run (and fail) in the server being measured.
    os.environ["ROLODEX_RUN_WORKER"] = "false"
    rows = _measure("SQLite", None)
    pg = fresh_postgres()
    if pg:
        rows += _measure("PostgreSQL", pg)
    lines = [
        "| database, workspace, senders | server CPU per message | per /healthz "
        "| goal (ms; /healthz units) | inbound req/s | p50 | p99 | p99/p50 | /healthz req/s "
        "| ratio | errors | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_line(row) for row in rows),
    ]
    body = "\n".join(lines) + (
        f"\n\nwrk -t2 -c{CONNECTIONS} through `bench/ingest.lua` (a web-chat sender with four "
        "platform attributes, a unique external id per message); per row a 2 s warm-up (which "
        "also makes the 500 returning senders), ANALYZE on PostgreSQL, then "
        f"{ROUNDS} alternating rounds of {SECONDS} s of /healthz and of inbound messages; each "
        "figure is the median round. Server CPU per message = the server process's "
        "user+system CPU over a round / its requests (the database's own CPU not counted). "
        "Bare: a web-chat channel only. Configured: a contact group every sender joins, "
        "routing (VIP team, a group route, a fallback, three priorities), a CRM connected with "
        "the web-chat email as lookup attribute (each new sender queues a look-up job; the "
        "embedded worker is off so they are not run). Load avg: the 1-minute load average "
        "after the row (2 cores). Goals: in ms as issue 22 set them, and in /healthz units "
        "(this run's figure / its /healthz against the goal / 0.26 ms, the /healthz of the "
        "machine the issue measured on)."
    )
    print(body)
    write_section("ingest", "Inbound messages (issues 3, 22)", body)


if __name__ == "__main__":
    main()

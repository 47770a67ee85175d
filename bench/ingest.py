"""Inbound messages per second over HTTP on one uvicorn worker, as a ratio to /healthz.

New senders (every message creates a contact and a conversation) and returning
senders (a pool of 500 contacts, messages append to open conversations), on
SQLite and on PostgreSQL. Goal (issue 3): >= 0.25x the health-check rate, p99 <= 4x p50.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from _common import (
    WrkResult,
    cpu_seconds,
    create_workspace,
    fresh_postgres,
    server,
    write_section,
    wrk,
)

SCRIPT = Path(__file__).with_suffix(".lua")
SECONDS = 10


def _setup(url: str, database_url: str) -> tuple[str, str]:
    created = create_workspace(database_url)
    token = created["token"]
    channel = httpx.post(
        f"{url}/api/v1/channels",
        json={"medium": "webchat", "name": "Shop chat"},
        headers={"Authorization": f"Bearer {token}"},
    )
    channel.raise_for_status()
    return token, channel.json()["id"]


Row = tuple[str, WrkResult, WrkResult, float, float]


def _cpu_ms_per_request(pid: int, url: str, **options: Any) -> tuple[WrkResult, float]:
    # Server CPU per request: less sensitive than req/s to other work on a shared machine.
    before = cpu_seconds(pid)
    result = wrk(url, seconds=SECONDS, **options)
    spent = cpu_seconds(pid) - before
    return result, spent * 1000 / max(result.requests_per_second * SECONDS, 1)


def _measure(database: str, database_url: str | None) -> list[Row]:
    rows = []
    with server(database_url) as served:
        url = served.url
        token, channel_id = _setup(url, served.database_url)
        inbound = f"{url}/api/v1/channels/{channel_id}/inbound"
        env = {"TOKEN": token}
        wrk(f"{url}/healthz", seconds=2)
        for label, senders in (("new senders", "0"), ("returning senders", "500")):
            wrk(inbound, seconds=2, script=SCRIPT, env={**env, "SENDERS": senders, "RUN": "w"})
            pid = served.pid or 0
            health, health_cpu = _cpu_ms_per_request(pid, f"{url}/healthz")
            run_env = {**env, "SENDERS": senders, "RUN": uuid.uuid4().hex[:6]}
            result, cpu = _cpu_ms_per_request(pid, inbound, script=SCRIPT, env=run_env)
            rows.append((f"{database}, {label}", result, health, cpu, health_cpu))
    return rows


def main() -> None:
    """Run both databases and write the table."""
    rows = _measure("SQLite", None)
    pg = fresh_postgres()
    if pg:
        rows += _measure("PostgreSQL", pg)
    lines = [
        "| database, senders | inbound req/s | p50 | p99 | p99/p50 "
        "| /healthz req/s | ratio | server CPU per message | per /healthz | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r, h, cpu, health_cpu in rows:
        lines.append(
            f"| {label} | {r.requests_per_second:,.0f} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms "
            f"| {r.p99_ms / r.p50_ms:.1f}x | {h.requests_per_second:,.0f} "
            f"| {r.requests_per_second / h.requests_per_second:.2f}x | {cpu:.2f} ms "
            f"| {health_cpu:.2f} ms | {r.errors} |"
        )
    body = "\n".join(lines) + (
        "\n\nwrk -t2 -c50, 10 s per row after a 2 s warm-up, `bench/ingest.lua` bodies (a web-chat "
        "sender with four platform attributes); /healthz measured in the same run just before. "
        "Server CPU per request = the server process's user+system CPU over the run / requests."
    )
    print(body)
    write_section("ingest", "Inbound messages (issue 3)", body)


if __name__ == "__main__":
    main()

"""The authenticated floor: server CPU per request of `GET /api/v1/me` beside `/healthz`.

Each row: one `rolodex serve` process on a fresh database, a warm-up, then alternating
rounds of wrk against /healthz and /api/v1/me (an admin's API token); the figure is the
server process's user+system CPU over a round divided by its requests, median of the rounds.
Goal (issue 22): /me at most 0.6 ms on both databases.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from _common import (
    cpu_seconds,
    create_workspace,
    fresh_postgres,
    server,
    write_section,
    wrk,
)

ROUNDS = 3
SECONDS = 5
GOAL_MS = 0.6


def _cpu_per_request(pid: int, url: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    script = Path(__file__).with_name("random_get.lua") if env else None
    before = cpu_seconds(pid)
    result = wrk(url, seconds=SECONDS, script=script, env=env)
    used = cpu_seconds(pid) - before
    requests = result.requests_per_second * SECONDS
    return used / requests * 1000, result.requests_per_second


def _row(label: str, database_url: str | None) -> str:
    with server(database_url) as served:
        assert served.pid is not None
        created = create_workspace(served.database_url)
        ids = Path(os.environ.get("TMPDIR", "/tmp")) / "rolodex-bench-me-ids.txt"
        ids.write_text("me\n")
        env = {"TOKEN": created["token"], "IDS": str(ids), "PATH_TEMPLATE": "/api/v1/me"}
        wrk(f"{served.url}/", seconds=2, script=Path(__file__).with_name("random_get.lua"), env=env)
        healths, mes = [], []
        for _ in range(ROUNDS):
            healths.append(_cpu_per_request(served.pid, f"{served.url}/healthz"))
            mes.append(_cpu_per_request(served.pid, f"{served.url}/", env))
        load = os.getloadavg()[0]
    h_cpu = statistics.median(c for c, _ in healths)
    m_cpu = statistics.median(c for c, _ in mes)
    h_rate = statistics.median(r for _, r in healths)
    m_rate = statistics.median(r for _, r in mes)
    verdict = "meets" if m_cpu <= GOAL_MS else "misses"
    return (
        f"| {label} | {m_cpu:.2f} ms | {h_cpu:.2f} ms | {m_rate:,.0f} | {h_rate:,.0f} "
        f"| {m_rate / h_rate:.2f}x | {verdict} | {load:.1f} |"
    )


def main() -> None:
    """Measure /me on SQLite and PostgreSQL and write the section."""
    rows = [_row("SQLite", None)]
    postgres = fresh_postgres()
    if postgres:
        rows.append(_row("PostgreSQL", postgres))
    body = (
        "| database | `/me` CPU/req | `/healthz` CPU/req | `/me` req/s | `/healthz` req/s "
        f"| ratio | goal ≤ {GOAL_MS} ms | load avg |\n|---|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nwrk -t2 -c50; after a warm-up, {ROUNDS} alternating rounds of {SECONDS} s of "
        "`/healthz` and `GET /api/v1/me` (an admin's API token) against one `rolodex serve` "
        "process; CPU/req = that process's user+system CPU over the round / its requests, "
        "median round. Load avg: 1-minute, after the rounds (2 cores).\n"
    )
    print(body)
    write_section("me", "The authenticated floor: GET /api/v1/me (issue 22)", body)


if __name__ == "__main__":
    main()

"""`rolodex serve --workers 2` against one process, on PostgreSQL, in the same run.

One database (a workspace with 10,000 contacts loaded as the contact-tab benchmark loads
them), served first by one process, then by `--workers 2` (uvicorn's supervisor, one elected
job worker). For each: alternating rounds of wrk at 50 connections on the Contact tab (a
random conversation per request) and on inbound messages from new senders (bare web-chat
channel); throughput, p50/p99, errors, and server CPU per request = the CPU of the serving
processes (the supervisor and its children) over a round / its requests. Then, with two
processes: a personal API token used on both, revoked through the API, and tried again at
once on 200 requests (each process gets some): every one must be refused.
Goals (issue 22): throughput >= 1.3x one worker, CPU per request within 15%, no errors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import contact_tab
import httpx
from _common import (
    WrkResult,
    fresh_postgres,
    machine_cpu,
    postgres_cpu_seconds,
    server,
    tree_cpu_seconds,
    write_section,
    wrk,
)

INGEST = Path(__file__).with_name("ingest.lua")
CONNECTIONS = 50
SECRET = "bench-workers-secret-key-0123456789abcdef"


@dataclass
class Data:
    """The workspace both servers read, loaded by the first."""

    workspace: contact_tab.Workspace | None = None
    ids: Path | None = None


@dataclass
class Round:
    """One wrk round: its figures, CPU per request of the servers and of PostgreSQL, and the
    share of the machine's CPU that was busy."""

    wrk: WrkResult
    cpu_ms: float
    postgres_ms: float
    busy: float


@dataclass
class Measured:
    """The median round of one load (CPU figures: medians of the rounds) and all errors."""

    wrk: WrkResult
    cpu_ms: float
    postgres_ms: float
    busy: float
    errors: int


def _round(pid: int, seconds: int, url: str, **options: object) -> Round:
    before, postgres, machine = tree_cpu_seconds(pid), postgres_cpu_seconds(), machine_cpu()
    result = wrk(url, seconds=seconds, connections=CONNECTIONS, **options)  # type: ignore[arg-type]
    requests = max(1.0, result.requests_per_second * seconds)
    busy, total = (after - first for after, first in zip(machine_cpu(), machine, strict=True))
    return Round(
        result,
        1000 * (tree_cpu_seconds(pid) - before) / requests,
        1000 * (postgres_cpu_seconds() - postgres) / requests,
        busy / max(1.0, total),
    )


def _median(rounds: list[Round]) -> Measured:
    ranked = sorted(rounds, key=lambda r: r.wrk.requests_per_second)
    return Measured(
        ranked[len(ranked) // 2].wrk,
        statistics.median(r.cpu_ms for r in rounds),
        statistics.median(r.postgres_ms for r in rounds),
        statistics.median(r.busy for r in rounds),
        sum(r.wrk.errors for r in rounds),
    )


def _revocation(url: str, admin_token: str) -> tuple[int, int]:
    """A token used on both processes, revoked, then tried at once: (accepted before, after)."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    made = httpx.post(
        f"{url}/api/v1/tokens", json={"kind": "user", "name": "revoked"}, headers=admin
    )
    made.raise_for_status()
    headers = {"Authorization": f"Bearer {made.json()['token']}"}
    # New connections each time: the kernel spreads them over both processes' accepts.
    before = sum(
        httpx.get(f"{url}/api/v1/me", headers=headers).status_code == 200 for _ in range(200)
    )
    gone = httpx.delete(f"{url}/api/v1/tokens/{made.json()['id']}", headers=admin)
    gone.raise_for_status()
    after = sum(
        httpx.get(f"{url}/api/v1/me", headers=headers).status_code == 200 for _ in range(200)
    )
    return before, after


def _measure(
    database_url: str, workers: int, args: argparse.Namespace, state: Data
) -> tuple[Measured, Measured, tuple[int, int] | None]:
    extra = ("--workers", str(workers)) if workers > 1 else ()
    with server(database_url, *extra, env_extra={"ROLODEX_SECRET_KEY": SECRET}) as served:
        assert served.pid is not None
        if state.workspace is None:
            state.workspace = contact_tab._setup(served)
            loaded = contact_tab.load(served.database_url, state.workspace, args.contacts)
            state.ids = Path(tempfile.mkstemp(suffix=".ids")[1])
            state.ids.write_text("\n".join(loaded.conversation_ids) + "\n")
        workspace = state.workspace
        tab_env = {
            "TOKEN": workspace.token,
            "IDS": str(state.ids),
            "PATH_TEMPLATE": contact_tab.PATH_TEMPLATE,
        }
        inbound = f"{served.url}/api/v1/channels/{workspace.channel_ids[0]}/inbound"
        ingest_env = {"TOKEN": workspace.token, "SENDERS": "0"}
        wrk(f"{served.url}/", seconds=3, script=contact_tab.SCRIPT, env=tab_env)  # warm-up
        wrk(inbound, seconds=2, script=INGEST, env={**ingest_env, "RUN": uuid.uuid4().hex[:6]})
        tabs, ingests = [], []
        for _ in range(args.rounds):
            tabs.append(
                _round(
                    served.pid,
                    args.seconds,
                    f"{served.url}/",
                    script=contact_tab.SCRIPT,
                    env=tab_env,
                )
            )
            run = {**ingest_env, "RUN": uuid.uuid4().hex[:6]}
            ingests.append(_round(served.pid, args.seconds, inbound, script=INGEST, env=run))
        revoked = _revocation(served.url, workspace.token) if workers > 1 else None
    return _median(tabs), _median(ingests), revoked


def main() -> None:
    """Measure one process, then two, on one database, and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    database_url = fresh_postgres()
    if database_url is None:
        raise SystemExit("PostgreSQL is needed: --workers 2 refuses SQLite")
    state = Data()
    one_tab, one_ingest, _ = _measure(database_url, 1, args, state)
    two_tab, two_ingest, revoked = _measure(database_url, 2, args, state)
    assert revoked is not None
    if state.ids is not None:
        state.ids.unlink()
    load = os.getloadavg()[0]
    lines = [
        "| load | processes | req/s | p50 | p99 | server CPU/req | PostgreSQL CPU/req "
        "| machine busy | errors | throughput vs 1 | CPU vs 1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for name, one, two in (("Contact tab", one_tab, two_tab), ("inbound", one_ingest, two_ingest)):
        gain = two.wrk.requests_per_second / one.wrk.requests_per_second
        cpu = two.cpu_ms / one.cpu_ms
        for processes, m in ((1, one), (2, two)):
            lines.append(
                f"| {name} | {processes} | {m.wrk.requests_per_second:,.0f} | "
                f"{m.wrk.p50_ms:.1f} ms | {m.wrk.p99_ms:.1f} ms | {m.cpu_ms:.2f} ms | "
                f"{m.postgres_ms:.2f} ms | {m.busy:.0%} | {m.errors} | "
                + (f"{gain:.2f}x | {cpu:.2f}x |" if processes == 2 else "- | - |")
            )
        verdicts.append(
            f"{name}: throughput {gain:.2f}x ({'meets' if gain >= 1.3 else 'misses'} >= 1.3x), "
            f"CPU per request {cpu:.2f}x ({'meets' if cpu <= 1.15 else 'misses'} <= 1.15x), "
            f"errors {one.errors + two.errors}"
        )
    before, after = revoked
    body = "\n".join(lines) + (
        f"\n\nGoals (issue 22): {'; '.join(verdicts)}. Revocation across processes: a token "
        f"accepted on {before} of 200 requests before, on {after} of 200 right after "
        f"`DELETE /api/v1/tokens/{{id}}` through one of them "
        f"({'meets' if after == 0 else 'misses'}: refused by every process at once).\n\n"
        f"Data: PostgreSQL, one workspace with {args.contacts:,} contacts loaded as the contact-"
        "tab benchmark does (20 values each), ANALYZEd; the same database for both servers. "
        f"wrk -t2 -c{CONNECTIONS}; after a warm-up, {args.rounds} alternating rounds of "
        f"{args.seconds} s of the Contact tab (a random conversation of 4,000 per request) and "
        "of inbound messages from new senders (`bench/ingest.lua`, bare web-chat channel); each "
        "figure is the median round. Server CPU/req: the user+system CPU of `rolodex serve` and "
        "its child processes over a round / its requests; PostgreSQL CPU/req: the same for "
        "every `postgres` process of the machine; machine busy: the share of both cores' time "
        "not idle over the round (wrk's own included). "
        f"Default settings except ROLODEX_SECRET_KEY (required by --workers). Load avg {load:.1f} "
        "(1-minute, 2 cores: wrk and PostgreSQL share them with the servers)."
    )
    print(body)
    write_section("workers", "More than one process: serve --workers 2 (issue 22)", body)


if __name__ == "__main__":
    main()

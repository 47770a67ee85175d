"""Exports at scale (issue 8): the contact-attributes CSV against PostgreSQL's own COPY.

The data set is the Contact tab benchmark's (bench/contact_tab.py: per contact 20 values,
8 platform and 12 custom attributes, written straight into the tables). For each size,
an export of the whole workspace through the API, run by the server's embedded worker
(its time from start to end; the server's peak RSS), then `rolodex export
contact-attributes` (the same code path) in a child process (wall time with start-up;
peak RSS from getrusage); on PostgreSQL the reference is
`COPY (SELECT … the same pivot …) TO STDOUT (FORMAT csv)` into a file, in the same run.
Goals: export wall time <= 2x the COPY; peak RSS <= 300 MB at 100k and at 1M.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import contact_tab as dataset
import httpx
import psycopg
from _common import fresh_postgres, server, write_section

# A child that runs the export and reports its own peak RSS (kB on Linux) and wall time.
_RUN = """
import resource, subprocess, sys, time
started = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - started
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@dataclass
class Row:
    """One measured size."""

    database: str
    contacts: int
    export_seconds: float
    peak_rss_mb: float
    cli_seconds: float
    cli_rss_mb: float
    size_mb: float
    copy_seconds: float | None


def _job(url: str, token: str, pid: int) -> tuple[float, float]:
    """Export through the API: the job's seconds from start to end, the server's peak RSS."""
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{url}/api/v1/exports", json={"type": "contact_attributes"}, headers=headers, timeout=60
    )
    created.raise_for_status()
    while True:
        export = httpx.get(
            f"{url}/api/v1/exports/{created.json()['id']}", headers=headers, timeout=60
        ).json()
        if export["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert export["status"] == "done", export
    started = datetime.fromisoformat(export["started_at"])
    finished = datetime.fromisoformat(export["finished_at"])
    status = Path(f"/proc/{pid}/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    return (finished - started).total_seconds(), peak_kb / 1024


def _export(database_url: str, workspace_id: str, out: Path) -> tuple[float, float]:
    env = dict(os.environ, ROLODEX_DATABASE_URL=database_url)
    command = [sys.executable, "-m", "rolodex", "export", "contact-attributes"]
    command += ["--workspace", workspace_id, "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *command], env=env, check=True, capture_output=True, text=True
    )
    wall, rss_kb = done.stdout.split()
    return float(wall), int(rss_kb) / 1024


def _pivot_sql(database_url: str, workspace_id: str) -> str:
    """The same rows as the export, as one SQL statement (attribute columns in order)."""
    with psycopg.connect(database_url) as conn:
        definitions = conn.execute(
            "SELECT id FROM attribute_definitions WHERE workspace_id = %s AND key <> 'vip' "
            "ORDER BY position, key",
            (workspace_id,),
        ).fetchall()
        vip = conn.execute(
            "SELECT id FROM attribute_definitions WHERE workspace_id = %s AND key = 'vip'",
            (workspace_id,),
        ).fetchone()
    assert vip is not None
    columns = ", ".join(
        f"max(v.value) FILTER (WHERE v.definition_id = '{d}')" for (d,) in definitions
    )
    return (
        "SELECT c.id, c.medium, c.channel_id, ch.name, c.platform_user_id, c.display_name, "
        "c.created_at, greatest(c.last_seen_at, max(v.updated_at)), "
        f"coalesce(max(v.value) FILTER (WHERE v.definition_id = '{vip[0]}'), 'false'), '', "
        f"{columns} FROM contacts c JOIN channels ch ON ch.id = c.channel_id "
        "LEFT JOIN attribute_values v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id "
        f"WHERE c.workspace_id = '{workspace_id}' "
        "GROUP BY c.id, c.medium, c.channel_id, ch.name, c.platform_user_id, c.display_name, "
        "c.created_at, c.last_seen_at ORDER BY c.id"
    )


def _copy(database_url: str, workspace_id: str, out: Path) -> float:
    sql = _pivot_sql(database_url, workspace_id)
    with psycopg.connect(database_url) as conn, out.open("wb") as handle:
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as copy:
            for chunk in copy:
                handle.write(chunk)
        return time.perf_counter() - started


def measure(database: str, contacts: int) -> Row:
    """Load one size on a fresh database, export it, and (PostgreSQL) COPY the same pivot."""
    database_url = fresh_postgres() if database == "PostgreSQL" else None
    if database == "PostgreSQL" and database_url is None:
        raise SystemExit("PostgreSQL is needed for this benchmark")
    with server(database_url) as served, tempfile.TemporaryDirectory() as tmp:
        workspace = dataset._setup(served)
        loaded = dataset.load(served.database_url, workspace, contacts)
        print(f"{database} {contacts:,}: loaded in {loaded.seconds:.0f} s", flush=True)
        assert served.pid is not None
        seconds, rss = _job(served.url, workspace.token, served.pid)
        out = Path(tmp) / "export.csv"
        cli_seconds, cli_rss = _export(served.database_url, workspace.id, out)
        size = out.stat().st_size / 1e6
        with out.open(encoding="utf-8") as handle:
            lines = sum(1 for _ in handle)
        assert lines == contacts + 1, (lines, contacts)
        copied = None
        if database == "PostgreSQL":
            copied = _copy(served.database_url, workspace.id, Path(tmp) / "copy.csv")
    row = Row(database, contacts, seconds, rss, cli_seconds, cli_rss, size, copied)
    print(json.dumps(row.__dict__), flush=True)
    return row


def _report(rows: list[Row]) -> str:
    lines = [
        "| database | contacts | export job | COPY of the same pivot | ratio | peak RSS (server) "
        "| `rolodex export` (with start-up) | its peak RSS | file |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r.export_seconds / r.copy_seconds:.2f}x" if r.copy_seconds else "-"
        copied = f"{r.copy_seconds:.1f} s" if r.copy_seconds else "-"
        lines.append(
            f"| {r.database} | {r.contacts:,} | {r.export_seconds:.1f} s | {copied} | {ratio} "
            f"| {r.peak_rss_mb:.0f} MB | {r.cli_seconds:.1f} s | {r.cli_rss_mb:.0f} MB "
            f"| {r.size_mb:.0f} MB |"
        )
    timed = [r for r in rows if r.copy_seconds]
    worst_ratio = max(
        (r.export_seconds / r.copy_seconds for r in timed if r.copy_seconds), default=0
    )
    worst_rss = max(max(r.peak_rss_mb, r.cli_rss_mb) for r in rows)
    return "\n".join(lines) + (
        f"\n\nGoals (issue 8): wall time <= 2x PostgreSQL's COPY "
        f"({'meets' if worst_ratio <= 2 else 'misses'}: worst {worst_ratio:.2f}x); peak RSS "
        f"<= 300 MB ({'meets' if worst_rss <= 300 else 'misses'}: worst {worst_rss:.0f} MB)."
        "\n\nData: bench/contact_tab.py's data set (20 values per contact: 8 platform and 12 "
        "custom attributes; one conversation each). Export job: `POST /api/v1/exports` of "
        "every contact and all 21 attribute columns, run by the server's embedded worker "
        "(keyset batches of 10,000 contacts pivoted by the database; on PostgreSQL each batch "
        "is a `COPY … TO STDOUT` of its CSV, on SQLite the next batch is read while one is "
        "written); time from the job's start to its end as the export reports them, "
        "peak RSS of the whole server process (VmHWM). `rolodex export contact-attributes`: "
        "the same code path from the command line, wall time including the interpreter's "
        "start (about 1.5 s) and its peak RSS from getrusage. COPY: "
        "`COPY (SELECT … one row per contact, a FILTER column per attribute, GROUP BY the "
        "contact …) TO STDOUT (FORMAT csv)` read by psycopg into a file, in the same run (it "
        "does no link look-up and no formula neutralising, so it is a floor)."
    )


def main() -> None:
    """Measure each size and write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-sizes", default="100000,1000000")
    parser.add_argument("--sqlite-sizes", default="100000")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = [measure("PostgreSQL", int(n)) for n in args.postgres_sizes.split(",") if n]
    rows += [measure("SQLite", int(n)) for n in args.sqlite_sizes.split(",") if n]
    body = _report(rows)
    print(body)
    if not args.no_write:
        write_section("export", "Contact-attribute exports (issue 8)", body)


if __name__ == "__main__":
    main()

"""Linking at scale (issue 5): re-linking a 1M-contact workspace, and the cross-channel history.

PostgreSQL, one workspace of CONTACTS contacts on a WhatsApp and an SMS channel, each
with a custom `phone` value shared with exactly one contact of the other channel, one
conversation and one message each (rows written set-based with generate_series, then
ANALYZE). Measured: the time from `PATCH /api/v1/settings/contacts` (set, change, clear)
until `GET /api/v1/contacts/{id}` shows the right links (goal <= 1 s), and the
cross-channel history read as a ratio to /healthz (goal >= 0.4x).
"""

from __future__ import annotations

import os
import tempfile
import time

import httpx
import psycopg
from _common import (
    cpu_verdict,
    create_workspace,
    fresh_postgres,
    read_rounds,
    server,
    write_section,
)

PATH_TEMPLATE = "/api/v1/contacts/{id}/conversations"
CONTACTS = int(os.environ.get("ROLODEX_BENCH_CONTACTS", "1000000"))
SECONDS = 5
SAMPLES = 2000

SEED = """
INSERT INTO contacts (id, workspace_id, medium, scope, platform_user_id, channel_id,
                      display_name, created_at, last_seen_at)
SELECT 'ctb' || lpad(i::text, 8, '0'), %(ws)s,
       CASE WHEN i %% 2 = 0 THEN 'whatsapp' ELSE 'sms' END,
       CASE WHEN i %% 2 = 0 THEN %(wa)s ELSE %(sms)s END, 'u' || i,
       CASE WHEN i %% 2 = 0 THEN %(wa)s ELSE %(sms)s END, 'Person ' || (i / 2), now(), now()
FROM generate_series(0, %(n)s - 1) AS i;
INSERT INTO attribute_values (contact_id, definition_id, workspace_id, value, normalized,
                              source, updated_at, invalid)
SELECT 'ctb' || lpad(i::text, 8, '0'), %(phone)s, %(ws)s,
       '+1415' || lpad((i / 2)::text, 7, '0'), '+1415' || lpad((i / 2)::text, 7, '0'),
       'agent', now(), false
FROM generate_series(0, %(n)s - 1) AS i;
INSERT INTO conversations (id, workspace_id, channel_id, contact_id, status, priority_score,
                           last_message_at, created_at)
SELECT 'cvb' || lpad(i::text, 8, '0'), %(ws)s,
       CASE WHEN i %% 2 = 0 THEN %(wa)s ELSE %(sms)s END, 'ctb' || lpad(i::text, 8, '0'),
       (ARRAY['resolved', 'pending', 'new'])[1 + i %% 3], 0,
       now() - i * interval '1 second', now() - i * interval '1 second'
FROM generate_series(0, %(n)s - 1) AS i;
INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, author_kind,
                      author_id, external_id, text, sent_at, created_at)
SELECT 'msb' || lpad(i::text, 8, '0'), %(ws)s, 'cvb' || lpad(i::text, 8, '0'),
       CASE WHEN i %% 2 = 0 THEN %(wa)s ELSE %(sms)s END, 'inbound', 'contact', NULL,
       'e' || i, 'Hello number ' || i, now(), now()
FROM generate_series(0, %(n)s - 1) AS i;
ANALYZE;
"""


def _contact(i: int) -> str:
    return f"ctb{i:08d}"


def _setup(url: str, database_url: str) -> tuple[str, float]:
    created = create_workspace(database_url)
    token = created["token"]
    headers = {"Authorization": f"Bearer {token}"}
    ids = {}
    for medium in ("whatsapp", "sms"):
        made = httpx.post(
            f"{url}/api/v1/channels", json={"medium": medium, "name": medium}, headers=headers
        )
        made.raise_for_status()
        ids[medium] = made.json()["id"]
    attribute = {"label": "Phone", "key": "phone", "type": "text", "format": "phone"}
    httpx.post(f"{url}/api/v1/attributes", json=attribute, headers=headers).raise_for_status()
    with psycopg.connect(database_url) as conn:
        phone = conn.execute(
            "SELECT id FROM attribute_definitions WHERE workspace_id = %s AND key = 'phone'",
            (created["workspace_id"],),
        ).fetchone()
        assert phone is not None
        started = time.perf_counter()
        params = {"ws": created["workspace_id"], "wa": ids["whatsapp"], "sms": ids["sms"]}
        for statement in filter(str.strip, SEED.split(";")):
            conn.execute(statement, {**params, "phone": phone[0], "n": CONTACTS})  # type: ignore[call-overload]
    return token, time.perf_counter() - started


def _relink(url: str, token: str, matching: str | None, expect_peer: bool) -> float:
    """Seconds from the PATCH until a sampled contact shows the expected links."""
    headers = {"Authorization": f"Bearer {token}"}
    probe = CONTACTS // 2 * 2 - 2  # a WhatsApp contact; its SMS twin is the next id
    started = time.perf_counter()
    httpx.patch(
        f"{url}/api/v1/settings/contacts",
        json={"matching_attribute": matching},
        headers=headers,
        timeout=60,
    ).raise_for_status()
    want = [_contact(probe + 1)] if expect_peer else []
    while True:
        got = httpx.get(f"{url}/api/v1/contacts/{_contact(probe)}", headers=headers, timeout=60)
        if got.json()["linked_contact_ids"] == want:
            return time.perf_counter() - started


def main() -> None:
    """Seed PostgreSQL, time re-linking and the history read, and write the section."""
    database_url = fresh_postgres()
    if database_url is None:
        raise SystemExit("PostgreSQL is needed for this benchmark")
    with server(database_url) as served:
        token, seeded = _setup(served.url, served.database_url)
        timings = [
            ("set matching_attribute = phone", _relink(served.url, token, "phone", True)),
            ("clear (null)", _relink(served.url, token, None, False)),
            ("set again", _relink(served.url, token, "phone", True)),
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as ids:
            step = max(1, CONTACTS // SAMPLES)
            ids.write("\n".join(_contact(i) for i in range(0, CONTACTS, step)))
        history, health, floor = read_rounds(served, token, PATH_TEMPLATE, ids.name)
        os.unlink(ids.name)
    ratio = history.requests_per_second / health.requests_per_second
    lines = ["| PATCH settings/contacts | until links are right |", "|---|---|"]
    lines += [f"| {what} | {seconds * 1000:.0f} ms |" for what, seconds in timings]
    lines += [
        "",
        "| read | req/s | p50 | p99 | /healthz req/s | ratio | errors | CPU/req (/healthz) |",
        "|---|---|---|---|---|---|---|---|",
        f"| `GET /contacts/{{id}}/conversations` | {history.requests_per_second:,.0f} "
        f"| {history.p50_ms:.1f} ms | {history.p99_ms:.1f} ms "
        f"| {health.requests_per_second:,.0f} | {ratio:.2f}x | {history.errors} "
        f"| {history.cpu_ms:.2f} ms ({health.cpu_ms:.2f} ms) |",
        f"| `GET /me` (the floor of an authenticated read) | {floor.requests_per_second:,.0f} "
        f"| {floor.p50_ms:.1f} ms | {floor.p99_ms:.1f} ms "
        f"| {health.requests_per_second:,.0f} "
        f"| {floor.requests_per_second / health.requests_per_second:.2f}x | {floor.errors} "
        f"| {floor.cpu_ms:.2f} ms ({health.cpu_ms:.2f} ms) |",
    ]
    worst = max(s for _, s in timings)
    body = "\n".join(lines) + (
        f"\n\nGoals (issue 5): re-linking <= 1 s ({'meets' if worst <= 1 else 'misses'}: "
        f"worst {worst * 1000:.0f} ms); history >= 0.4x /healthz "
        f"({'meets' if ratio >= 0.4 else 'misses'}: {ratio:.2f}x). Goal (issue 22): history, "
        f"server CPU per request {history.cpu_ms:.2f} ms "
        f"({cpu_verdict(history.cpu_ms, health.cpu_ms, 2.5)}).\n\n"
        f"Data: PostgreSQL, {CONTACTS:,} contacts on a WhatsApp and an SMS channel, each with a "
        "`phone` value shared with one contact of the other channel, one conversation and one "
        f"message each, written set-based (generate_series) in {seeded:.0f} s, then ANALYZE. "
        "Re-linking writes one settings row: links are looked up at read time. History: wrk "
        "-t2 -c50 through `bench/random_get.lua` (a random contact of 2,000 per request), 3 "
        f"alternating rounds of {SECONDS} s with /healthz; each figure is the median round. "
        "Server CPU/req: the `rolodex serve` process's user+system CPU over a round / its "
        "requests, median round (PostgreSQL's own not counted)."
    )
    print(body)
    write_section("linking", "Linking across channels (issue 5)", body)


if __name__ == "__main__":
    main()

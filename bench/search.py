"""Search at 1,000,000 messages (issue 18): `?q=` on conversations and contacts, p50/p99.

PostgreSQL (and, smaller, SQLite): one enterprise workspace made the operator's way, a
web-chat channel and four custom attributes through the API (migrations ran when the
server started), then rows written straight into the tables: CONTACTS contacts (a first
and last name each), four values each (company, city, an order number, an email),
CONVERSATIONS conversations (spread over the contacts) and MESSAGES messages (spread over
the conversations). Message text: 4 to 16 words drawn from a vocabulary of chat words and
made-up ones with a Zipf distribution (weight 1/rank), some with an order number; seeded,
so every run loads the same text. PostgreSQL: COPY (foreign-key and version triggers off)
with the indexes that back no constraint dropped and rebuilt afterwards (the search
indexes among them), then VACUUM ANALYZE; SQLite: executemany (its FTS5 triggers fill
the index as they would in use).
Measured against the running server, one request at a time: GET /api/v1/conversations?q=
for rare, medium and common words (by the number of messages containing them), two
words, a prefix, a contact's name, and GET /api/v1/contacts?q= for names and values.
Goal (issue 18): p50 <= 100 ms on PostgreSQL with 1M messages.

    python bench/search.py [--databases postgresql,sqlite] [--messages 1000000]
                           [--sqlite-messages 1000000] [--queries 50]
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import os
import random
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from _common import COMPANIES, FIRST, LAST, create_workspace, fresh_postgres, server, write_section
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rolodex.db import sync_url

VOCABULARY = 30_000
SEED = 18
GOAL_MS = 100.0
ME = "/api/v1/me"

# The head of the distribution: words people actually write to a shop's chat.
CHAT_WORDS = (  # noqa: SIM905 - as text: a list literal takes a line per item
    "the i to my you is a and it for of order in hi on this please can thanks have be "
    "with what we your not me when where do are at was will just that but so there get "
    "know hello yes no how any ok still help need if an from would like about time am "
    "refund delivery package tracking number account email payment card address return "
    "today tomorrow week status shipped received item price size color store app login "
    "password invoice discount code coupon cancel change update wrong missing damaged "
    "again back soon sorry great thank good morning evening support team agent customer "
    "service phone call message sent send check could should our they them then here now"
).split()
CITIES = (  # noqa: SIM905 - as text: a list literal takes a line per item
    "Lisbon|Madrid|Paris|Berlin|Warsaw|Oslo|Austin|Toronto|Mexico City|Sao Paulo|Nairobi|"
    "Lagos|Mumbai|Tokyo|Seoul|Sydney"
).split("|")
ATTRIBUTES = (
    {"label": "Company", "key": "company", "type": "text", "format": "text"},
    {"label": "City", "key": "city", "type": "text", "format": "text"},
    {"label": "Order number", "key": "order_number", "type": "text", "format": "text"},
    {"label": "Work email", "key": "work_email", "type": "text", "format": "email"},
)


# ---- the data -----------------------------------------------------------------------------


def vocabulary(rng: random.Random) -> list[str]:
    """Chat words first (the most frequent), then made-up words of 2-4 syllables."""
    words = list(dict.fromkeys(CHAT_WORDS))
    seen = set(words)
    syllables = [c + v for c in "bdfghklmnprstvz" for v in "aeiou"]
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


@dataclass
class Corpus:
    """The generated rows' shape and the words to search for, by how often they occur."""

    contacts: int
    conversations: int
    messages: int
    words: list[str]
    frequency: Counter[str] = field(default_factory=Counter)  # messages containing the word

    def contact_of(self, conversation: int) -> int:
        """Conversation c belongs to contact c % contacts (2 each; only the later may be open)."""
        return conversation % self.contacts

    def conversation_of(self, message: int) -> int:
        """Messages are spread evenly, in order, over the conversations."""
        return message * self.conversations // self.messages

    def name(self, contact: int) -> tuple[str, str]:
        """First and last name, mixed so that names do not repeat in a short cycle."""
        return FIRST[(contact * 7919) % len(FIRST)], LAST[(contact * 104729 // 7) % len(LAST)]

    def values(self, contact: int) -> dict[str, str]:
        """The contact's four attribute values."""
        first, last = self.name(contact)
        company = COMPANIES[contact % len(COMPANIES)]
        return {
            "company": company,
            "city": CITIES[(contact // 3) % len(CITIES)],
            "order_number": f"A{100000 + contact}",
            "work_email": f"{first}.{last}{contact}@{company.split()[0]}.example".lower(),
        }

    def texts(self, rng: random.Random) -> Iterator[str]:
        """Message texts in order; counts each word's messages on the way."""
        weights = list(itertools.accumulate(1 / rank for rank in range(1, len(self.words) + 1)))
        total = weights[-1]
        words = self.words
        for n in range(self.messages):
            count = 4 + int(rng.random() * 13)
            drawn = [words[bisect.bisect(weights, rng.random() * total)] for _ in range(count)]
            if n % 9 == 0:
                drawn.append(f"order {200000 + rng.randrange(400000)}")
            self.frequency.update(set(drawn))
            yield " ".join(drawn)


# ---- loading ------------------------------------------------------------------------------


@dataclass
class Ids:
    """The workspace's ids the rows refer to."""

    workspace: str
    channel: str
    definitions: dict[str, str]


def _contact_id(n: int) -> str:
    return f"ct_bench{n:010d}"


def _conversation_id(n: int) -> str:
    return f"cv_bench{n:010d}"


def _message_id(n: int) -> str:
    return f"ms_bench{n:010d}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _rows(corpus: Corpus, ids: Ids, rng: random.Random) -> dict[str, Iterator[tuple[Any, ...]]]:
    """Row generators per table, columns as in COLUMNS."""
    start = _now() - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / max(corpus.messages, 1)

    def contacts() -> Iterator[tuple[Any, ...]]:
        for n in range(corpus.contacts):
            first, last = corpus.name(n)
            yield (_contact_id(n), ids.workspace, "webchat", ids.channel, f"visitor-{n}",
                   ids.channel, f"{first} {last}", start, start)  # fmt: skip

    def values() -> Iterator[tuple[Any, ...]]:
        for n in range(corpus.contacts):
            for key, value in corpus.values(n).items():
                yield (_contact_id(n), ids.definitions[key], ids.workspace, value,
                       value.casefold(), "import", start, False)  # fmt: skip

    def conversations() -> Iterator[tuple[Any, ...]]:
        for c in range(corpus.conversations):
            # One open conversation per contact at most: only a contact's last may be open.
            last = c + corpus.contacts >= corpus.conversations
            status = ("resolved", "pending", "new")[c % 3] if last else "resolved"
            yield (_conversation_id(c), ids.workspace, ids.channel,
                   _contact_id(corpus.contact_of(c)), status, 0, start, start)  # fmt: skip

    def messages() -> Iterator[tuple[Any, ...]]:
        for n, body in enumerate(corpus.texts(rng)):
            inbound = n % 2 == 0
            at = start + step * n
            yield (_message_id(n), ids.workspace, _conversation_id(corpus.conversation_of(n)),
                   ids.channel, "inbound" if inbound else "outbound",
                   "contact" if inbound else "user", None, f"m{n}" if inbound else None,
                   body, at, at)  # fmt: skip

    return {
        "contacts": contacts(),
        "attribute_values": values(),
        "conversations": conversations(),
        "messages": messages(),
    }


COLUMNS = {
    "contacts": ("id", "workspace_id", "medium", "scope", "platform_user_id", "channel_id",
                 "display_name", "created_at", "last_seen_at"),
    "attribute_values": ("contact_id", "definition_id", "workspace_id", "value", "normalized",
                         "source", "updated_at", "invalid"),
    "conversations": ("id", "workspace_id", "channel_id", "contact_id", "status",
                      "priority_score", "last_message_at", "created_at"),
    "messages": ("id", "workspace_id", "conversation_id", "channel_id", "direction",
                 "author_kind", "author_id", "external_id", "text", "sent_at", "created_at"),
}  # fmt: skip

# After the load: each conversation's last message, as the write paths keep it.
LAST_MESSAGE = """
UPDATE conversations SET last_message_at = m.sent_at {extra}
FROM (SELECT DISTINCT ON (conversation_id) conversation_id, sent_at, text, direction
      FROM messages WHERE workspace_id = {ws} ORDER BY conversation_id, id DESC) AS m
WHERE conversations.id = m.conversation_id
"""


def _required_extra(columns: dict[str, tuple[bool, bool, str]], given: Sequence[str]) -> list[str]:
    """Columns NOT NULL without a server default that the loader does not give (stop early)."""
    return [
        name
        for name, (nullable, has_default, _type) in columns.items()
        if name not in given and not nullable and not has_default
    ]


def load_postgres(url: str, corpus: Corpus, ids: Ids, rng: random.Random) -> dict[str, float]:
    """COPY every table (constraint-less indexes dropped, rebuilt after), VACUUM ANALYZE."""
    import psycopg

    phases: dict[str, float] = {}
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        # Foreign-key checks and the version triggers off during the load: the rows are
        # consistent by construction, and versions do not matter to search (PostgreSQL's
        # search indexes are expression indexes, no trigger keeps them).
        conn.execute("SET session_replication_role = replica")
        indexes: list[str] = []
        for table in COLUMNS:
            info = {
                r[0]: (r[1] == "YES", r[2] is not None, r[3])
                for r in conn.execute(
                    "SELECT column_name, is_nullable, column_default, data_type "
                    "FROM information_schema.columns WHERE table_name = %s",
                    (table,),
                ).fetchall()
            }
            missing = _required_extra(info, COLUMNS[table])
            if missing:
                raise SystemExit(f"{table}: the loader gives no value for {missing}")
            for name, definition in conn.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                (table,),
            ).fetchall():
                conn.execute(f"DROP INDEX {name}")
                indexes.append(definition)
        for table, rows in _rows(corpus, ids, rng).items():
            mark = time.perf_counter()
            statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN"
            with conn.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[arg-type]
                for row in rows:
                    copy.write_row(row)
            phases[table] = time.perf_counter() - mark
        mark = time.perf_counter()
        conn.execute("SET session_replication_role = DEFAULT")
        extra = _last_message_columns(
            {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'conversations'"
                ).fetchall()
            }
        )
        conn.execute(LAST_MESSAGE.format(extra=extra, ws="%s"), (ids.workspace,))  # type: ignore[arg-type]
        phases["last messages"] = time.perf_counter() - mark
        mark = time.perf_counter()
        for definition in indexes:
            conn.execute(definition)  # type: ignore[arg-type]
        phases["indexes"] = time.perf_counter() - mark
        mark = time.perf_counter()
        for table in COLUMNS:
            conn.execute(f"VACUUM ANALYZE {table}")  # type: ignore[arg-type]
        conn.execute("ANALYZE")
        phases["vacuum, analyze"] = time.perf_counter() - mark
    phases["total"] = time.perf_counter() - started
    return phases


def _last_message_columns(present: set[str]) -> str:
    """The denormalised last-message columns the schema has (issue 18 adds them)."""
    extra = ""
    if "last_message_preview" in present:
        extra += ", last_message_preview = left(m.text, 200)"
    if "last_message_direction" in present:
        extra += ", last_message_direction = m.direction"
    return extra


def load_sqlite(url: str, corpus: Corpus, ids: Ids, rng: random.Random) -> dict[str, float]:
    """executemany per table in one transaction each (the FTS5 triggers fire), then ANALYZE."""
    path = make_url(url).database
    phases: dict[str, float] = {}
    started = time.perf_counter()
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=60)
    conn.execute("PRAGMA synchronous=OFF")

    def stamp(value: Any) -> Any:
        # SQLAlchemy's SQLite DateTime stores naive UTC text.
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None).isoformat(sep=" ")
        return value

    for table, rows in _rows(corpus, ids, rng).items():
        info = {
            r[1]: (not r[3], r[4] is not None, r[2])
            for r in conn.execute(f"PRAGMA table_info({table})").fetchall()
        }
        missing = _required_extra(info, COLUMNS[table])
        if missing:
            raise SystemExit(f"{table}: the loader gives no value for {missing}")
        mark = time.perf_counter()
        marks = ", ".join("?" * len(COLUMNS[table]))
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(COLUMNS[table])}) VALUES ({marks})",
            (tuple(stamp(v) for v in row) for row in rows),
        )
        conn.execute("COMMIT")
        phases[table] = time.perf_counter() - mark
    mark = time.perf_counter()
    present = {r[1] for r in conn.execute("PRAGMA table_info(conversations)").fetchall()}
    extra = _last_message_columns(present).replace("left(m.text, 200)", "substr(m.text, 1, 200)")
    conn.execute(
        "UPDATE conversations SET last_message_at = m.sent_at"
        + extra
        + " FROM (SELECT conversation_id, max(id) AS id FROM messages WHERE workspace_id = ? "
        "GROUP BY conversation_id) AS last JOIN messages m ON m.id = last.id "
        "WHERE conversations.id = last.conversation_id",
        (ids.workspace,),
    )
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    phases["last messages, analyze"] = time.perf_counter() - mark
    phases["total"] = time.perf_counter() - started
    return phases


# ---- the workspace ------------------------------------------------------------------------


def _setup(url: str, database_url: str) -> tuple[Ids, str, str]:
    """Workspace, channel, attributes and an agent; (ids, admin token, agent token)."""
    created = create_workspace(database_url)
    token = created["token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        channel = client.post("/api/v1/channels", json={"medium": "webchat", "name": "Shop chat"})
        channel.raise_for_status()
        for spec in ATTRIBUTES:
            client.post("/api/v1/attributes", json=spec).raise_for_status()
        email = f"agent-{created['workspace_id'][-6:]}@example.test"
        agent = {"email": email, "name": "Agent", "role": "agent", "password": "pw-" * 4}
        client.post("/api/v1/users", json=agent).raise_for_status()
        login = client.post(
            "/api/v1/auth/token",
            json={"email": email, "password": "pw-" * 4},
            headers={"Authorization": ""},
        )
        login.raise_for_status()
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT key, id FROM attribute_definitions WHERE workspace_id = :ws"),
            {"ws": created["workspace_id"]},
        ).all()
    definitions: dict[str, str] = dict(rows)  # type: ignore[arg-type]
    engine.dispose()
    ids = Ids(created["workspace_id"], channel.json()["id"], definitions)
    return ids, token, login.json()["access_token"]


# ---- the queries --------------------------------------------------------------------------


@dataclass
class Kind:
    """One kind of query: the path, the q values to cycle through, and what they are."""

    label: str
    path: str
    qs: list[str]
    agent: bool = False
    first: int = 0  # > 0: the server's first searches, this many, no warm-up (fresh plans)


@dataclass
class Timed:
    """A kind's timings (ms) and how many items the first pages had."""

    kind: Kind
    ms: list[float]
    items: list[int]


def _band(
    frequency: Counter[str], low: float, high: float, count: int, rng: random.Random
) -> list[str]:
    """Up to `count` words found in between low and high messages (made-up words only)."""
    chat = set(CHAT_WORDS)
    found = [w for w, n in frequency.items() if low <= n <= high and w not in chat and " " not in w]
    rng.shuffle(found)
    return sorted(found[:count])


def kinds(corpus: Corpus, queries: int) -> list[Kind]:
    """The query mix: words by frequency, two words, a prefix, names and attribute values."""
    rng = random.Random(SEED + 1)
    m = corpus.messages
    rare = _band(corpus.frequency, 5, max(10, m / 20_000), queries, rng)
    medium = _band(corpus.frequency, m / 2_000, m / 200, queries, rng)
    common = [w for w, _ in corpus.frequency.most_common(12)]
    pairs = [f"{a} {b}" for a, b in zip(medium, itertools.cycle(common), strict=False)]
    rare_pairs = [f"{a} {b}" for a, b in zip(rare, itertools.cycle(medium[::-1]), strict=False)]
    prefixes = sorted({w[:4] for w in medium if len(w) > 5})[:queries]
    names = [" ".join(corpus.name(rng.randrange(corpus.contacts))) for _ in range(queries)]
    lasts = [corpus.name(rng.randrange(corpus.contacts))[1] for _ in range(queries)]
    orders = [f"A{100000 + rng.randrange(corpus.contacts)}" for _ in range(queries)]
    cities = [CITIES[n % len(CITIES)].split()[0] for n in range(queries)]
    conversations, contacts = "/api/v1/conversations", "/api/v1/contacts"
    return [
        # First, before any other search: the statement is not prepared yet, so each request
        # gets a plan for its own word (later ones may reuse a generic plan).
        Kind("common word, the server's first 10 searches", conversations, common, first=10),
        Kind(f"rare word (in {_span(corpus, rare)} messages)", conversations, rare),
        Kind(f"medium word (in {_span(corpus, medium)} messages)", conversations, medium),
        Kind(f"common word (in {_span(corpus, common)} messages)", conversations, common),
        Kind("two words: medium + common", conversations, pairs),
        Kind("two words: rare + medium", conversations, rare_pairs),
        Kind("prefix: 4 letters of a medium word", conversations, prefixes),
        Kind("medium word, as an agent", conversations, medium, agent=True),
        Kind("a contact's first and last name", conversations, names),
        Kind("an order number (one contact's attribute value)", conversations, orders),
        Kind("a last name", contacts, lasts),
        Kind("a first and last name", contacts, names),
        Kind("an order number (attribute value)", contacts, orders),
        Kind("a city (attribute value of 1 in 16)", contacts, cities),
        # The floor of any authenticated read on this server, in the same run (no search).
        Kind("none: the floor of an authenticated read", ME, ["-"]),
    ]


def _span(corpus: Corpus, words: list[str]) -> str:
    counts = sorted(corpus.frequency[w] for w in words) or [0]
    return f"{counts[0]:,}-{counts[-1]:,}"


def run_queries(url: str, admin: str, agent: str, mix: list[Kind], queries: int) -> list[Timed]:
    """Each kind's queries in turn, one request at a time, after one warm-up pass."""
    out = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for kind in mix:
            headers = {"Authorization": f"Bearer {agent if kind.agent else admin}"}
            for q in kind.qs[:3] if not kind.first else []:  # warm-up
                client.get(kind.path, params={"q": q}, headers=headers).raise_for_status()
            ms, items = [], []
            for q in itertools.islice(itertools.cycle(kind.qs), kind.first or queries):
                started = time.perf_counter()
                response = client.get(kind.path, params={"q": q}, headers=headers)
                ms.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                items.append(len(response.json().get("items", [])))
            out.append(Timed(kind, ms, items))
            print(f"  {kind.path} {kind.label}: p50 {statistics.median(ms):.1f} ms")
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# ---- one database -------------------------------------------------------------------------


@dataclass
class Result:
    """One database's load and timings."""

    database: str
    corpus: Corpus
    load: dict[str, float]
    timed: list[Timed]
    load_avg: float


def measure(database: str, database_url: str | None, messages: int, queries: int) -> Result:
    """Load a fresh database of `messages` messages and time the query mix."""
    rng = random.Random(SEED)
    corpus = Corpus(
        contacts=max(1, messages // 20),
        conversations=max(1, messages // 10),
        messages=messages,
        words=vocabulary(rng),
    )
    with server(database_url) as served:
        ids, admin, agent = _setup(served.url, served.database_url)
        loader = load_postgres if database == "PostgreSQL" else load_sqlite
        print(f"{database}: loading {messages:,} messages")
        load = loader(served.database_url, corpus, ids, rng)
        print(f"  loaded in {load['total']:.0f} s: {load}")
        timed = run_queries(served.url, admin, agent, kinds(corpus, queries), queries)
    return Result(database, corpus, load, timed, os.getloadavg()[0])


def report(results: list[Result], queries: int) -> str:
    """The section's tables and notes."""
    lines = [
        "| database | messages | search | q | queries | items on the first page (median) "
        "| p50 | p99 | max |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for result in results:
        for t in result.timed:
            lines.append(
                f"| {result.database} | {result.corpus.messages:,} "
                f"| `{t.kind.path}{'' if t.kind.path == ME else '?q='}` "
                f"| {t.kind.label} | {len(t.ms)} | {statistics.median(t.items):.0f} "
                f"| {statistics.median(t.ms):.1f} ms | {_percentile(t.ms, 0.99):.1f} ms "
                f"| {max(t.ms):.1f} ms |"
            )
        if result.database == "PostgreSQL":
            steady = [t for t in result.timed if not t.kind.first and t.kind.path != ME]
            worst = max(steady, key=lambda t: statistics.median(t.ms))
            p50 = statistics.median(worst.ms)
            verdicts.append(
                f"PostgreSQL at {result.corpus.messages:,} messages "
                f"{'meets' if p50 <= GOAL_MS else 'misses'} p50 <= {GOAL_MS:.0f} ms "
                f"(slowest kind: {worst.kind.label} on `{worst.kind.path}`, p50 {p50:.1f} ms"
                + "".join(
                    f"; {t.kind.label}: p50 {statistics.median(t.ms):.1f} ms"
                    for t in result.timed
                    if t.kind.first
                )
                + ")"
            )
    loads = "; ".join(
        f"{r.database} {r.corpus.contacts:,} contacts, {r.corpus.conversations:,} "
        f"conversations, {r.corpus.messages:,} messages loaded in {r.load['total']:.0f} s"
        + (f" (indexes rebuilt in {r.load['indexes']:.0f} s)" if "indexes" in r.load else "")
        + f", machine load average {r.load_avg:.1f} after its queries"
        for r in results
    )
    return "\n".join(lines) + (
        f"\n\nGoal (issue 18): {'; '.join(verdicts) or 'PostgreSQL not measured'}.\n\n"
        f"Data: {loads}. One workspace, one web-chat channel; contacts named from 48 first "
        f"and 50 last names, 4 custom values each (company, city, order number, email); 2 "
        f"conversations per contact (the older resolved), 10 messages per conversation "
        f"of 4-16 words drawn from "
        f"{VOCABULARY:,} words with weight 1/rank (chat words such as `the`, `order`, "
        f"`refund` first, then made-up words), every ninth with an order number. Word bands "
        f"by the number of messages containing the word: rare <= 1/20,000 of the messages, "
        f"medium 1/2,000-1/200, common: the 12 most frequent. Each kind: {queries} requests "
        f"one at a time (after 3 warm-up ones) cycling through its values (the first row: "
        f"the server's first 10 searches, before any other and without warm-up: cold "
        f"caches, and no statement prepared yet), the workspace "
        f"admin's bearer token (an agent's where it says so), default page size, the "
        f"server without its embedded job worker (`ROLODEX_RUN_WORKER=0`), timed at "
        f"the client over loopback (HTTP, authentication and the JSON included)."
    )


def main() -> None:
    """Load, measure, write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--sqlite-messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="Print, do not touch docs.")
    args = parser.parse_args()
    # No embedded job worker: nothing here needs one, and on SQLite it would only wait for
    # the load's write lock.
    os.environ.setdefault("ROLODEX_RUN_WORKER", "0")
    results = []
    for database in args.databases.split(","):
        if database == "postgresql":
            url = fresh_postgres()
            if url is None:
                continue
            results.append(measure("PostgreSQL", url, args.messages, args.queries))
        elif database == "sqlite":
            results.append(measure("SQLite", None, args.sqlite_messages, args.queries))
        else:
            raise SystemExit(f"unknown database {database!r}")
        print(report(results[-1:], args.queries))
    body = report(results, args.queries)
    print(body)
    if not args.no_write:
        write_section("search", "Search (issue 18)", body)


if __name__ == "__main__":
    main()

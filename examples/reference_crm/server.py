"""A reference CRM speaking Rolodex's Inbox 2.0 CRM webhooks: lookup, write-back, notifications."""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import os
import secrets
import signal
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSONObject = dict[str, Any]
Reply = tuple[int, Any]  # (status, JSON-able body or None for an empty body)

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY, email TEXT UNIQUE, attributes TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS write_backs (
    idempotency_key TEXT PRIMARY KEY, type TEXT, body TEXT, first_received_at TEXT,
    deliveries INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY, body TEXT, received_at TEXT);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, method TEXT, path TEXT, headers TEXT, body_b64 TEXT,
    signature_ok INTEGER, status INTEGER, received_at TEXT);
"""

SEED = [
    ("C-1001", "maria@example.com", "Maria", "Garcia", "gold", "Sam Lee", "Enterprise"),
    ("C-1002", "jon@example.com", "Jon", "Berg", "silver", "Sam Lee", "Business"),
    ("C-1003", "aiko@example.com", "Aiko", "Tanaka", "bronze", "Priya Nair", "Starter"),
    ("C-1004", "li.wei@example.com", "Li", "Wei", "gold", "Priya Nair", "Enterprise"),
    ("C-1005", "omar@example.com", "Omar", "Haddad", "silver", "Sam Lee", "Business"),
    ("C-1006", "marco.rossi@example.com", "Marco", "Rossi", "gold", "Priya Nair", "Enterprise"),
]

# The endpoints Rolodex calls: signed, and behind a bearer token when inbound OAuth2 is on.
PROTECTED = {"/lookup", "/write-back", "/notifications"}
DELAYED = {"/lookup", "/write-back"}
TOKEN_SECONDS = 3600

# The control panel's settings, their defaults, and so the types each accepts.
DEFAULT_BEHAVIOUR: dict[str, Any] = {
    "auto_confirm": True,
    "defer": False,
    "defer_delay_seconds": 0.2,
    "fail_next": 0,
    "fail_status": 503,
    "fail_paths": ["/write-back"],
    "delay_seconds": 0.0,
    "rolodex_url": None,
    "rolodex_client_id": None,
    "rolodex_client_secret": None,
}


def behaviour_value_ok(key: str, value: Any) -> bool:
    """Whether a control-panel setting may take this value (bool is an int; keep them apart)."""
    default = DEFAULT_BEHAVIOUR[key]
    if default is None:
        return value is None or isinstance(value, str)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return type(value) is type(default)


class Problem(Exception):
    """An error answer: status and a stable error code."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status, self.error = status, error


@dataclass
class Request:
    """What a route needs from an HTTP request."""

    headers: dict[str, str]
    body: bytes
    signature_ok: bool


def now() -> str:
    """The current UTC time, ISO 8601 with milliseconds."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def parse_json(body: bytes) -> Any:
    """The body as JSON, or a 400."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "bad_json") from None


def parse_object(body: bytes) -> JSONObject:
    """The body as a JSON object, or a 400."""
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise Problem(400, "bad_json")
    return doc


class Store:
    """The SQLite file; one connection shared by all threads, every use under one lock."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            # WAL without a sync per commit: every request is logged, and a full sync each
            # time made the CRM, not Rolodex, the bottleneck of the benchmark.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def seed(self) -> None:
        """Insert the demo customers if there are none."""
        if self._all("SELECT 1 FROM customers LIMIT 1"):
            return
        for cid, email, first, last, tier, manager, plan in SEED:
            attributes = {"first_name": first, "last_name": last, "tier": tier}
            attributes |= {"account_manager": manager, "plan": plan}
            self.upsert_customer(cid, email, attributes)

    def upsert_customer(self, cid: str, email: str | None, attributes: JSONObject) -> JSONObject:
        """Create or replace one customer (emails are kept trimmed and lowercased)."""
        email = email.strip().lower() if email else None
        sql = (
            "INSERT INTO customers (customer_id, email, attributes) VALUES (?, ?, ?) "
            "ON CONFLICT (customer_id) DO UPDATE SET email = excluded.email, "
            "attributes = excluded.attributes"
        )
        try:
            self._run(sql, (cid, email, json.dumps(attributes)))
        except sqlite3.IntegrityError:
            raise Problem(409, "email_taken") from None
        return {"customer_id": cid, "email": email, "attributes": attributes}

    def customers(self) -> list[JSONObject]:
        """Every customer."""
        rows = self._all("SELECT * FROM customers ORDER BY customer_id")
        return [self._customer(row) for row in rows]

    @staticmethod
    def _customer(row: sqlite3.Row) -> JSONObject:
        attributes = json.loads(row["attributes"])
        return {"customer_id": row["customer_id"], "email": row["email"], "attributes": attributes}

    def find_customer(self, values: JSONObject) -> JSONObject | None:
        """The customer named by a `customer_id` value or by any value whose alias has `email`."""
        for alias, value in values.items():
            if not isinstance(value, str) or not value.strip():
                continue
            if alias == "customer_id":
                rows = self._all("SELECT * FROM customers WHERE customer_id = ?", (value.strip(),))
            elif "email" in alias.lower():
                rows = self._all(
                    "SELECT * FROM customers WHERE email = ?", (value.strip().lower(),)
                )
            else:
                continue
            if rows:
                return self._customer(rows[0])
        return None

    def update_attributes(self, cid: str, edits: JSONObject) -> None:
        """Merge edits into one customer's attributes (read and write under one lock)."""
        with self._lock:
            row = self._db.execute(
                "SELECT attributes FROM customers WHERE customer_id = ?", (cid,)
            ).fetchone()
            merged = json.loads(row["attributes"]) | edits
            self._db.execute(
                "UPDATE customers SET attributes = ? WHERE customer_id = ?",
                (json.dumps(merged), cid),
            )

    def record_write_back(self, key: str, kind: str, body: str) -> bool:
        """Store a write-back once per key, counting deliveries; True if it was new."""
        sql = (
            "INSERT INTO write_backs (idempotency_key, type, body, first_received_at, deliveries) "
            "VALUES (?, ?, ?, ?, 1) "
            "ON CONFLICT (idempotency_key) DO UPDATE SET deliveries = deliveries + 1"
        )
        with self._lock:
            self._db.execute(sql, (key, kind, body, now()))
            row = self._db.execute(
                "SELECT deliveries FROM write_backs WHERE idempotency_key = ?", (key,)
            ).fetchone()
        return bool(row["deliveries"] == 1)

    def write_backs(self) -> list[JSONObject]:
        """Every stored write-back, in the order first received."""
        rows = self._all("SELECT * FROM write_backs ORDER BY rowid")
        return [dict(r) | {"body": json.loads(r["body"])} for r in rows]

    def add_notification(self, body: str) -> None:
        """Store one notification."""
        self._run("INSERT INTO notifications (body, received_at) VALUES (?, ?)", (body, now()))

    def notifications(self) -> list[Any]:
        """Every notification body, oldest first."""
        return [
            json.loads(r["body"]) for r in self._all("SELECT body FROM notifications ORDER BY id")
        ]

    def log_request(self, method: str, path: str, request: Request, status: int) -> None:
        """Append one request to the log."""
        body_b64 = base64.b64encode(request.body).decode()
        headers = json.dumps(request.headers)
        sql = (
            "INSERT INTO requests (method, path, headers, body_b64, signature_ok, status, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        self._run(sql, (method, path, headers, body_b64, int(request.signature_ok), status, now()))

    def requests(self) -> list[JSONObject]:
        """The request log, oldest first."""
        rows = self._all("SELECT * FROM requests ORDER BY id")
        return [dict(r) | {"headers": json.loads(r["headers"])} for r in rows]

    def reset(self) -> None:
        """Forget requests, write-backs and notifications (customers stay)."""
        with self._lock:
            self._db.executescript(
                "DELETE FROM requests; DELETE FROM write_backs; DELETE FROM notifications;"
            )


def http_call(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """One outgoing request: the status and the body (parsed JSON when it is JSON)."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (test double)
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class CRM:
    """The CRM's state and its routes; the HTTP handler only moves bytes."""

    ROUTES = {
        ("POST", "/oauth/token"): "oauth_token",
        ("POST", "/lookup"): "lookup",
        ("POST", "/write-back"): "write_back",
        ("POST", "/notifications"): "notification",
        ("GET", "/_admin/behaviour"): "get_behaviour",
        ("POST", "/_admin/behaviour"): "set_behaviour",
        ("POST", "/_admin/customers"): "put_customer",
        ("GET", "/_admin/callbacks"): "get_callbacks",
        ("POST", "/_admin/reset"): "reset",
    }
    # Read-only views of the database: GET path -> Store method.
    VIEWS = {
        "/_admin/customers": "customers",
        "/_admin/requests": "requests",
        "/_admin/write-backs": "write_backs",
        "/_admin/notifications": "notifications",
    }

    def __init__(
        self,
        store: Store,
        secret_hex: str,
        client: tuple[str, str] | None = None,
        rolodex: JSONObject | None = None,
    ) -> None:
        self.store = store
        self._key = bytes.fromhex(secret_hex)
        self._client = client  # inbound OAuth2 is on when given
        self._startup = {f"rolodex_{k}": v for k, v in (rolodex or {}).items()}
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self.callbacks: list[JSONObject] = []
        self.behaviour = self._default_behaviour()

    def _default_behaviour(self) -> JSONObject:
        return copy.deepcopy(DEFAULT_BEHAVIOUR) | self._startup

    def signature_ok(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether X-Hootsuite-Signature is the HMAC-SHA256 of exactly these bytes."""
        given = headers.get("x-hootsuite-signature", "")
        expected = hmac.new(self._key, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.strip().lower().encode(), expected.encode())

    def dispatch(self, method: str, path: str, request: Request) -> Reply:
        """Route one request: injected failures, signature, token, then the route itself."""
        if method == "GET" and path in self.VIEWS:
            return 200, getattr(self.store, self.VIEWS[path])()
        name = self.ROUTES.get((method, path))
        if name is None:
            return 404, {"error": "not_found"}
        try:
            if self._take_failure(path):
                return self.behaviour["fail_status"], {"error": "simulated_failure"}
            if path in PROTECTED:
                if not request.signature_ok:
                    return 401, {"error": "bad_signature"}
                if self._client and not self._token_ok(request.headers):
                    return 401, {"error": "invalid_token"}
                if path in DELAYED and self.behaviour["delay_seconds"] > 0:
                    time.sleep(self.behaviour["delay_seconds"])  # only this request's thread
            reply: Reply = getattr(self, name)(request)
        except Problem as problem:
            return problem.status, {"error": problem.error}
        return reply

    def _take_failure(self, path: str) -> bool:
        if path.startswith("/_admin/"):
            return False
        with self._lock:
            b = self.behaviour
            if b["fail_next"] > 0 and path in b["fail_paths"]:
                b["fail_next"] -= 1
                return True
        return False

    # Inbound OAuth2 (client credentials), for connectors that protect their endpoints.

    def _token_ok(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            expiry = self._tokens.get(token.strip())
        return scheme.lower() == "bearer" and expiry is not None and expiry > time.monotonic()

    def oauth_token(self, request: Request) -> Reply:
        """Issue a bearer token for the configured client credentials."""
        if self._client is None:
            return 404, {"error": "not_found"}
        form = urllib.parse.parse_qs(request.body.decode("utf-8", "replace"))
        client = (form.get("client_id", [None])[0], form.get("client_secret", [None])[0])
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                return 401, {"error": "invalid_client"}
            client = (user, password)
        if form.get("grant_type", [None])[0] != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        # Compare both halves every time, so timing says nothing about which one was wrong.
        id_ok = hmac.compare_digest(str(client[0]).encode(), self._client[0].encode())
        secret_ok = hmac.compare_digest(str(client[1]).encode(), self._client[1].encode())
        if not (id_ok and secret_ok):
            return 401, {"error": "invalid_client"}
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + TOKEN_SECONDS
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_SECONDS}

    # The contract's three endpoints.

    def lookup(self, request: Request) -> Reply:
        """Answer a lookup now, or (defer) with an empty 200 and a PUT to Rolodex later."""
        values = parse_object(request.body)
        customer = self.store.find_customer(values)
        if customer is None:
            return 404, {"error": "not_found"}
        attributes = [{"attribute": "customer_id", "value": customer["customer_id"]}]
        attributes += [{"attribute": k, "value": v} for k, v in customer["attributes"].items()]
        answer = {"autoConfirm": self.behaviour["auto_confirm"], "contactAttributes": attributes}
        if not self.behaviour["defer"]:
            return 200, answer
        profile_id = request.headers.get("x-rolodex-contact-profile-id", "")
        args = (profile_id, answer, dict(self.behaviour))
        threading.Thread(target=self._deliver_deferred, args=args, daemon=True).start()
        return 200, None

    def _deliver_deferred(self, profile_id: str, answer: JSONObject, b: JSONObject) -> None:
        """PUT a deferred answer to Rolodex, with a token from its /oauth2/token."""
        time.sleep(b["defer_delay_seconds"])
        outcome: JSONObject = {"contact_profile_id": profile_id, "sent": answer, "at": now()}
        try:
            if not b["rolodex_url"] or not profile_id:
                raise ValueError("rolodex_url or X-Rolodex-Contact-Profile-Id missing")
            base = b["rolodex_url"].rstrip("/")
            basic = f"{b['rolodex_client_id']}:{b['rolodex_client_secret']}".encode()
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            form["Authorization"] = "Basic " + base64.b64encode(basic).decode()
            grant = b"grant_type=client_credentials"
            status, body = http_call("POST", f"{base}/oauth2/token", grant, form)
            outcome |= {"stage": "token", "status": status, "body": body}
            if status == 200:
                url = f"{base}/inbox/v2/contact/{urllib.parse.quote(profile_id, safe='')}"
                headers = {"Authorization": f"Bearer {body['access_token']}"}
                headers["Content-Type"] = "application/json"
                payload = json.dumps(answer).encode()
                status, body = http_call("PUT", f"{url}/contact-attributes", payload, headers)
                outcome |= {"stage": "put", "status": status, "body": body}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            outcome |= {"status": None, "error": f"{type(exc).__name__}: {exc}"}
        with self._lock:
            self.callbacks.append(outcome)

    def write_back(self, request: Request) -> Reply:
        """Store a write-back once per idempotencyKey; apply agents' edits the first time."""
        doc = parse_object(request.body)
        key = doc.get("idempotencyKey")
        if not isinstance(key, str) or not key:
            raise Problem(400, "missing_idempotency_key")
        stored = self.store.record_write_back(key, str(doc.get("type")), request.body.decode())
        if stored:
            self._apply_agent_edits(doc.get("data"))
        return 200, {"stored": stored}

    def _apply_agent_edits(self, data: Any) -> None:
        """Copy AGENT-sourced values onto the matching customer, as a CRM keeps agents' edits."""
        entries = data.get("contactAttributes") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return
        entries = [
            e for e in entries if isinstance(e, dict) and isinstance(e.get("attribute"), str)
        ]
        customer = self.store.find_customer({e["attribute"]: e.get("value") for e in entries})
        if customer is None:
            return
        edits = {
            e["attribute"]: e.get("value")
            for e in entries
            if e.get("source") == "AGENT" and e["attribute"] != "customer_id"
        }
        if edits:
            self.store.update_attributes(customer["customer_id"], edits)

    def notification(self, request: Request) -> Reply:
        """Store a notification (DATA_IMPORT_ERROR and friends)."""
        parse_object(request.body)
        self.store.add_notification(request.body.decode())
        return 204, None

    # The control panel (no auth: this is a test double).

    def get_behaviour(self, request: Request) -> Reply:
        """The current behaviour."""
        with self._lock:
            return 200, dict(self.behaviour)

    def set_behaviour(self, request: Request) -> Reply:
        """Change any subset of the behaviour; `revoke_tokens` forgets every issued token."""
        changes = parse_object(request.body)
        if changes.pop("revoke_tokens", False):
            with self._lock:
                self._tokens.clear()
        bad = [
            k
            for k, v in changes.items()
            if k not in DEFAULT_BEHAVIOUR or not behaviour_value_ok(k, v)
        ]
        if bad:
            raise Problem(400, "bad_behaviour:" + ",".join(bad))
        with self._lock:
            self.behaviour |= changes
            return 200, dict(self.behaviour)

    def put_customer(self, request: Request) -> Reply:
        """Create or replace a customer."""
        doc = parse_object(request.body)
        cid, email, attributes = doc.get("customer_id"), doc.get("email"), doc.get("attributes", {})
        if not isinstance(cid, str) or not cid or not isinstance(attributes, dict):
            raise Problem(400, "bad_customer")
        if email is not None and not isinstance(email, str):
            raise Problem(400, "bad_customer")
        return 200, self.store.upsert_customer(cid, email, attributes)

    def get_callbacks(self, request: Request) -> Reply:
        """The outcomes of deferred lookups' PUTs to Rolodex."""
        with self._lock:
            return 200, list(self.callbacks)

    def reset(self, request: Request) -> Reply:
        """Clear everything but customers and issued tokens; behaviour back to startup."""
        self.store.reset()
        with self._lock:
            self.callbacks.clear()
            self.behaviour = self._default_behaviour()
            return 200, dict(self.behaviour)


class Handler(BaseHTTPRequestHandler):
    """Moves bytes between HTTP and the CRM; keep-alive needs HTTP/1.1 and Content-Length."""

    protocol_version = "HTTP/1.1"
    server: CRMServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: requests are logged in the database instead."""

    def do_GET(self) -> None:
        """Handle a GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Handle a POST."""
        self._handle("POST")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers, up to the empty line
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        crm = self.server.crm
        path = urllib.parse.urlsplit(self.path).path
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True  # the framing is lost; so is the connection
            self._send(400, {"error": "bad_request"})
            return
        request = Request(headers, body, crm.signature_ok(headers, body))
        status, reply = crm.dispatch(method, path, request)
        # Logged before answering, so a test that has its answer also sees the log entry.
        if not path.startswith("/_admin/"):
            crm.store.log_request(method, path, request, status)
        self._send(status, reply)

    def _send(self, status: int, reply: Any) -> None:
        payload = b"" if reply is None else json.dumps(reply).encode()
        self.send_response(status)
        if reply is not None:
            self.send_header("Content-Type", "application/json")
        if status != 204:  # RFC 9110: a 204 carries no Content-Length
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class CRMServer(ThreadingHTTPServer):
    """A thread per connection, so one slow answer never holds up another."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under a burst of parallel
    # requests, and each dropped SYN costs the client a 1 s retransmit.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], crm: CRM) -> None:
        super().__init__(address, Handler)
        self.crm = crm


def build_server(
    host: str,
    port: int,
    db: str,
    secret_hex: str,
    *,
    seed: bool = False,
    client: tuple[str, str] | None = None,
    rolodex: JSONObject | None = None,
) -> CRMServer:
    """A bound, not yet serving server (port 0: a free one); tests may run it in a thread."""
    store = Store(db)
    if seed:
        store.seed()
    return CRMServer((host, port), CRM(store, secret_hex, client, rolodex))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010, help="0 picks a free port")
    parser.add_argument("--db", required=True, help="SQLite file, created if missing")
    parser.add_argument(
        "--secret",
        default=os.environ.get("REFERENCE_CRM_SECRET"),
        help="Rolodex's shared secret, hex (or REFERENCE_CRM_SECRET)",
    )
    parser.add_argument("--seed", action="store_true", help="add demo customers if none")
    parser.add_argument("--client-id", help="require inbound OAuth2 with these credentials")
    parser.add_argument("--client-secret")
    parser.add_argument("--rolodex-url", help="Rolodex's base URL, for deferred lookups")
    parser.add_argument("--rolodex-client-id")
    parser.add_argument("--rolodex-client-secret")
    args = parser.parse_args(argv)
    try:
        bytes.fromhex(args.secret or "")
    except ValueError:
        parser.error("--secret must be hex")
    if not args.secret:
        parser.error("--secret (or REFERENCE_CRM_SECRET) is required")
    if bool(args.client_id) != bool(args.client_secret):
        parser.error("--client-id and --client-secret go together")
    return args


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    args = parse_args(argv)
    client = (args.client_id, args.client_secret) if args.client_id else None
    rolodex = {"url": args.rolodex_url, "client_id": args.rolodex_client_id}
    rolodex["client_secret"] = args.rolodex_client_secret
    server = build_server(
        args.host, args.port, args.db, args.secret, seed=args.seed, client=client, rolodex=rolodex
    )
    port = server.server_address[1]
    print(f"reference CRM listening on http://{args.host}:{port}", flush=True)  # noqa: T201

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever() to return, so it cannot run on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.crm.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A reference receiver of Rolodex's public webhooks: verifies each delivery's Standard Webhooks
signature and stores each `webhook-id` once (a repeat is acknowledged, not stored again).

Standard library plus `standardwebhooks`. Its control panel (`/_admin/…`, no authentication:
a test double, do not expose it beyond your machine):
  GET  /_admin/events     the stored events, oldest first, with how often each id came
  GET  /_admin/requests   every request received, with its headers and raw body (base64)
  POST /_admin/behaviour  {"fail_next": N, "fail_status": 503}: answer the next N with it
  POST /_admin/secrets    {"secrets": ["whsec_…"]}: the secrets to verify with (rotation: several)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    webhook_id TEXT PRIMARY KEY, type TEXT, body TEXT, received_at TEXT,
    deliveries INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, path TEXT, headers TEXT, body_b64 TEXT, verified INTEGER,
    status INTEGER, received_at TEXT);
"""
MAX_BODY = 2 * 1024 * 1024


class Receiver:
    """The receiver's state: secrets, behaviour and the store, shared by the handler threads."""

    def __init__(self, db: str, secrets: list[str]) -> None:
        self.lock = threading.Lock()
        self.conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self.conn.executescript(SCHEMA)
        self.secrets = list(secrets)
        self.fail_next = 0
        self.fail_status = 503

    def verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        """The event if a configured secret verifies it (signature and a fresh timestamp)."""
        for secret in self.secrets:
            try:
                event: dict[str, Any] = Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            return event
        return None

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        """Handle one delivery: fail on request, verify, store once per webhook-id."""
        now = datetime.now(UTC).isoformat()
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                status, reply, verified = self.fail_status, {"error": "failing on request"}, None
            else:
                event = self.verify(body, headers)
                verified = event is not None
                if event is None:
                    status, reply = 400, {"error": "invalid signature"}
                else:
                    status, reply = 200, {"stored": self._store(headers, event, body, now)}
            self.conn.execute(
                "INSERT INTO requests (path, headers, body_b64, verified, status, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    path,
                    json.dumps(headers),
                    base64.b64encode(body).decode(),
                    None if verified is None else int(verified),
                    status,
                    now,
                ),
            )
        return status, reply

    def _store(self, headers: dict[str, str], event: dict[str, Any], body: bytes, now: str) -> bool:
        """Store the event once per webhook-id; a repeat only counts. True if stored now."""
        webhook_id = headers["webhook-id"]
        seen = self.conn.execute(
            "UPDATE events SET deliveries = deliveries + 1 WHERE webhook_id = ?", (webhook_id,)
        ).rowcount
        if seen:
            return False
        self.conn.execute(
            "INSERT INTO events (webhook_id, type, body, received_at) VALUES (?, ?, ?, ?)",
            (webhook_id, str(event.get("type", "")), body.decode(), now),
        )
        return True

    def events(self) -> list[dict[str, Any]]:
        """Stored events, oldest first."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT webhook_id, type, body, received_at, deliveries FROM events ORDER BY rowid"
            ).fetchall()
        return [
            {
                "webhook_id": r[0],
                "type": r[1],
                "body": r[2],
                "event": json.loads(r[2]),
                "received_at": r[3],
                "deliveries": r[4],
            }
            for r in rows
        ]

    def requests(self) -> list[dict[str, Any]]:
        """Every request received, oldest first."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT path, headers, body_b64, verified, status, received_at FROM requests"
                " ORDER BY id"
            ).fetchall()
        return [
            {
                "path": r[0],
                "headers": json.loads(r[1]),
                "body_b64": r[2],
                "verified": None if r[3] is None else bool(r[3]),
                "status": r[4],
                "received_at": r[5],
            }
            for r in rows
        ]


class Handler(BaseHTTPRequestHandler):
    """Deliveries on any path but /_admin/…; the control panel there."""

    server: ReceiverServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read /_admin/requests instead."""

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        """The control panel's listings."""
        receiver = self.server.receiver
        if self.path == "/_admin/events":
            self._reply(200, receiver.events())
        elif self.path == "/_admin/requests":
            self._reply(200, receiver.requests())
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        """A delivery, or a control-panel change."""
        try:
            body = self._body()
        except ValueError:
            self._reply(413, {"error": "body too large"})
            return
        if self.path.startswith("/_admin/"):
            self._admin(json.loads(body or b"{}"))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, reply = self.server.receiver.receive(self.path, headers, body)
        self._reply(status, reply)

    def _admin(self, data: dict[str, Any]) -> None:
        receiver = self.server.receiver
        with receiver.lock:
            if self.path == "/_admin/behaviour":
                receiver.fail_next = int(data.get("fail_next", receiver.fail_next))
                receiver.fail_status = int(data.get("fail_status", receiver.fail_status))
                self._reply(200, {"fail_next": receiver.fail_next})
            elif self.path == "/_admin/secrets":
                receiver.secrets = [str(s) for s in data.get("secrets", [])]
                self._reply(200, {"secrets": len(receiver.secrets)})
            else:
                self._reply(404, {"error": "not found"})

    def _reply(self, status: int, reply: Any) -> None:
        payload = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class ReceiverServer(ThreadingHTTPServer):
    """A thread per connection."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        super().__init__(address, Handler)
        self.receiver = receiver


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020, help="0 picks a free port")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument(
        "--secret",
        action="append",
        default=[s for s in [os.environ.get("WEBHOOK_SECRET")] if s],
        help="a webhook's secret, whsec_… (repeatable; or WEBHOOK_SECRET)",
    )
    args = parser.parse_args(argv)
    server = ReceiverServer((args.host, args.port), Receiver(args.db, args.secret))
    port = server.server_address[1]
    print(f"webhook receiver listening on http://{args.host}:{port}", flush=True)  # noqa: T201

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

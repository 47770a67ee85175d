"""The reference webhook receiver (examples/webhook_receiver) as a real process on loopback."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

SERVER = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver" / "server.py"


class WebhookReceiver:
    """A running receiver and its control panel (secrets, failures, what it stored)."""

    def __init__(self, db: Path) -> None:
        args = [sys.executable, str(SERVER), "--port", "0", "--db", str(db)]
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"webhook receiver did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1].strip()
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def use_secrets(self, *secrets: str) -> None:
        """Verify deliveries with these secrets."""
        self.http.post("/_admin/secrets", json={"secrets": list(secrets)}).raise_for_status()

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` deliveries with `status`."""
        body = {"fail_next": count, "fail_status": status}
        self.http.post("/_admin/behaviour", json=body).raise_for_status()

    def events(self) -> list[dict[str, Any]]:
        """The stored events (one per webhook-id), oldest first."""
        rows: list[dict[str, Any]] = self.http.get("/_admin/events").json()
        return rows

    def requests(self) -> list[dict[str, Any]]:
        """Every request received, oldest first, each with its raw body."""
        rows: list[dict[str, Any]] = self.http.get("/_admin/requests").json()
        for row in rows:
            row["body"] = base64.b64decode(row["body_b64"])
        return rows

    def stop(self) -> None:
        """Stop the process."""
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[WebhookReceiver]:
    """A reference webhook receiver on a free loopback port."""
    running = WebhookReceiver(tmp_path / "receiver.db")
    try:
        yield running
    finally:
        running.stop()

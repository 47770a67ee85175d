"""The reference CRM (examples/reference_crm) run as a real process on loopback for tests."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

SERVER = Path(__file__).resolve().parents[2] / "examples" / "reference_crm" / "server.py"


class ReferenceCrm:
    """A running reference CRM, with its control panel (behaviour, request log, stores)."""

    def __init__(self, secret: str, db: Path, *extra: str) -> None:
        self.secret = secret
        args = [sys.executable, str(SERVER), "--port", "0", "--db", str(db), "--secret", secret]
        self.process = subprocess.Popen(
            [*args, "--seed", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"reference CRM did not start: {line!r} {self.process.stderr}")
        self.url = line.rsplit(" ", 1)[1].strip()
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def behave(self, **behaviour: Any) -> None:
        """Change how the CRM answers (fail_next, defer, auto_confirm, delay_seconds…)."""
        self.http.post("/_admin/behaviour", json=behaviour).raise_for_status()

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """Every request Rolodex sent, oldest first, each with its raw body."""
        rows: list[dict[str, Any]] = self.http.get("/_admin/requests").json()
        for row in rows:
            row["body"] = base64.b64decode(row["body_b64"])
        return [r for r in rows if path is None or r["path"] == path]

    def get(self, what: str) -> Any:
        """A control-panel listing: write-backs, notifications, customers, callbacks."""
        return self.http.get(f"/_admin/{what}").json()

    def stop(self) -> None:
        """Stop the process."""
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()

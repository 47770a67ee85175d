"""The reference bot (examples/reference_bot) as a real process on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

SERVER = Path(__file__).resolve().parents[2] / "examples" / "reference_bot" / "server.py"


class ReferenceBot:
    """A running reference bot reading its secret from a file, and what it recorded."""

    def __init__(self, secret_file: Path, *args: str) -> None:
        self.secret_file = secret_file
        command = [sys.executable, str(SERVER), "--port", "0", "--secret-file", str(secret_file)]
        self.process = subprocess.Popen(
            [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"reference bot did not start: {line!r}")
        base = line.rsplit(" ", 1)[1].strip()
        self.url = f"{base}/webhook"
        self.http = httpx.Client(base_url=base, timeout=10)

    def use_secret(self, secret: str) -> None:
        """Verify events with this hex secret (as an admin copies it from Rolodex)."""
        self.secret_file.write_text(secret)

    def events(self) -> list[dict[str, Any]]:
        """Every request it got, oldest first: type, signature_ok, headers, raw body."""
        events: list[dict[str, Any]] = self.http.get("/_events").json()
        return events

    def stop(self) -> None:
        """Stop the process."""
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def reference_bot(tmp_path: Path) -> Iterator[ReferenceBot]:
    """The reference bot, stopped after the test."""
    secret_file = tmp_path / "bot-secret"
    secret_file.write_text("")
    bot = ReferenceBot(secret_file)
    yield bot
    bot.stop()

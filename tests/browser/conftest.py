"""Browser fixtures: a real `rolodex serve` process (the `browser` and `page` fixtures, Debian's
Chromium driven by Playwright, are the root conftest's: channel tests use them too)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rolodex.config import Settings
from support.processes import spawn_cli


@dataclass
class LiveServer:
    """A `rolodex serve` process on a free loopback port, with its settings."""

    url: str
    settings: Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveServer]:
    """A real server process on its own SQLite database (with the embedded worker)."""
    shutil.copy(sqlite_template, tmp_path / "rolodex.db")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rolodex.db'}",
        data_dir=tmp_path / "data",
        secret_key="browser-test-secret",
    )
    port = _free_port()
    process = spawn_cli(settings, "serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stderr = process.stderr.read().decode() if process.stderr else ""
            process.kill()
            pytest.fail(f"rolodex serve did not start: {stderr[-2000:]}")
        time.sleep(0.1)
    yield LiveServer(url, settings)
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()

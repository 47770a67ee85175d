"""Browser fixtures: a real `rolodex serve` process and Debian's Chromium driven by Playwright.

ROLODEX_REQUIRE_BROWSER=1 turns a missing Chromium or Playwright into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rolodex.config import Settings
from support.processes import spawn_cli

CHROMIUM = os.environ.get("ROLODEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_BROWSER = os.environ.get("ROLODEX_REQUIRE_BROWSER") == "1"


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


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium per test.

    Playwright's sync API keeps an event loop running in this thread while it is
    open, which would break the async tests that run after it; so it never outlives a test.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if REQUIRE_BROWSER:
            pytest.fail("ROLODEX_REQUIRE_BROWSER=1 but Playwright is not installed")
        pytest.skip("Playwright is not installed")
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"ROLODEX_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (its own cookies) per test, 1280 px wide."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()

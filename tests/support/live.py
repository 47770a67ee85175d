"""A real `rolodex serve` process for tests that need Rolodex on the network (platforms post)."""

from __future__ import annotations

import asyncio
import random
import signal
import socket
import subprocess
import time

import httpx
import pytest

from rolodex.config import Settings
from support.processes import spawn_cli


async def wait_started(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Wait until the spawned server answers /healthz (its stderr in the failure if it died)."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, f"the server at {url} did not start"
            await asyncio.sleep(0.1)


def free_port() -> int:
    """A TCP port nobody listens on now, below the kernel's ephemeral range.

    A port the kernel picked (bind to 0) is also where it puts the outgoing connections of
    the other test processes: one took it before the server bound it ("Address already in
    use", seen in CI). Below 32768 only a listener that chose the same port can collide.
    """
    rng = random.SystemRandom()
    while True:
        port = rng.randrange(20_000, 32_000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class LiveRolodex:
    """`rolodex serve` with the embedded worker on a fixed loopback port; restartable."""

    def __init__(self, settings: Settings, **env: str) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "ROLODEX_PUBLIC_URL": self.url,
            "ROLODEX_ALLOW_PRIVATE_WEBHOOK_TARGETS": "1",
            "ROLODEX_DELIVERY_RETRY_UNIT_SECONDS": "0.3",
            "ROLODEX_RUN_WORKER": "1",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LiveRolodex:
        """Start serving and wait until /healthz answers."""
        self.process = spawn_cli(self.settings, "serve", "--port", str(self.port), **self.env)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                self.process.kill()
                pytest.fail(f"rolodex serve did not start: {stderr[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown work at all, as when a machine dies."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        """Terminate gracefully."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

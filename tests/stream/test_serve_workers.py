"""`rolodex serve --workers N`: refused where processes cannot share state; on PostgreSQL a
change made through one process reaches the stream clients of every process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from builders import inbound_body, make_channel, make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from stream.conftest import Stream
from support.live import free_port
from support.processes import rolodex_env, spawn_cli


def _serve(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rolodex", "serve", "--port", "0", *args],
        env=rolodex_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_several_processes_need_postgresql(settings: Settings) -> None:
    result = _serve(settings, "--workers", "2")
    assert result.returncode == 2, result.stderr
    assert "needs PostgreSQL" in result.stderr
    assert "--workers 1" in result.stderr


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite is refused first
def test_several_processes_need_an_explicit_secret_key(settings: Settings) -> None:
    result = _serve(settings, "--workers", "2", ROLODEX_SECRET_KEY="")
    assert result.returncode == 2, result.stderr
    assert "ROLODEX_SECRET_KEY" in result.stderr


async def _one_stream_per_process(url: str, headers: dict[str, str]) -> dict[str, Stream]:
    # The processes share one listening socket and the kernel hands each new connection to
    # one of them: connect until both have answered (the header names the serving process).
    found: dict[str, Stream] = {}
    for _ in range(60):
        stream = await Stream.open(url, headers)
        process = stream.response.headers["x-rolodex-process"]
        if process in found:
            await stream.close()
        else:
            found[process] = stream
        if len(found) == 2:
            return found
    raise AssertionError(f"60 connections all went to {list(found)}")


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_change_through_one_process_reaches_the_clients_of_the_other(
    settings: Settings, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = spawn_cli(settings, "serve", "--workers", "2", "--no-worker", "--port", str(port))
    streams: dict[str, Stream] = {}
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "rolodex serve --workers 2 did not start"
                await asyncio.sleep(0.1)
            streams = await _one_stream_per_process(url, admin.headers)

            # Through whichever process takes it: the other one's client sees it too.
            response = await http.post(
                f"/api/v1/channels/{channel}/inbound",
                json=inbound_body("ana"),
                headers=admin.headers,
            )
            assert response.status_code == 201, response.text
            conversation_id = response.json()["conversation_id"]
            response = await http.patch(
                f"/api/v1/conversations/{conversation_id}",
                json={"status": "resolved"},
                headers=admin.headers,
            )
            assert response.status_code == 200, response.text
            got: list[Any] = []
            for stream in streams.values():
                created = await stream.until("conversation.created", timeout=10)
                resolved = await stream.until("conversation.updated", timeout=10)
                assert created.data["conversation_id"] == conversation_id
                assert resolved.data["changes"]["status"]["to"] == "resolved"
                got.append((created.id, resolved.id))
            # One event, one id, on every process.
            assert got[0] == got[1]
    finally:
        for stream in streams.values():
            await stream.close()
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

"""A token revoked through one server process is refused by another at once (PostgreSQL):
the revocation's NOTIFY makes every process forget its cached principals on commit."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx
import pytest

from builders import make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from support.live import free_port, wait_started
from support.processes import spawn_cli


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_token_revoked_through_one_process_is_refused_by_the_other_at_once(
    settings: Settings, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    # A long cache: without the notification the other process would accept it for a minute.
    ports = [free_port(), free_port()]
    processes = [
        spawn_cli(
            settings, "serve", "--no-worker", "--port", str(port), ROLODEX_AUTH_CACHE_SECONDS="60"
        )
        for port in ports
    ]
    one, other = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        for url, process in zip((one, other), processes, strict=True):
            await wait_started(url, process)
        async with httpx.AsyncClient(timeout=10) as http:
            me = await http.get(f"{other}/api/v1/me", headers=agent.headers)
            assert me.status_code == 200, me.text  # now cached by the other process
            tokens = (await http.get(f"{one}/api/v1/tokens", headers=admin.headers)).json()
            (mine,) = [t for t in tokens if t.get("user_id") == agent.user_id]
            revoked = await http.delete(f"{one}/api/v1/tokens/{mine['id']}", headers=admin.headers)
            assert revoked.status_code == 204, revoked.text
            started = time.monotonic()
            while True:
                refused = await http.get(f"{other}/api/v1/me", headers=agent.headers)
                if refused.status_code == 401:
                    break
                assert time.monotonic() - started < 1.0, "the other process still accepts it"
                await asyncio.sleep(0.02)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

"""`rolodex demo`: an idempotent, living demo workspace that a newcomer can log into."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx

from rolodex.config import Settings
from rolodex.demo import DEMO_LOGINS
from support.processes import rolodex_env, run_cli


async def test_demo_is_idempotent_and_shows_real_data(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = run_cli(settings, "demo")
    assert first.returncode == 0, first.stderr
    assert "Demo workspace created" in first.stdout
    for _, login_email, _password in DEMO_LOGINS:
        assert login_email in first.stdout
    second = run_cli(settings, "demo")
    assert "already there" in second.stdout

    _, email, password = DEMO_LOGINS[1]
    login = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["workspace"]["plan"] == "enterprise"
    assert me["role"] == "agent"

    statuses: dict[str, int] = {}
    for status in ("new", "pending", "resolved"):
        page = await client.get(f"/api/v1/conversations?status={status}", headers=headers)
        statuses[status] = len(page.json()["items"])
    assert statuses == {"new": 5, "pending": 2, "resolved": 1}
    contacts = (await client.get("/api/v1/contacts?limit=50", headers=headers)).json()["items"]
    names = {c["display_name"] for c in contacts}
    assert {"Jane Doe", "Marco Rossi", "Priya Nair"} <= names
    twitter = [c for c in contacts if c["medium"] == "twitter"]
    assert len(twitter) == 1, "one Twitter user across both accounts"


def test_the_login_address_printed_is_the_one_served(settings: Settings) -> None:
    """`rolodex demo` printed http://127.0.0.1:8000 whatever the server used; now the server
    prints where it listens (port 0 picks a free one) and where the demo's people log in."""
    seeded = run_cli(settings, "demo")
    assert seeded.returncode == 0, seeded.stderr
    assert ":8000" not in seeded.stdout, "the demo cannot know where the server will listen"
    server = subprocess.Popen(
        [sys.executable, "-m", "rolodex", "serve", "--port", "0", "--no-worker"],
        env=rolodex_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while not any("log in at" in line for line in lines) and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line)
        printed = "".join(lines)
        serving = re.search(r"serving on (http://127\.0\.0\.1:(\d+))", printed)
        login = re.search(r"log in at (http://\S+/login)", printed)
        assert serving, printed
        assert login, printed
        assert int(serving.group(2)) != 0
        assert login.group(1) == f"{serving.group(1)}/login"
        page = httpx.get(login.group(1), timeout=10)
        assert page.status_code == 200
        assert 'name="email"' in page.text or "password" in page.text.lower()
    finally:
        server.terminate()
        server.wait(10)

"""`rolodex demo`: an idempotent, living demo workspace that a newcomer can log into."""

from __future__ import annotations

import httpx

from rolodex.config import Settings
from rolodex.demo import DEMO_LOGINS
from support.processes import run_cli


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

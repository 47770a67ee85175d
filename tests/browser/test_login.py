"""Logging in and out of the pages in a real Chromium."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import expect

from support.browser import LOGIN_PASSWORD, login
from support.processes import run_cli


def _workspace(live_server: Any) -> dict[str, str]:
    result = run_cli(
        live_server.settings,
        "workspace",
        "create",
        "--name",
        "Acme",
        "--plan",
        "enterprise",
        "--admin-email",
        "boss@acme.test",
        "--admin-password",
        LOGIN_PASSWORD,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_admin_logs_in_adds_an_agent_and_logs_out(page: Any, live_server: Any) -> None:
    _workspace(live_server)
    page.goto(f"{live_server.url}/admin")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin"))
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    expect(page.get_by_role("heading", name="Admin settings")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Agent workspace", "Admin settings", "Exports", "Privacy & security"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()

    page.get_by_role("link", name="Users & teams").click()
    page.get_by_label("Name", exact=True).fill("Nora Agent")
    page.get_by_label("Email", exact=True).fill("nora@acme.test")
    page.get_by_label("Password", exact=True).fill("nora-password")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("cell", name="nora@acme.test")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Rolodex")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login"))
    login(page, "nora@acme.test", "nora-password")
    expect(page.get_by_role("heading", name="Agent workspace")).to_be_visible()


def test_wrong_password_shows_an_error(page: Any, live_server: Any) -> None:
    _workspace(live_server)
    page.goto(f"{live_server.url}/login")
    login(page, "boss@acme.test", "wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("email or password is incorrect")
    expect(page.get_by_label("Email")).to_have_value("boss@acme.test")

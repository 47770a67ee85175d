"""The error page a person meets while browsing: accessible, in their language, at every width."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, create_workspace, login
from support.processes import run_cli

pytestmark = pytest.mark.browser

WIDTHS = (1280, 800)


def _agent(live_server: Any, workspace_id: str) -> str:
    email = "nora@acme.test"
    result = run_cli(
        live_server.settings,
        "user",
        "create",
        "--workspace",
        workspace_id,
        "--email",
        email,
        "--password",
        LOGIN_PASSWORD,
        "--name",
        "Nora Agent",
    )
    assert result.returncode == 0, result.stderr
    return email


def _check_at_every_width(page: Any) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        expect(page.get_by_role("alert")).to_be_visible()
        assert_accessible(page)


def test_a_missing_page_for_a_signed_in_admin(page: Any, live_server: Any) -> None:
    create_workspace(live_server.settings)
    page.goto(f"{live_server.url}/login")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    response = page.goto(f"{live_server.url}/no-such-page")
    assert response is not None
    assert response.status == 404
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("heading", name="Not found", level=1)).to_be_visible()
    expect(page).to_have_title("Not found · Rolodex")
    expect(alert.get_by_role("link", name="Back to the agent workspace")).to_be_visible()
    _check_at_every_width(page)


def test_a_forbidden_page_for_an_agent(page: Any, live_server: Any) -> None:
    workspace = create_workspace(live_server.settings)
    email = _agent(live_server, workspace["workspace_id"])
    page.goto(f"{live_server.url}/login")
    login(page, email, LOGIN_PASSWORD)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    response = page.goto(f"{live_server.url}/privacy")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("alert").get_by_role("heading", level=1)).to_be_visible()
    _check_at_every_width(page)


def test_the_error_page_in_spanish(browser: Any, live_server: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="es-ES")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        response = page.goto(f"{live_server.url}/no-such-page")
        assert response is not None
        assert response.status == 404
        expect(page.locator("html")).to_have_attribute("lang", "es")
        alert = page.get_by_role("alert")
        expect(alert.get_by_role("heading", name="No encontrado", level=1)).to_be_visible()
        expect(
            alert.get_by_role("link", name="Volver al espacio de trabajo del agente")
        ).to_be_visible()
        expect(page.get_by_role("link", name="Saltar al contenido")).to_be_attached()
        _check_at_every_width(page)
    finally:
        context.close()

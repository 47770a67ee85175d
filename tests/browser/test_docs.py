"""The API documentation pages render with the network blocked: nothing loads from elsewhere."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _offline(page: Any) -> tuple[list[str], list[str]]:
    """Abort every request that leaves 127.0.0.1; what was refused, and what the console said."""
    refused: list[str] = []
    console: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    return refused, console


# ReDoc shows Redocly's logo from its CDN and hides it when it does not load: the policy stops it.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _csp_complaints(console: list[str]) -> list[str]:
    return [
        line
        for line in console
        if ("Content Security Policy" in line and REDOCLY_LOGO not in line) or "pageerror" in line
    ]


def test_swagger_ui_lists_the_operations_offline(live_server: Any, page: Any) -> None:
    refused, console = _offline(page)
    response = page.goto(f"{live_server.url}/docs")
    assert response is not None
    assert response.status == 200
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=30_000)
    assert operations.count() > 50
    expect(page.get_by_text("/api/v1/channels/{channel_id}/inbound").first).to_be_visible()
    # An operation opens and shows its parameters: the viewer works, not only its markup.
    page.locator(".opblock-summary-control").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert refused == []
    assert _csp_complaints(console) == []


def test_redoc_renders_offline(live_server: Any, page: Any) -> None:
    refused, console = _offline(page)
    response = page.goto(f"{live_server.url}/redoc")
    assert response is not None
    assert response.status == 200
    # ReDoc writes its styles inline at run time; its scripts are held to 'self' all the same.
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    # ReDoc reads the whole OpenAPI document before it shows anything: give it time.
    expect(page.get_by_role("heading", name="Rolodex").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name=re.compile("Create Channel")).first).to_be_attached()
    expect(page.get_by_text("Add a channel of a medium").first).to_be_attached()
    assert page.locator("[data-section-id]").count() > 50
    # Its search runs in a worker, which indexes the document first: it finds an operation.
    search = page.get_by_placeholder("Search...")
    found = page.get_by_role("menuitem", name="Receive Inbound")
    deadline = time.monotonic() + 30
    while not found.is_visible() and time.monotonic() < deadline:
        search.fill("")
        search.fill("inbound")
        page.wait_for_timeout(500)
    expect(found).to_be_visible()
    assert refused == []
    assert _csp_complaints(console) == []

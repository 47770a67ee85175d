"""The API docs pages and the favicon come from the package: nothing from a CDN (B10).

The browser test (tests/browser/test_docs.py) shows both pages render with the network
blocked; these check, without a browser, what the pages ask for and under which policy.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from rolodex import apidocs
from rolodex.app import create_app
from rolodex.config import Settings


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its database: the docs pages, their assets and the icon need none."""
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}", secret_key="docs")
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class _Resources(HTMLParser):
    """Every URL a page loads by itself (scripts, styles, icons, images)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.urls.append(str(found["src"]))
            else:
                self._in_script = True
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))
        if tag == "img" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "style":
            self.inline_styles += 1
        if "style" in found:
            self.inline_styles += 1

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


JS = re.compile(r"^(text|application)/javascript")


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_docs_pages_load_only_files_of_the_package(
    app_client: httpx.AsyncClient, path: str
) -> None:
    page = await app_client.get(path)
    assert page.status_code == 200
    found = _Resources()
    found.feed(page.text)
    assert found.urls, "the page loads its viewer"
    assert (found.inline_scripts, found.inline_styles) == (0, 0)
    for url in found.urls:
        assert url.startswith("/"), f"{path} loads {url} from elsewhere"
        asset = await app_client.get(url)
        assert asset.status_code == 200, url
        if url.endswith(".js"):
            # Served with nosniff: a script needs a JavaScript type to run.
            assert JS.match(asset.headers["content-type"]), (url, asset.headers["content-type"])
    assert "cdn." not in page.text
    assert "googleapis" not in page.text
    # The OpenAPI document they show is the app's own.
    assert (
        'data-openapi-url="/openapi.json"' in page.text or 'spec-url="/openapi.json"' in page.text
    )


async def test_docs_pages_run_under_a_strict_policy(app_client: httpx.AsyncClient) -> None:
    swagger = (await app_client.get("/docs")).headers["content-security-policy"]
    assert swagger == (await app_client.get("/login")).headers["content-security-policy"]
    assert "unsafe-inline" not in swagger
    redoc = dict(
        part.strip().split(" ", 1)
        for part in (await app_client.get("/redoc")).headers["content-security-policy"].split(";")
    )
    # ReDoc writes its styles at run time and searches in a worker of its own; no script may
    # come from anywhere but the app, and nothing may frame the page.
    assert redoc["script-src"] == "'self'"
    assert redoc["default-src"] == "'self'"
    assert redoc["connect-src"] == "'self'"
    assert redoc["frame-ancestors"] == "'none'"


def test_vendored_viewers_carry_their_licences() -> None:
    vendor = apidocs.VENDOR_DIR
    assert "Apache License" in (vendor / "swagger-ui" / "LICENSE").read_text()
    assert "MIT License" in (vendor / "redoc" / "LICENSE").read_text()
    readme = (vendor / "README.md").read_text()
    assert "swagger-ui-dist" in readme
    assert "redoc" in readme


async def test_favicon_ico_is_served(app_client: httpx.AsyncClient) -> None:
    """Browsers ask for /favicon.ico by themselves: an icon, not a 404."""
    icon = await app_client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/vnd.microsoft.icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age" in icon.headers["cache-control"]
    svg = await app_client.get("/static/favicon.svg")
    assert svg.status_code == 200

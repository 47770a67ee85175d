"""The web chat widget in a real Chromium, embedded by a static shop site on another origin
(tests/webchat/site, served with a strict CSP), talking to a real `rolodex serve` (issue 20)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from rolodex.config import Settings
from support.axe import assert_fits, violations
from support.browser import create_workspace
from support.e2e import Api, eventually
from support.live import LiveRolodex

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SITE_DIR = Path(__file__).parent / "site"
# One pixel, for the attachment.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


class Site:
    """The company's website: the pages of tests/webchat/site on their own loopback origin.

    Pages are filled in per request: `{{rolodex}}` and `{{channel}}` from the test, and
    `{{identifier}}` / `{{hash}}` from the query string (the shop's server would sign them).
    Every page has a CSP as strict as a careful shop's: only Rolodex's origin is let in.
    """

    def __init__(self, rolodex_url: str) -> None:
        self.rolodex = rolodex_url
        self.channel = ""
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(SITE_DIR), **kwargs)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if not url.path.endswith(".html"):
                    super().do_GET()
                    return
                file = SITE_DIR / url.path.lstrip("/")
                if not file.is_file():
                    self.send_error(404)
                    return
                nonce = secrets.token_hex(8)
                values = {k: v[0] for k, v in parse_qs(url.query).items()}
                values |= {"rolodex": site.rolodex, "channel": site.channel, "nonce": nonce}
                body = file.read_text()
                for name in ("rolodex", "channel", "nonce", "identifier", "hash"):
                    body = body.replace("{{" + name + "}}", html.escape(values.get(name, "")))
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header(
                    "Content-Security-Policy",
                    f"default-src 'self'; script-src 'self' 'nonce-{nonce}' {site.rolodex}; "
                    f"style-src 'self'; connect-src 'self' {site.rolodex}; "
                    f"img-src 'self' {site.rolodex} data:",
                )
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """A page of the site."""
        return self.origin + path

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveRolodex]:
    """Rolodex serving on the test's database."""
    server = LiveRolodex(settings).start()
    yield server
    server.stop()


@pytest.fixture
def site(live: LiveRolodex) -> Iterator[Site]:
    """The shop's site on its own origin."""
    shop = Site(live.url)
    yield shop
    shop.close()


def _connect(
    settings: Settings, live: LiveRolodex, site: Site, **options: Any
) -> tuple[Api, dict[str, Any]]:
    """A workspace with a widget channel that allows the site's origin; the site embeds it."""
    api = Api(live.url, create_workspace(settings)["token"])
    connection = {"provider": "widget", "allowed_origins": [site.origin], **options}
    channel = api(
        "POST",
        "/api/v1/channels",
        json={"medium": "webchat", "name": "Website", "connection": connection},
    )
    site.channel = channel["id"]
    return api, channel


def _reply(api: Api, conversation_id: str, text: str) -> None:
    api("POST", f"/api/v1/conversations/{conversation_id}/messages", json={"text": text})


def _open(page: Any) -> Any:
    """Click the launcher; the chat panel."""
    page.get_by_role("button", name="Open chat").click()
    panel = page.get_by_role("dialog", name="Chat with us")
    expect(panel).to_be_visible()
    return panel


def test_a_visitor_chats_with_an_agent_across_reloads_and_pages(
    browser: Any, settings: Settings, live: LiveRolodex, site: Site
) -> None:
    """Pre-chat, message, the agent sees who and where, live replies, unread, reload, navigation."""
    api, _ = _connect(
        settings,
        live,
        site,
        pre_chat_fields=["first_name", "email"],
        greeting={"en": "Hello from Acme! Ask us anything."},
        color="#7a3e00",
    )
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(site.url("/index.html"))

    panel = _open(page)
    expect(panel.get_by_text("Hello from Acme! Ask us anything.")).to_be_visible()
    expect(panel.get_by_label("First name")).to_be_focused()
    assert violations(page) == []
    panel.get_by_label("First name").fill("Dana")
    panel.get_by_label("Email").fill("dana@example.com")
    panel.get_by_role("button", name="Start chat").click()
    expect(panel.get_by_label("Message")).to_be_focused()
    panel.get_by_label("Message").fill("Do you deliver to Seville?")
    panel.get_by_label("Message").press("Enter")
    log = panel.get_by_role("log")
    expect(log.get_by_text("Do you deliver to Seville?")).to_be_visible()

    [conversation] = eventually(api.conversations)
    contact = api("GET", f"/api/v1/contacts/{conversation['contact_id']}")["attributes"]
    assert contact["webchat-first-name"] == "Dana"
    assert contact["webchat-email"] == "dana@example.com"
    assert contact["webchat-page-url"] == site.url("/index.html")
    assert contact["webchat-page-title"] == "Acme Garden Shop — Chairs"
    assert contact["webchat-page-domain"] == "127.0.0.1"
    assert contact["webchat-browser-language"] == "en-GB"
    assert "webchat-user-id" not in contact

    _reply(api, conversation["id"], "Yes, in three days.")
    expect(log.get_by_text("Yes, in three days.")).to_be_visible(timeout=1_000)
    assert violations(page) == []

    # Closed, the launcher counts what arrives; Escape closes and gives focus back.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_focused()
    _reply(api, conversation["id"], "Anything else?")
    expect(page.get_by_role("button", name="Open chat (1 unread)")).to_be_visible()

    # A reload of the host page: the history is still there (and the unread count).
    page.reload()
    expect(page.get_by_role("button", name="Open chat (1 unread)")).to_be_visible()
    panel = _open(page)
    for text in ("Do you deliver to Seville?", "Yes, in three days.", "Anything else?"):
        expect(panel.get_by_role("log").get_by_text(text)).to_be_visible()
    expect(panel.get_by_label("First name")).to_be_hidden()  # asked once only

    # Another page of the same site: the same conversation, and the agent sees the new page.
    page.get_by_role("link", name="Delivery").click()
    panel = _open(page)
    expect(panel.get_by_role("log").get_by_text("Anything else?")).to_be_visible()
    contact_url = f"/api/v1/contacts/{conversation['contact_id']}"
    delivery = site.url("/delivery.html")
    eventually(lambda: api("GET", contact_url)["attributes"]["webchat-page-url"] == delivery)
    panel.get_by_label("Attach a file").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": PNG}
    )
    expect(panel.get_by_role("list", name="Files to send").get_by_text("photo.png")).to_be_visible()
    panel.get_by_role("button", name="Send").click()
    expect(panel.get_by_role("img", name="photo.png")).to_be_visible()
    messages = api.messages(conversation["id"])
    assert [a["filename"] for a in messages[-1]["attachments"]] == ["photo.png"]
    assert len(api.conversations()) == 1

    # A phone's width: the open panel fits, nothing scrolls sideways.
    page.set_viewport_size({"width": 360, "height": 740})
    box = panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 360
    assert_fits(page)
    assert violations(page) == []
    context.close()


def test_a_verified_customer_is_one_contact_with_one_history_on_two_devices(
    browser: Any, settings: Settings, live: LiveRolodex, site: Site
) -> None:
    """The shop signs its customer's id; a laptop and a phone share one contact and its history."""
    api, channel = _connect(settings, live, site)
    secret = channel["connection"]["identity_secret"]
    identifier = "customer-1042"
    signed = hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()
    account = site.url(f"/account.html?identifier={identifier}&hash={signed}")

    laptop = browser.new_context(viewport={"width": 1280, "height": 800})
    laptop.set_default_timeout(10_000)
    first = laptop.new_page()
    first.goto(account)
    panel = _open(first)
    panel.get_by_label("Message").fill("Where is order 1042?")
    panel.get_by_role("button", name="Send").click()
    expect(panel.get_by_role("log").get_by_text("Where is order 1042?")).to_be_visible()
    [conversation] = eventually(api.conversations)
    _reply(api, conversation["id"], "It ships today.")
    expect(panel.get_by_role("log").get_by_text("It ships today.")).to_be_visible(timeout=1_000)

    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    phone.set_default_timeout(10_000)
    second = phone.new_page()
    second.goto(account)
    panel = _open(second)
    log = panel.get_by_role("log")
    expect(log.get_by_text("Where is order 1042?")).to_be_visible()
    expect(log.get_by_text("It ships today.")).to_be_visible()
    panel.get_by_label("Message").fill("Thanks!")
    panel.get_by_role("button", name="Send").click()
    # The laptop's widget hears the phone's message too (the visitor's own, from another device).
    expect(first.get_by_role("log").get_by_text("Thanks!")).to_be_visible()

    contacts = {c["contact_id"] for c in api.conversations()}
    assert contacts == {conversation["contact_id"]}
    assert [m["text"] for m in api.messages(conversation["id"])] == [
        "Where is order 1042?",
        "It ships today.",
        "Thanks!",
    ]
    attributes = api("GET", f"/api/v1/contacts/{conversation['contact_id']}")["attributes"]
    assert attributes["webchat-user-id"] == identifier

    # The same browser without the sign-in (signed out): a stranger sees nothing of it.
    second.goto(site.url("/index.html"))
    panel = _open(second)
    expect(panel.get_by_label("Message")).to_be_visible()
    expect(panel.get_by_role("log").get_by_text("It ships today.")).to_have_count(0)
    laptop.close()
    phone.close()


def test_the_widget_speaks_the_pages_language(
    browser: Any, settings: Settings, live: LiveRolodex, site: Site
) -> None:
    """A page in Spanish (<html lang="es">) gets the widget in Spanish, its greeting too."""
    _connect(settings, live, site, greeting={"en": "Hello!", "es": "¡Hola! ¿Qué buscas?"})
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(site.url("/tienda.html"))
    page.get_by_role("button", name="Abrir el chat").click()
    panel = page.get_by_role("dialog", name="Chatea con nosotros")
    expect(panel.get_by_text("¡Hola! ¿Qué buscas?")).to_be_visible()
    expect(panel.get_by_role("button", name="Enviar")).to_be_visible()
    expect(panel.get_by_text("Imágenes o PDF, hasta")).to_be_visible()
    context.close()

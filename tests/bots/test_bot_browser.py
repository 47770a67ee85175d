"""Bots in the agent workspace, in a real Chromium against a real `rolodex serve` (issue 21,
"Browser"): an admin registers a virtual agent on its page; an agent hands a conversation to it
and sees "<Name> VA" holding it in the list and the header; the bot's internal note arrives live,
drawn as a note; the agent takes the conversation back and the bot's REST calls then get 404.
Also: a hand-over made elsewhere reaches the page live, and the bot's page lists its activity."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from rolodex.config import Settings
from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login
from support.e2e import eventually
from support.live import LiveRolodex

pytestmark = [pytest.mark.slow, pytest.mark.browser]

AGENT = ("nora@acme.test", "nora-password", "Nora")
NOTE = "Customer asked about order A-1234; VIP flow skipped."
LIVE = 2_000  # ms: what happened elsewhere shows without a reload


class BotServer:
    """A stand-in bot: a stdlib HTTP server on loopback answering every event with `{}`."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        received = self.events

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    received.append(json.loads(self.rfile.read(length) or b"{}"))
                except ValueError:
                    received.append({})
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def types(self) -> list[str]:
        """The event types received, oldest first."""
        return [str(e.get("type")) for e in self.events]

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bot_server() -> Iterator[BotServer]:
    """The stand-in bot, listening."""
    server = BotServer()
    yield server
    server.stop()


@pytest.fixture
def rolodex(settings: Settings) -> Iterator[LiveRolodex]:
    """Rolodex serving with its worker on the test's database (SQLite, then PostgreSQL)."""
    live = LiveRolodex(settings).start()
    yield live
    live.stop()


def _inbound(admin: httpx.Client, channel: str, sender: str, text: str) -> dict[str, Any]:
    body = {"external_message_id": f"{sender}-{text[:12]}", "sender": {"id": sender}, "text": text}
    response = admin.post(f"/api/v1/channels/{channel}/inbound", json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def _bot_token(url: str, admin: httpx.Client, bot_id: str) -> str:
    made = admin.post(f"/api/v1/bots/{bot_id}/credentials")
    assert made.status_code == 201, made.text
    pair = made.json()
    issued = httpx.post(
        f"{url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(pair["client_id"], pair["client_secret"]),
    )
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])


def test_an_agent_sees_a_bot_holding_a_conversation_reads_its_note_and_takes_it_back(
    browser: Any, rolodex: LiveRolodex, bot_server: BotServer
) -> None:
    url = rolodex.url
    created = create_workspace(rolodex.settings)
    admin = api_client(url, created["token"])
    contexts: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    try:
        made = admin.post("/api/v1/channels", json={"medium": "whatsapp", "name": "WhatsApp"})
        assert made.status_code == 201, made.text
        channel = made.json()["id"]
        user = {"email": AGENT[0], "name": AGENT[2], "role": "agent", "password": AGENT[1]}
        assert admin.post("/api/v1/users", json=user).status_code == 201
        first = _inbound(admin, channel, "wa-carla", "Where is my parcel?")
        conversation = first["conversation_id"]

        # The admin registers the bot on its page (delegation: it waits to be handed one).
        boss = new_page()
        boss.goto(f"{url}/admin/bots")
        login(boss, "boss@acme.test", LOGIN_PASSWORD)
        add = boss.get_by_role("region", name="Add a virtual agent")
        add.get_by_label("Name", exact=True).fill("Concierge")
        add.get_by_label("Webhook URL").fill(bot_server.url)
        add.get_by_role("group", name="Activation").get_by_label("Delegation").check()
        add.get_by_role("group", name="Channels").get_by_label("WhatsApp").check()
        add.get_by_role("button", name="Add virtual agent").click()
        expect(boss.get_by_role("heading", name="Concierge VA", level=1)).to_be_visible()
        bot_id = boss.url.split("/admin/bots/")[1].split("?")[0]
        expect(boss.get_by_role("region", name="Recent activity")).to_contain_text("No events yet.")

        # The agent opens the conversation and hands it to the bot.
        page = new_page()
        page.goto(f"{url}/conversations/{conversation}")
        login(page, AGENT[0], AGENT[1])
        head = page.locator(".thread-head")
        expect(head.locator(".thread-assignee")).to_have_text("Unassigned")
        expect(page.get_by_role("button", name="Take back")).to_be_hidden()
        page.get_by_label("Virtual agent").select_option(label="Concierge VA")
        page.get_by_role("button", name="Hand to bot").click()
        # (The spoken "Handed to Concierge VA." is transient: the stream's echo may replace it.)
        expect(head.locator(".thread-assignee")).to_have_text("Assigned to Concierge VA")
        take_back = page.get_by_role("button", name="Take back")
        expect(take_back).to_be_focused()
        expect(page.get_by_role("button", name="Hand to bot")).to_be_hidden()
        item = (
            page.get_by_role("list", name="Conversation list")
            .get_by_role("listitem")
            .filter(has_text="Where is my parcel?")
        )
        expect(item.locator(".badge.bot-va")).to_have_text(
            "Assigned to: Concierge VA", timeout=LIVE
        )
        eventually(lambda: "CONVERSATION_DELEGATED" in bot_server.types(), dump=bot_server.types)

        # The bot writes an internal note through its REST API: it arrives live, as a note.
        token = _bot_token(url, admin, bot_id)
        bot = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
        noted = bot.post(
            f"/inbox/v1/virtual-agent/conversations/{conversation}",
            json={"applyConversationNotes": [NOTE], "sendMessage": None},
        )
        assert noted.status_code < 300, noted.text
        thread = page.get_by_role("list", name="Messages")
        note = thread.get_by_role("listitem").filter(has_text=NOTE)
        expect(note).to_be_visible(timeout=LIVE)
        expect(note).to_have_class("message note author-bot")
        expect(note.locator(".note-label")).to_have_text("Internal note")
        expect(note.locator(".author")).to_have_text("Concierge VA")
        expect(note.locator(".delivery")).to_have_count(0)
        expect(note.get_by_role("button", name="Retry")).to_have_count(0)
        expect(page.locator(".thread-status")).to_have_text("New internal note from Concierge VA.")
        # The list keeps the contact's words, not the note.
        expect(item.locator(".last-message")).to_have_text("Where is my parcel?")
        assert_accessible(page)
        page.set_viewport_size({"width": 800, "height": 900})
        assert_accessible(page)
        page.set_viewport_size({"width": 1280, "height": 900})

        # Drawn by the server the same way.
        page.reload()
        note = (
            page.get_by_role("list", name="Messages").get_by_role("listitem").filter(has_text=NOTE)
        )
        expect(note.locator(".note-label")).to_have_text("Internal note")
        expect(note.locator(".author")).to_have_text("Concierge VA")
        expect(head.locator(".thread-assignee")).to_have_text("Assigned to Concierge VA")
        expect(page.get_by_role("status").filter(has_text="Handed")).to_have_count(0)
        assert_accessible(page)

        # Take back: the agent holds it, and the bot is refused from now on.
        page.get_by_role("button", name="Take back").click()
        expect(head.locator(".thread-assignee")).to_have_text("Assigned to you")
        expect(page.locator(".thread-status")).to_have_text("You took this conversation back.")
        expect(page.get_by_role("button", name="Take back")).to_be_hidden()
        expect(page.get_by_role("button", name="Hand to bot")).to_be_visible()
        expect(item.locator(".badge.bot-va")).to_have_count(0, timeout=LIVE)
        refused = bot.post(
            f"/inbox/v1/virtual-agent/conversations/{conversation}",
            json={"sendMessage": {"text": "Still here?"}},
        )
        assert refused.status_code == 404, refused.text
        bot.close()

        # A hand-over made elsewhere (the API) reaches the open page live.
        again = admin.post(
            f"/api/v1/conversations/{conversation}/delegate", json={"bot_id": bot_id}
        )
        assert again.status_code == 200, again.text
        expect(head.locator(".thread-assignee")).to_have_text(
            "Assigned to Concierge VA", timeout=LIVE
        )
        expect(page.get_by_role("button", name="Take back")).to_be_visible()
        expect(item.locator(".badge.bot-va")).to_be_visible()

        # The bot's page lists what happened, newest first.
        boss.reload()
        activity = boss.get_by_role("region", name="Recent activity")
        expect(
            activity.get_by_role("row").filter(has_text="CONVERSATION_DELEGATED").first
        ).to_be_visible()
        expect(
            activity.get_by_role("row")
            .filter(has_text="applyConversationNotes")
            .or_(activity.get_by_role("row").filter(has_text="Action applied"))
            .first
        ).to_be_visible()
        assert_accessible(boss)
    finally:
        admin.close()
        for context in contexts:
            context.close()

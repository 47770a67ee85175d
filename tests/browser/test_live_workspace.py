"""The live agent workspace (issue 18): two agents, Ana and Ben, in two browser contexts on one
server. What one does reaches the other's screen within a second, without a reload, and nobody
acts on a stale screen without knowing: a reply to a conversation resolved meanwhile asks first,
an edit in progress is kept when someone else changes the value, a deleted contact says so and
keeps the draft. Also: new messages live, keyboard shortcuts, views, search, the title's count,
a notification when someone assigns Ben a conversation.

"Within 1 s" is measured as an expectation with a 1,000 ms timeout started after the action
completed (the API answered, or the acting page showed its result).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from support.axe import assert_accessible
from support.browser import api_client, create_workspace, login

ANA = ("ana@acme.test", "ana-password", "Ana")
BEN = ("ben@acme.test", "ben-password", "Ben")
LIVE = 1_000  # ms: what another agent did shows within a second

# Stands in for the browser's Notification (headless Chromium has none to show): records them.
FAKE_NOTIFICATIONS = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) { window.__notes.push({ title, body: (options || {}).body }); }
  static get permission() { return window.__permission || "default"; }
  static requestPermission() { window.__permission = "granted"; return Promise.resolve("granted"); }
  addEventListener() {}
};
"""


@dataclass
class Setup:
    """Ids and tokens the tests act with."""

    url: str
    admin_token: str
    ana_token: str
    ben_token: str
    ben_id: str
    channel: str
    conversation: str
    contact: str
    team: str


def _inbound(admin: httpx.Client, channel: str, sender: str, text: str, n: int = 0) -> Any:
    body = {
        "external_message_id": f"{sender}-{n}-{text[:8]}",
        "sender": {"id": sender},
        "text": text,
    }
    response = admin.post(f"/api/v1/channels/{channel}/inbound", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _token(url: str, email: str, password: str) -> str:
    issued = httpx.post(f"{url}/api/v1/auth/token", json={"email": email, "password": password})
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])


@pytest.fixture
def setup(live_server: Any) -> Setup:
    """A WhatsApp channel, two attributes, Ana and Ben (agents, team Support), one conversation."""
    url = live_server.url
    token = create_workspace(live_server.settings)["token"]
    with api_client(url, token) as admin:
        made = admin.post("/api/v1/channels", json={"medium": "whatsapp", "name": "WhatsApp"})
        assert made.status_code == 201, made.text
        channel = made.json()["id"]
        for body in (
            {"label": "Order number", "key": "order_number", "type": "text"},
            {"label": "Plan", "key": "plan", "type": "dropdown", "options": ["Basic", "Pro"]},
        ):
            assert admin.post("/api/v1/attributes", json=body).status_code == 201
        ids = {}
        for email, password, name in (ANA, BEN):
            user = {"email": email, "name": name, "role": "agent", "password": password}
            created = admin.post("/api/v1/users", json=user)
            assert created.status_code == 201, created.text
            ids[name] = created.json()["id"]
        team = admin.post(
            "/api/v1/teams", json={"name": "Support", "member_ids": list(ids.values())}
        )
        assert team.status_code == 201, team.text
        first = _inbound(admin, channel, "wa-carla", "Where is my parcel 4471?")
    return Setup(
        url=url,
        admin_token=token,
        ana_token=_token(url, ANA[0], ANA[1]),
        ben_token=_token(url, BEN[0], BEN[1]),
        ben_id=ids["Ben"],
        channel=channel,
        conversation=first["conversation_id"],
        contact=first["contact_id"],
        team=team.json()["id"],
    )


@pytest.fixture
def open_as(browser: Any) -> Iterator[Any]:
    """open_as(agent, url): a new browser context signed in as the agent, the stream connected."""
    contexts: list[Any] = []

    def open_page(
        agent: tuple[str, str, str], url: str, *, notifications: bool = False, live: bool = True
    ) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        if notifications:
            context.add_init_script(FAKE_NOTIFICATIONS)
        if not live:
            context.route("**/api/v1/stream", lambda route: route.abort())
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        login(page, agent[0], agent[1])
        if live:
            expect(page.locator("html[data-live=open]")).to_have_count(1)
        else:
            expect(page.get_by_role("heading", name="Agent workspace")).to_be_visible()
        return page

    yield open_page
    for context in contexts:
        context.close()


def _conversation(s: Setup) -> dict[str, Any]:
    with api_client(s.url, s.admin_token) as admin:
        return dict(admin.get(f"/api/v1/conversations/{s.conversation}").json())


def _item(page: Any, conversation_id: str) -> Any:
    return page.locator(f"ul.conversations li[data-conversation-id='{conversation_id}']")


def test_ana_resolves_ben_sees_it_and_is_asked_before_his_reply_reopens_it(
    setup: Setup, open_as: Any
) -> None:
    s = setup
    ben = open_as(BEN, f"{s.url}/conversations/{s.conversation}?status=new")
    ana = open_as(ANA, f"{s.url}/conversations/{s.conversation}?status=new")
    expect(_item(ben, s.conversation)).to_have_count(1)

    ana.get_by_role("button", name="Resolve").click()
    expect(ana.locator(".thread-status")).to_have_text("Resolved.")
    # Ben's list (the New tab) drops it, his thread's header says it, and who did it.
    expect(_item(ben, s.conversation)).to_have_count(0, timeout=LIVE)
    expect(ben.locator(".thread-state")).to_have_text("Status: resolved", timeout=LIVE)
    expect(ben.locator(".thread-status")).to_have_text(
        "Ana resolved this conversation.", timeout=LIVE
    )
    expect(ben.get_by_role("button", name="Resolve")).to_be_hidden()

    # Ben replies on it: asked first; Cancel keeps it resolved and keeps his draft.
    ben.get_by_label("Reply").fill("Your parcel left today")
    ben.get_by_role("button", name="Send reply").click()
    dialog = ben.get_by_role("dialog", name="Send this message?")
    expect(dialog).to_contain_text("Ana resolved this conversation. Send and reopen?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(ben.get_by_label("Reply")).to_have_value("Your parcel left today")
    assert _conversation(s)["status"] == "resolved"

    # Confirmed: sent, and the conversation is pending again (Ana sees the reply live).
    ben.get_by_role("button", name="Send reply").click()
    dialog.get_by_role("button", name="Send and reopen").click()
    thread = ben.get_by_role("list", name="Messages")
    expect(thread.get_by_role("listitem").filter(has_text="Your parcel left today")).to_be_visible()
    expect(ben.get_by_label("Reply")).to_have_value("")
    assert _conversation(s)["status"] == "pending"
    ana_thread = ana.get_by_role("list", name="Messages")
    expect(
        ana_thread.get_by_role("listitem").filter(has_text="Your parcel left today")
    ).to_be_visible(timeout=LIVE)
    expect(ana.locator(".thread-state")).to_have_text("Status: pending", timeout=LIVE)


def test_replying_on_a_conversation_ana_took_meanwhile_asks_first(
    setup: Setup, open_as: Any
) -> None:
    s = setup
    ben = open_as(BEN, f"{s.url}/conversations/{s.conversation}")
    with api_client(s.url, s.ana_token) as ana:
        ana_id = next(iter(_users_named(s, "Ana")))
        taken = ana.patch(f"/api/v1/conversations/{s.conversation}", json={"assignee_id": ana_id})
        assert taken.status_code == 200, taken.text
    expect(ben.locator(".thread-assignee")).to_have_text("Assigned to Ana", timeout=LIVE)
    expect(ben.locator(".thread-status")).to_have_text("Ana took this conversation.", timeout=LIVE)
    ben.get_by_label("Reply").fill("Jumping in")
    ben.get_by_role("button", name="Send reply").click()
    dialog = ben.get_by_role("dialog", name="Send this message?")
    expect(dialog).to_contain_text("This conversation is assigned to Ana. Send anyway?")
    dialog.get_by_role("button", name="Send anyway").click()
    thread = ben.get_by_role("list", name="Messages")
    expect(thread.get_by_role("listitem").filter(has_text="Jumping in")).to_be_visible()
    assert _conversation(s)["assignee_id"] == ana_id


def test_a_stale_reply_is_refused_and_says_what_changed(setup: Setup, open_as: Any) -> None:
    """Ben's page hears nothing (no stream): the server's 412 tells him what changed and asks."""
    s = setup
    ben = open_as(BEN, f"{s.url}/conversations/{s.conversation}", live=False)
    with api_client(s.url, s.ana_token) as ana:
        resolved = ana.patch(f"/api/v1/conversations/{s.conversation}", json={"status": "resolved"})
        assert resolved.status_code == 200, resolved.text
    ben.get_by_label("Reply").fill("Stale hello")
    ben.get_by_role("button", name="Send reply").click()
    dialog = ben.get_by_role("dialog", name="Send this message?")
    expect(dialog).to_have_text(re.compile("Ana resolved this conversation. Send anyway?"))
    dialog.get_by_role("button", name="Cancel").click()
    expect(ben.get_by_label("Reply")).to_have_value("Stale hello")
    assert _conversation(s)["status"] == "resolved"
    # The page now knows: its header says so.
    expect(ben.locator(".thread-state")).to_have_text("Status: resolved")


def test_ana_edits_a_value_ben_sees_it_and_his_own_edit_is_kept(setup: Setup, open_as: Any) -> None:
    s = setup
    ben = open_as(BEN, f"{s.url}/conversations/{s.conversation}")
    ana = open_as(ANA, f"{s.url}/conversations/{s.conversation}")
    ben_tab = ben.get_by_role("complementary", name="Contact tab")
    ana_tab = ana.get_by_role("complementary", name="Contact tab")
    expect(ben_tab.locator(".contact-tab-body")).to_have_attribute("aria-busy", "false")
    expect(ana_tab.locator(".contact-tab-body")).to_have_attribute("aria-busy", "false")

    # Ana saves a value: Ben's tab shows it in place, highlighted.
    ana_tab.get_by_label("Order number").fill("A-100")
    ana_tab.get_by_role("button", name="Save Order number").click()
    expect(ana_tab.get_by_role("status")).to_have_text("Order number saved.")
    expect(ben_tab.get_by_label("Order number")).to_have_value("A-100", timeout=LIVE)
    expect(ben_tab.get_by_role("status")).to_have_text("Ana changed Order number.", timeout=LIVE)

    # Ben is typing a new one when Ana saves another: his text stays, he is told.
    ben_tab.get_by_label("Order number").fill("B-200")
    ana_tab.get_by_label("Order number").fill("A-300")
    ana_tab.get_by_role("button", name="Save Order number").click()
    expect(ana_tab.get_by_role("status")).to_have_text("Order number saved.")
    note = ben_tab.locator(".attr-note")
    expect(note).to_have_text("Changed by Ana to “A-300” — your edit is kept.", timeout=LIVE)
    expect(ben_tab.get_by_label("Order number")).to_have_value("B-200")

    # His save meets the conflict: both values shown, he decides to keep his.
    ben_tab.get_by_role("button", name="Save Order number").click()
    dialog = ben.get_by_role("dialog", name="Both of you changed this value")
    expect(dialog).to_contain_text("“A-300”")
    expect(dialog).to_contain_text("“B-200”")
    dialog.get_by_role("button", name="Save mine").click()
    expect(ben_tab.get_by_role("status")).to_have_text("Order number saved.")
    with api_client(s.url, s.admin_token) as admin:
        assert (
            admin.get(f"/api/v1/contacts/{s.contact}").json()["attributes"]["order_number"]
            == "B-200"
        )
    expect(ana_tab.get_by_label("Order number")).to_have_value("B-200", timeout=LIVE)

    # Another value changed while he edits this one: his save goes through without a question.
    ben_tab.get_by_label("Order number").fill("B-201")
    with api_client(s.url, s.ana_token) as ana_api:
        changed = ana_api.patch(
            f"/api/v1/contacts/{s.contact}/attributes", json={"attributes": {"plan": "Pro"}}
        )
        assert changed.status_code == 200, changed.text
    ben_tab.get_by_role("button", name="Save Order number").click()
    expect(ben_tab.get_by_role("status")).to_have_text("Order number saved.")
    expect(dialog).to_be_hidden()
    with api_client(s.url, s.admin_token) as admin:
        values = admin.get(f"/api/v1/contacts/{s.contact}").json()["attributes"]
    assert values["order_number"] == "B-201"
    assert values["plan"] == "Pro"


def test_a_deleted_contact_is_said_and_the_draft_is_kept(setup: Setup, open_as: Any) -> None:
    s = setup
    ben = open_as(BEN, f"{s.url}/conversations/{s.conversation}")
    ben.get_by_label("Reply").fill("Half-written answer")
    with api_client(s.url, s.admin_token) as admin:
        gone = admin.delete(f"/api/v1/contacts/{s.contact}", params={"hint": "Carla, WhatsApp"})
        assert gone.status_code == 204, gone.text
    notice = ben.locator(".thread-deleted")
    expect(notice).to_be_visible(timeout=LIVE)
    expect(notice).to_have_text(
        "This contact was deleted. Sending is disabled; your draft is kept below."
    )
    expect(ben.get_by_label("Reply")).to_have_value("Half-written answer")
    expect(ben.get_by_role("button", name="Send reply")).to_be_disabled()
    tab = ben.get_by_role("complementary", name="Contact tab")
    expect(tab.get_by_role("alert")).to_have_text(
        "This contact was deleted. Nothing more can be saved here."
    )
    expect(_item(ben, s.conversation)).to_have_count(0)
    # The draft can still be selected and copied.
    assert ben.get_by_label("Reply").evaluate("(box) => box.readOnly && !box.disabled")


def test_new_messages_and_conversations_appear_live(setup: Setup, open_as: Any) -> None:
    s = setup
    ben = open_as(BEN, f"{s.url}/conversations/{s.conversation}?status=new")
    with api_client(s.url, s.admin_token) as admin:
        _inbound(admin, s.channel, "wa-carla", "Any news?", 1)
        thread = ben.get_by_role("list", name="Messages")
        expect(thread.get_by_role("listitem").filter(has_text="Any news?")).to_be_visible(
            timeout=LIVE
        )
        expect(_item(ben, s.conversation).locator(".last-message")).to_have_text(
            "Any news?", timeout=LIVE
        )
        # Read: the open conversation has no unread mark.
        expect(_item(ben, s.conversation)).not_to_have_class(re.compile("unread"))

        other = _inbound(admin, s.channel, "wa-dan", "Hello from Dan")
    item = _item(ben, other["conversation_id"])
    expect(item).to_have_count(1, timeout=LIVE)
    expect(item.locator(".last-message")).to_have_text("Hello from Dan")
    expect(item).to_contain_text("Unread")
    expect(item).to_have_class(re.compile("unread"))
    # Newest first: Dan's is on top.
    expect(ben.locator("ul.conversations li").first).to_have_attribute(
        "data-conversation-id", other["conversation_id"]
    )


def test_keyboard_shortcuts(setup: Setup, open_as: Any) -> None:
    s = setup
    with api_client(s.url, s.admin_token) as admin:
        second = _inbound(admin, s.channel, "wa-dan", "Hello from Dan")
    ben = open_as(BEN, f"{s.url}/")
    links = ben.locator("ul.conversations li > a")
    expect(links).to_have_count(2)
    ben.keyboard.press("j")
    expect(links.nth(0)).to_be_focused()
    ben.keyboard.press("j")
    expect(links.nth(1)).to_be_focused()
    ben.keyboard.press("k")
    expect(links.nth(0)).to_be_focused()
    ben.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()
    ben.keyboard.press("ArrowUp")
    expect(links.nth(0)).to_be_focused()
    ben.keyboard.press("Enter")
    expect(ben).to_have_url(re.compile(f"/conversations/{second['conversation_id']}"))
    expect(ben.locator("html[data-live=open]")).to_have_count(1)

    # ? lists the shortcuts.
    ben.keyboard.press("?")
    shortcuts = ben.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    expect(shortcuts).to_contain_text("Resolve the conversation")
    ben.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()

    # r goes to the reply; letters typed there are text, not shortcuts.
    ben.keyboard.press("r")
    reply = ben.get_by_label("Reply")
    expect(reply).to_be_focused()
    ben.keyboard.type("e")
    expect(reply).to_have_value("e")
    with api_client(s.url, s.admin_token) as admin:
        assert (
            admin.get(f"/api/v1/conversations/{second['conversation_id']}").json()["status"]
            == "new"
        )
    # e resolves, once out of the field.
    reply.fill("")
    reply.evaluate("(box) => box.blur()")
    ben.keyboard.press("e")
    expect(ben.locator(".thread-state")).to_have_text("Status: resolved")
    with api_client(s.url, s.admin_token) as admin:
        assert (
            admin.get(f"/api/v1/conversations/{second['conversation_id']}").json()["status"]
            == "resolved"
        )


def test_views_search_title_count_assignment_and_notification(setup: Setup, open_as: Any) -> None:
    s = setup
    with api_client(s.url, s.admin_token) as admin:
        dan = _inbound(admin, s.channel, "wa-dan", "The blue sweater is too small")
        assigned = admin.patch(
            f"/api/v1/conversations/{dan['conversation_id']}", json={"assignee_id": s.ben_id}
        )
        assert assigned.status_code == 200, assigned.text
    ben = open_as(BEN, f"{s.url}/", notifications=True)
    # Waiting for Ben: new and his or no one's.
    expect(ben).to_have_title("(2) Agent workspace · Rolodex")
    views = ben.get_by_role("navigation", name="Views")
    views.get_by_role("link", name=re.compile("^Mine")).click()
    expect(ben).to_have_url(re.compile("assignee_id=me"))
    expect(ben.locator("ul.conversations li")).to_have_count(1)
    expect(_item(ben, dan["conversation_id"])).to_have_count(1)
    ben.get_by_role("navigation", name="Views").get_by_role(
        "link", name=re.compile("^Unassigned")
    ).click()
    expect(ben).to_have_url(re.compile("assignee_id=none"))
    expect(ben.locator("ul.conversations li")).to_have_count(1)
    expect(_item(ben, s.conversation)).to_have_count(1)
    assert_accessible(ben)

    # Search by a word of a message (a prefix too).
    ben.get_by_role("navigation", name="Views").get_by_role("link", name="All").click()
    ben.get_by_label("Search conversations").fill("sweat")
    ben.get_by_label("Search conversations").press("Enter")
    expect(ben).to_have_url(re.compile("q=sweat"))
    expect(ben.locator("ul.conversations li")).to_have_count(1)
    expect(_item(ben, dan["conversation_id"])).to_have_count(1)

    # A new conversation: the title's count follows.
    ben.goto(f"{s.url}/")
    expect(ben.locator("html[data-live=open]")).to_have_count(1)
    expect(ben).to_have_title("(2) Agent workspace · Rolodex")
    with api_client(s.url, s.admin_token) as admin:
        _inbound(admin, s.channel, "wa-eve", "Hi, Eve here")
    expect(ben).to_have_title("(3) Agent workspace · Rolodex", timeout=LIVE)

    # Notifications: asked from a button, never on load; Ana assigning him one notifies Ben.
    button = ben.get_by_role("button", name="Turn on notifications")
    expect(button).to_be_visible()
    button.click()
    expect(button).to_be_hidden()
    with api_client(s.url, s.ana_token) as ana:
        changed = ana.patch(
            f"/api/v1/conversations/{s.conversation}", json={"assignee_id": s.ben_id}
        )
        assert changed.status_code == 200, changed.text
    deadline = time.monotonic() + LIVE / 1000
    while ben.evaluate("window.__notes.length") == 0 and time.monotonic() < deadline:
        ben.wait_for_timeout(50)
    assert ben.evaluate("window.__notes.length") == 1
    note = ben.evaluate("window.__notes[0]")
    assert note["title"] == "A conversation was assigned to you"
    assert "Ana" in note["body"]

    # Assignment from the thread: to a team and another agent, then back to himself.
    ben.goto(f"{s.url}/conversations/{s.conversation}")
    expect(ben.locator("html[data-live=open]")).to_have_count(1)
    assignment = ben.get_by_role("form", name="Assignment")
    assignment.get_by_label("Assignee").select_option(label="Ana")
    assignment.get_by_label("Team").select_option(label="Support")
    assignment.get_by_role("button", name="Assign", exact=True).click()
    expect(ben.locator(".thread-assignee")).to_have_text("Assigned to Ana")
    current = _conversation(s)
    assert (current["assignee_id"], current["team_id"]) == (
        next(iter(_users_named(s, "Ana"))),
        s.team,
    )
    assignment.get_by_role("button", name="Assign to me").click()
    expect(ben.locator(".thread-assignee")).to_have_text("Assigned to you")
    assert _conversation(s)["assignee_id"] == s.ben_id


def _users_named(s: Setup, name: str) -> list[str]:
    with api_client(s.url, s.admin_token) as admin:
        return [u["id"] for u in admin.get("/api/v1/users").json()["items"] if u["name"] == name]


def test_the_live_workspace_passes_axe_at_800_px_with_its_dialogs(
    setup: Setup, open_as: Any
) -> None:
    s = setup
    ben = open_as(BEN, f"{s.url}/conversations/{s.conversation}")
    for width in (1280, 800):
        ben.set_viewport_size({"width": width, "height": 900})
        assert_accessible(ben)
    ben.keyboard.press("?")
    expect(ben.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    assert_accessible(ben)

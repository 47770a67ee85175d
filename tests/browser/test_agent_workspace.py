"""The agent workspace as a support team uses it (issue 16): one time zone for every time on the
page, who wrote each message, filters that apply when changed, Ctrl/Cmd+Enter to send, a warning
before unsaved Contact tab edits are lost, dropdowns that save on change, an empty filtered list
that offers to clear its filters, and axe-core at 1280 and 800 px as admin and as agent.

Set-up as an operator and an integration do it (CLI workspace, REST API over HTTP); the agent's
time zone is written in the database, as their profile would store it, and so is the moment the
messages and values carry, so that one known instant (15:08 UTC, 09:08 in Mexico City) is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import expect
from sqlalchemy import create_engine, update

from rolodex.db import sync_url
from rolodex.models import AttributeHistory, AttributeValue, Conversation, Message, User
from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login

AGENT_EMAIL = "nora@acme.test"
AGENT_PASSWORD = "nora-password"
BEN_EMAIL = "ben@acme.test"
BEN_PASSWORD = "ben-password"
# One moment: 15:08 UTC is 09:08 in Mexico City (UTC-6, no daylight saving time since 2022).
MOMENT = datetime(2026, 12, 3, 15, 8, tzinfo=UTC)
LOCAL_TIME = "9:08"
UTC_TIME = "15:08"
HH_MM = re.compile(r"\b(\d{1,2}):(\d{2})\b")


@dataclass
class Workspace:
    """What the set-up made: ids of channels, conversations and the contact."""

    admin_token: str
    whatsapp: str
    sms: str
    email_channel: str
    whatsapp_conversation: str
    sms_conversation: str
    contact: str
    sms_name: str
    whatsapp_name: str


def _inbound(
    admin: Any, channel_id: str, sender: str, attributes: dict[str, str], text: str
) -> dict[str, str]:
    body = {
        "external_message_id": f"{channel_id}-{sender}",
        "sender": {"id": sender, "attributes": attributes},
        "text": text,
    }
    response = admin.post(f"/api/v1/channels/{channel_id}/inbound", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _setup(url: str, token: str) -> Workspace:
    """Channels, a matching phone, a dropdown and a text attribute, two agents, three messages."""
    with api_client(url, token) as admin:
        ids = {}
        for medium, name in (
            ("whatsapp", "WhatsApp Support"),
            ("sms", "SMS Support"),
            ("email", "Email Support"),
        ):
            response = admin.post("/api/v1/channels", json={"medium": medium, "name": name})
            assert response.status_code == 201, response.text
            ids[medium] = response.json()["id"]
        for body in (
            {"label": "Phone", "key": "phone", "type": "text", "format": "phone"},
            {"label": "Plan", "key": "plan", "type": "dropdown", "options": ["Basic", "Pro"]},
            {"label": "Order number", "key": "order_number", "type": "text"},
        ):
            made = admin.post("/api/v1/attributes", json=body)
            assert made.status_code == 201, made.text
        settings = {
            "matching_attribute": "phone",
            "mappings": [
                {"from": "whatsapp-phone", "to": "phone"},
                {"from": "sms-phone", "to": "phone"},
            ],
        }
        assert admin.patch("/api/v1/settings/contacts", json=settings).status_code == 200
        for email, name, password in (
            (AGENT_EMAIL, "Nora", AGENT_PASSWORD),
            (BEN_EMAIL, "Ben", BEN_PASSWORD),
        ):
            user = {"email": email, "name": name, "role": "agent", "password": password}
            assert admin.post("/api/v1/users", json=user).status_code == 201
        sms = _inbound(
            admin, ids["sms"], "sms-ana", {"phone": "+1 415 555 0100"}, "My parcel is late"
        )
        whatsapp = _inbound(
            admin,
            ids["whatsapp"],
            "wa-ana",
            {"phone": "+14155550100", "profile-name": "Ana López"},
            "Any news?",
        )
        names = {
            c["id"]: c["contact_display_name"]
            for c in admin.get("/api/v1/conversations").json()["items"]
        }
    # Ben answers the SMS conversation with his own token: the last word there is an agent's.
    issued = httpx.post(
        f"{url}/api/v1/auth/token", json={"email": BEN_EMAIL, "password": BEN_PASSWORD}
    )
    assert issued.status_code == 200, issued.text
    with api_client(url, issued.json()["access_token"]) as ben:
        reply = ben.post(
            f"/api/v1/conversations/{sms['conversation_id']}/messages",
            json={"text": "Ben here, your parcel ships today"},
        )
        assert reply.status_code == 201, reply.text
    return Workspace(
        admin_token=token,
        whatsapp=ids["whatsapp"],
        sms=ids["sms"],
        email_channel=ids["email"],
        whatsapp_conversation=whatsapp["conversation_id"],
        sms_conversation=sms["conversation_id"],
        contact=whatsapp["contact_id"],
        sms_name=names[sms["conversation_id"]],
        whatsapp_name=names[whatsapp["conversation_id"]],
    )


def _prepare(live_server: Any) -> Workspace:
    created = create_workspace(live_server.settings)
    return _setup(live_server.url, created["token"])


def _in_mexico_city_at_the_moment(live_server: Any, email: str) -> None:
    """The agent's zone (as the profile stores it) and every time shown set to MOMENT."""
    engine = create_engine(sync_url(live_server.settings.resolved_database_url()))
    with engine.begin() as conn:
        conn.execute(
            update(User).where(User.email == email).values(time_zone="America/Mexico_City")
        )
        conn.execute(update(Message).values(sent_at=MOMENT, created_at=MOMENT))
        conn.execute(update(Conversation).values(last_message_at=MOMENT))
        conn.execute(update(AttributeValue).values(updated_at=MOMENT))
        conn.execute(update(AttributeHistory).values(at=MOMENT))
    engine.dispose()


def _times(locator: Any) -> list[str]:
    """Every HH:MM shown inside the locator (each a time of day the page shows)."""
    found = [f"{int(h)}:{m}" for h, m in HH_MM.findall(locator.inner_text())]
    assert found, "no time shown"
    return found


def _contact_tab_loaded(page: Any) -> Any:
    tab = page.get_by_role("complementary", name="Contact tab")
    expect(tab.locator(".contact-tab-body")).to_have_attribute("aria-busy", "false")
    expect(tab.locator(".linked-body")).to_have_attribute("aria-busy", "false")
    return tab


def test_one_moment_is_the_same_local_time_everywhere_and_authors_are_named(
    page: Any, live_server: Any
) -> None:
    made = _prepare(live_server)
    _in_mexico_city_at_the_moment(live_server, AGENT_EMAIL)

    page.goto(f"{live_server.url}/conversations/{made.sms_conversation}")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    tab = _contact_tab_loaded(page)

    # The list, the thread, the Contact tab's values and the cross-channel cards.
    listed = page.get_by_role("region", name="Conversations")
    thread = page.get_by_role("list", name="Messages")
    values = tab.get_by_role("list", name="Contact attributes")
    cards = tab.get_by_role("list", name="Cross-channel conversations")
    expect(cards.get_by_role("listitem")).to_have_count(2)
    places = {"list": listed, "thread": thread, "contact tab": values, "cards": cards}
    for place, locator in places.items():
        shown = _times(locator)
        assert set(shown) == {LOCAL_TIME}, f"{place} shows {shown}, not {LOCAL_TIME}"
    # The value history, once opened.
    tab.get_by_text("History", exact=True).click()
    history = tab.get_by_role("list", name="Value history")
    expect(history.get_by_role("listitem").first).to_be_visible()
    assert set(_times(history)) == {LOCAL_TIME}
    assert UTC_TIME not in page.locator("main").inner_text()

    # Who wrote each message: the contact's name for theirs, Ben's for his reply.
    messages = thread.get_by_role("listitem")
    expect(messages.filter(has_text="My parcel is late").locator(".author")).to_have_text(
        made.sms_name
    )
    ben = messages.filter(has_text="Ben here")
    expect(ben.locator(".author")).to_have_text("Ben")
    expect(ben).to_contain_text("Agent")
    # The SMS card's last message is Ben's: named as his, not under the contact's name.
    sms_card = cards.get_by_role("listitem").filter(has_text="SMS Support")
    expect(sms_card.locator(".last-message")).to_have_text("Ben here, your parcel ships today")
    expect(sms_card.locator(".author")).to_have_text("Ben (agent)")
    whatsapp_card = cards.get_by_role("listitem").filter(has_text="WhatsApp Support")
    expect(whatsapp_card.locator(".author")).to_have_text(made.whatsapp_name)


def test_filters_apply_when_changed_and_an_empty_filtered_list_offers_to_clear_them(
    page: Any, live_server: Any
) -> None:
    made = _prepare(live_server)
    page.goto(f"{live_server.url}/")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    listed = page.get_by_role("region", name="Conversations")
    expect(listed.get_by_role("link", name=re.compile("Ana López"))).to_be_visible()
    expect(page.get_by_role("button", name="Filter")).to_have_count(0)

    # Picking a channel reloads the list at once, narrowed, with the keyboard on the filter.
    page.get_by_label("Channel").select_option(label="SMS Support")
    expect(page).to_have_url(re.compile(rf"channel_id={made.sms}"))
    expect(listed.get_by_role("link", name=re.compile("Ana López"))).to_have_count(0)
    expect(page.get_by_label("Channel")).to_be_focused()

    # A channel with nothing in this tab: the filter matched nothing; clear it.
    page.get_by_label("Channel").select_option(label="Email Support")
    expect(page).to_have_url(re.compile(rf"channel_id={made.email_channel}"))
    empty = listed.get_by_role("region", name="No conversations match these filters")
    expect(empty).to_be_visible()
    empty.get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(f"{live_server.url}/?status=new")
    expect(listed.get_by_role("link", name=re.compile("Ana López"))).to_be_visible()
    expect(page.get_by_label("Channel")).to_have_value("")


def test_a_filter_picked_before_the_scripts_ran_applies_once_they_do(
    page: Any, live_server: Any
) -> None:
    made = _prepare(live_server)
    page.goto(f"{live_server.url}/")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    # The first page's scripts have all run (the stream opens after them): the next request
    # for workspace.js is the second page's.
    expect(page.locator("html")).to_have_attribute("data-live", "open")
    # The page's script is held back, as on a slow network, while the agent picks a channel.
    held: list[Any] = []
    page.route("**/static/workspace.js", lambda route: held.append(route), times=1)
    page.goto(f"{live_server.url}/", wait_until="commit")
    page.get_by_label("Channel").select_option(label="SMS Support")
    expect(page).to_have_url(f"{live_server.url}/")
    for route in held:
        route.continue_()
    expect(page).to_have_url(re.compile(rf"channel_id={made.sms}"))
    listed = page.get_by_role("region", name="Conversations")
    expect(listed.get_by_role("link", name=re.compile("Ana López"))).to_have_count(0)
    expect(page.get_by_label("Channel")).to_be_focused()


def test_ctrl_enter_sends_the_reply(page: Any, live_server: Any) -> None:
    made = _prepare(live_server)
    page.goto(f"{live_server.url}/conversations/{made.whatsapp_conversation}")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    _contact_tab_loaded(page)
    reply = page.get_by_label("Reply")
    reply.fill("Nora here: it left the warehouse")
    reply.press("Control+Enter")
    thread = page.get_by_role("list", name="Messages")
    sent = thread.get_by_role("listitem").filter(has_text="Nora here")
    expect(sent).to_be_visible()
    expect(sent.locator(".author")).to_have_text("Nora")
    expect(page.get_by_label("Reply")).to_have_value("")
    # Meta (Cmd) works the same way on a Mac.
    page.get_by_label("Reply").fill("And Cmd+Enter too")
    page.get_by_label("Reply").press("Meta+Enter")
    expect(thread.get_by_role("listitem").filter(has_text="And Cmd+Enter too")).to_be_visible()


def test_a_dropdown_in_the_contact_tab_saves_on_change(page: Any, live_server: Any) -> None:
    made = _prepare(live_server)
    page.goto(f"{live_server.url}/conversations/{made.whatsapp_conversation}")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    tab = _contact_tab_loaded(page)
    # A dropdown saves as soon as a value is picked, without a Save button of its own.
    tab.get_by_label("Plan").select_option("Pro")
    expect(tab.get_by_role("status")).to_have_text("Plan saved.")
    expect(tab.get_by_role("button", name="Save Plan")).to_have_count(0)
    with api_client(live_server.url, made.admin_token) as admin:
        contact = admin.get(f"/api/v1/contacts/{made.contact}").json()
    assert contact["attributes"]["plan"] == "Pro"
    expect(tab.get_by_label("Plan")).to_be_focused()


def test_unsaved_contact_tab_edits_warn_before_leaving(page: Any, live_server: Any) -> None:
    made = _prepare(live_server)
    page.goto(f"{live_server.url}/conversations/{made.whatsapp_conversation}")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    tab = _contact_tab_loaded(page)
    dialogs: list[str] = []

    def stay(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    # A typed value not saved: leaving asks first, and staying keeps it.
    tab.get_by_label("Order number").fill("A-1234")
    page.get_by_role("link", name="Queue by priority").click()
    expect(tab.get_by_label("Order number")).to_have_value("A-1234")
    assert dialogs == ["beforeunload"]
    assert page.url.startswith(f"{live_server.url}/conversations/")

    # Once saved, leaving asks nothing.
    tab.get_by_role("button", name="Save Order number").click()
    expect(tab.get_by_role("status")).to_have_text("Order number saved.")
    page.get_by_role("link", name="Queue by priority").click()
    expect(page).to_have_url(f"{live_server.url}/queue")
    assert dialogs == ["beforeunload"]


def _contrast(page: Any, selector: str) -> float:
    """WCAG contrast ratio of an element's text colour on its background colour."""
    return float(
        page.evaluate(
            """(selector) => {
                const style = getComputedStyle(document.querySelector(selector));
                const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
                const lum = ([r, g, b]) => {
                    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92
                        : Math.pow((v + 0.055) / 1.055, 2.4); };
                    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
                };
                const a = lum(rgb(style.color)), b = lum(rgb(style.backgroundColor));
                return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
            }""",
            selector,
        )
    )


def test_the_workspace_passes_axe_at_both_widths_as_admin_and_agent(
    browser: Any, live_server: Any
) -> None:
    made = _prepare(live_server)
    for email, password in (("boss@acme.test", LOGIN_PASSWORD), (AGENT_EMAIL, AGENT_PASSWORD)):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        login(page, email, password)
        for width in (1280, 800):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}/")
            expect(page.get_by_role("heading", name="Agent workspace")).to_be_visible()
            assert_accessible(page)
            page.goto(f"{live_server.url}/conversations/{made.sms_conversation}")
            _contact_tab_loaded(page)
            assert_accessible(page)
            if email.startswith("boss"):
                # The Delete contact button: red on white now, not red on blue (1.05:1).
                delete = page.get_by_role("button", name="Delete contact")
                expect(delete).to_be_visible()
                assert _contrast(page, "button.contact-delete") >= 4.5
                delete.click()
                dialog = page.get_by_role("dialog", name="Delete this contact?")
                expect(dialog).to_be_visible()
                assert_accessible(page)
                # The checkbox sits beside its label, not alone above it.
                box = dialog.get_by_label("Also delete the contacts linked").bounding_box()
                label = dialog.locator("label[for=contact-delete-linked]").bounding_box()
                assert box is not None
                assert label is not None
                assert abs(box["y"] - label["y"]) < label["height"]
                dialog.get_by_role("button", name="Cancel").click()
        context.close()

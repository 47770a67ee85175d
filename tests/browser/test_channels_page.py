"""Admin settings > Channels in the browser, end to end with the platform simulator (R11): the
admin connects a WhatsApp channel from the Channels page, registers it in the simulator's
"Meta dashboard" with the webhook URL and verify token the page shows, a customer writes from
the simulator's page, the agent answers in Rolodex's thread, and the reply turns Read."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from rolodex.config import Settings
from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, create_workspace, login
from support.live import LiveRolodex
from support.platform_simulator import PlatformSimulator

PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "EAAG-browser-token"
APP_SECRET = "browser-app-secret"


@pytest.fixture
def rolodex(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveRolodex]:
    """`rolodex serve` whose public URL is its loopback address and which may call loopback
    platforms (the simulator), with quick delivery retries."""
    shutil.copy(sqlite_template, tmp_path / "rolodex.db")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rolodex.db'}",
        data_dir=tmp_path / "data",
        secret_key="browser-test-secret",
    )
    live = LiveRolodex(settings).start()
    yield live
    live.stop()


@pytest.fixture
def simulator() -> Iterator[PlatformSimulator]:
    """The platform simulator process (its page plays the customer and Meta's dashboard)."""
    with PlatformSimulator() as sim:
        yield sim


def _until_listed(page: Any, name: str, timeout: float = 20.0) -> Any:
    """The conversation list is drawn by the server: reload until the conversation is in it."""
    link = page.get_by_role("link", name=re.compile(name))
    for _ in range(int(timeout / 0.5)):
        if link.count():
            return link
        page.wait_for_timeout(500)
        page.reload()
    expect(link).to_be_visible()
    return link


def _connect_from_the_channels_page(
    page: Any, rolodex: LiveRolodex, sim: PlatformSimulator
) -> None:
    page.goto(f"{rolodex.url}/admin")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    page.get_by_role("link", name="Channels", exact=True).click()
    expect(page.get_by_role("heading", name="Channels", exact=True)).to_be_visible()
    expect(page.get_by_text("No channels yet. Add one below.")).to_be_visible()
    assert_accessible(page)

    add = page.get_by_role("region", name="Add a channel")
    add.get_by_role("button", name="Add channel").click()  # no name: the browser says so
    assert add.get_by_label("Name").evaluate("input => input.validity.valueMissing")
    add.get_by_label("Name").fill("Support WhatsApp")
    add.get_by_label("Platform").select_option(label="WhatsApp")
    add.get_by_role("button", name="Add channel").click()
    expect(page.get_by_role("heading", name="Support WhatsApp")).to_be_visible()
    expect(page.get_by_role("status").first).to_have_text(
        "Channel Support WhatsApp was added. Connect it to its platform below."
    )

    connection = page.get_by_role("region", name="Connection")
    connection.get_by_label("Phone number ID").fill(PHONE_NUMBER_ID)
    connection.get_by_label("Access token").fill(ACCESS_TOKEN)
    connection.get_by_label("App secret").fill(APP_SECRET)
    connection.get_by_label("Graph API version").fill("21")
    connection.get_by_role("button", name="Save connection").click()
    # Refused beside the field, the typed secrets gone from the page but the rest kept.
    version = page.get_by_label("Graph API version")
    expect(version).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-api_version-error")).to_have_text(
        "Write the version as Meta does, e.g. v21.0."
    )
    expect(page.get_by_label("Phone number ID")).to_have_value(PHONE_NUMBER_ID)
    expect(page.get_by_label("Access token")).to_have_value("")
    assert_accessible(page)

    connection = page.get_by_role("region", name="Connection")
    connection.get_by_label("Access token").fill(ACCESS_TOKEN)
    connection.get_by_label("App secret").fill(APP_SECRET)
    version.fill("")
    connection.get_by_label("Graph API URL").fill(sim.url)
    connection.get_by_role("button", name="Save connection").click()
    expect(page.get_by_text("Connected to WhatsApp Business Cloud API.")).to_be_visible()
    expect(page.get_by_text("Saved — leave empty to keep it.")).to_have_count(2)
    assert ACCESS_TOKEN not in page.content()
    assert APP_SECRET not in page.content()

    test = page.get_by_role("region", name="Test connection")
    test.get_by_role("button", name="Test connection").click()
    # The simulator has no such number yet: Graph's own title and code, in words.
    expect(test.get_by_role("alert")).to_have_text(
        re.compile(r"^Connection failed: .+ \(code \d+\)\.$")
    )
    assert_accessible(page)
    page.set_viewport_size({"width": 800, "height": 800})
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_an_admin_connects_whatsapp_and_a_reply_is_read(
    browser: Any, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    create_workspace(rolodex.settings)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    _connect_from_the_channels_page(page, rolodex, simulator)

    webhook = page.get_by_role("region", name="Set up the webhook in Meta")
    expect(webhook).to_contain_text("subscribe to messages")
    url_box = webhook.get_by_role("textbox", name="Webhook URL")
    token_box = webhook.get_by_role("textbox", name="Verify token")
    expect(url_box).not_to_be_editable()
    expect(url_box).to_have_value(re.compile(rf"^{re.escape(rolodex.url)}/webhooks/ch_\w+$"))
    webhook_url, verify_token = url_box.input_value(), token_box.input_value()
    assert len(verify_token) >= 24

    # Meta's dashboard, played by the simulator's page in its own window.
    sim_context = browser.new_context(viewport={"width": 1000, "height": 900})
    sim_context.set_default_timeout(10_000)
    phone = sim_context.new_page()
    phone.goto(simulator.url)
    dashboard = phone.get_by_role("region", name="Meta dashboard")
    dashboard.get_by_label("Platform").select_option("whatsapp")
    dashboard.get_by_label("Id", exact=True).fill(PHONE_NUMBER_ID)
    dashboard.get_by_label("Business name").fill("Acme Support")
    dashboard.get_by_label("Access token").fill(ACCESS_TOKEN)
    dashboard.get_by_label("App secret").fill(APP_SECRET)
    dashboard.get_by_label("Webhook URL").fill(webhook_url)
    dashboard.get_by_label("Verify token").fill(verify_token)
    dashboard.get_by_role("button", name="Verify and save").click()
    expect(dashboard.get_by_role("status")).to_have_text(
        f"Saved whatsapp account {PHONE_NUMBER_ID}."
    )

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("region", name="Test connection").get_by_role("status")).to_have_text(
        "Connected to Acme Support (15550100)."
    )
    expect(page.get_by_role("region", name="Failed deliveries")).to_contain_text(
        "No failed deliveries."
    )

    # The customer writes from their phone.
    customer = phone.get_by_role("region", name="Customer's phone")
    customer.get_by_label("Account").select_option(PHONE_NUMBER_ID)
    customer.get_by_label("Your name").fill("Kerry Fisher")
    customer.get_by_label("Your phone / user id").fill("34600111222")
    customer.get_by_label("Message").fill("Hi, where is my order?")
    customer.get_by_role("button", name="Send", exact=True).click()
    expect(customer.get_by_role("status")).to_have_text("Sent.")

    # The agent sees it in Rolodex and answers in the thread.
    page.get_by_role("link", name="Agent workspace").click()
    _until_listed(page, "Kerry Fisher").click()
    thread = page.get_by_role("list", name="Messages")
    expect(thread).to_contain_text("Hi, where is my order?")
    page.get_by_label("Reply", exact=True).fill("It ships today.")
    page.get_by_role("button", name="Send reply").click()
    reply = (
        page.get_by_role("list", name="Messages")
        .get_by_role("listitem")
        .filter(has_text="It ships today.")
    )
    expect(reply).to_be_visible()

    # It reaches the customer's phone, who reads it there; Rolodex says Read.
    log = phone.get_by_role("log", name="Conversation", exact=True)
    expect(log).to_contain_text("It ships today.", timeout=20_000)
    expect(reply.locator(".delivery")).to_have_text("Delivery: Read", timeout=20_000)
    expect(reply).not_to_contain_text("null")
    assert_accessible(page)

    _reactions_files_and_a_refused_reply(page, simulator)
    sim_context.close()
    context.close()


def _reload_until(page: Any, locator: Any, text: str, rounds: int = 20) -> None:
    """Until the webhook is processed: the thread asks the API only while a message is on its
    way, so what the customer does later shows on the next visit."""
    for _ in range(rounds):
        try:
            expect(locator).to_contain_text(text, timeout=1_000)
            return
        except AssertionError:
            page.reload()
    expect(locator).to_contain_text(text)


def _reactions_files_and_a_refused_reply(page: Any, sim: PlatformSimulator) -> None:
    customer = {"phone": "34600111222", "name": "Kerry Fisher"}
    thread = page.get_by_role("list", name="Messages")
    (sent,) = [e for e in sim.thread(PHONE_NUMBER_ID, "34600111222") if e["direction"] == "out"]

    # The customer reacts to the reply: the emoji shows under it.
    sim.inbound(account_id=PHONE_NUMBER_ID, user=customer, type="reaction",
                target_message_id=sent["id"], emoji="👍")  # fmt: skip
    reply = thread.get_by_role("listitem").filter(has_text="It ships today.")
    _reload_until(page, reply.locator(".reactions"), "👍")
    expect(reply.locator(".reactions")).to_have_text("Reactions: 👍")

    # A photo whose download fails: said in words, with Retry, which fetches it.
    sim.fail(account_id=PHONE_NUMBER_ID, on="get", code=100)
    sim.inbound(account_id=PHONE_NUMBER_ID, user=customer, type="image", caption="The box")
    photo = thread.get_by_role("listitem").filter(has_text="The box")
    _reload_until(page, photo, "Download failed")
    photo.get_by_role("button", name="Retry").click()
    expect(
        page.get_by_role("status").filter(has_text="Downloading the file again…")
    ).to_be_visible()
    expect(photo).not_to_contain_text("Download failed", timeout=20_000)
    # The fetch is a job in the live server: "Downloading…" until it ran, slower under load.
    expect(photo.locator(".attachment")).to_have_text(re.compile(r"\(\d+ bytes\)$"), timeout=20_000)

    # A reply WhatsApp refuses: its reason and code, explained; Retry sends it once allowed.
    sim.fail(account_id=PHONE_NUMBER_ID, code=131047)
    page.get_by_label("Reply", exact=True).fill("Are you still there?")
    page.get_by_role("button", name="Send reply").click()
    late = thread.get_by_role("listitem").filter(has_text="Are you still there?")
    expect(late.locator(".delivery")).to_have_text(
        "Delivery: Failed: Re-engagement message (131047)", timeout=20_000
    )
    expect(late).to_contain_text(
        "More than 24 hours have passed since this person last wrote: WhatsApp only allows "
        "a template message now."
    )
    assert_accessible(page)
    late.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status").filter(has_text="Sending the message again…")).to_be_visible()
    expect(late.locator(".delivery")).to_be_focused()  # the button went: the keyboard is kept
    expect(late.locator(".delivery")).to_have_text("Delivery: Read", timeout=20_000)
    expect(late.get_by_role("button", name="Retry")).to_have_count(0)

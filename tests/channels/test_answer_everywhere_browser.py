"""One agent answers an SMS, an X direct message and an email from the agent workspace in a real
Chromium; each reply reaches its platform (the simulator's Twilio Messages log, its X DM log and
its SMTP sink) and the page shows its delivery status (issue 19, "Browser")."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import api_client, create_workspace, login
from support.e2e import Api, eventually
from support.live import LiveRolodex
from support.platform_simulator import PlatformSimulator

pytestmark = [pytest.mark.slow, pytest.mark.browser]
AGENT_EMAIL, AGENT_PASSWORD = "nora@acme.test", "nora-password"
SID, TWILIO_TOKEN, NUMBER = "AC" + "9e1f" * 8, "twilio-browser-token", "+15005550006"
SMS_FROM = "+34600111222"
X_ACCOUNT, X_SECRET, X_TOKEN = "1100000001", "x-browser-secret", "x-browser-token"
X_USER = {"id": "3001969357", "screen_name": "furiouscamper", "name": "Jordan Brinks"}
SUPPORT, CUSTOMER = "support@acme.test", "kerry@example.com"


def _channel(api: Api, medium: str, name: str, connection: dict[str, Any]) -> dict[str, Any]:
    body = {"medium": medium, "name": name, "connection": connection}
    channel: dict[str, Any] = api("POST", "/api/v1/channels", json=body)
    return channel


def _connect_sms(api: Api, sim: PlatformSimulator) -> None:
    account = {"account_sid": SID, "auth_token": TWILIO_TOKEN, "from_number": NUMBER}
    channel = _channel(
        api, "sms", "SMS Support", {"provider": "twilio", **account, "api_url": sim.url}
    )
    sim.twilio("accounts", {**account, "webhook_url": channel["webhook_url"]})


def _connect_x(api: Api, sim: PlatformSimulator) -> None:
    connection = {
        "provider": "x",
        "account_user_id": X_ACCOUNT,
        "consumer_secret": X_SECRET,
        "access_token": X_TOKEN,
        "api_url": sim.url,
    }
    channel = _channel(api, "twitter", "Acme on X", connection)
    sim.x_account(
        user_id=X_ACCOUNT,
        username="acme",
        consumer_secret=X_SECRET,
        access_token=X_TOKEN,
        webhook_url=channel["webhook_url"],
        crc=True,
    )


def _connect_email(api: Api, sim: PlatformSimulator) -> None:
    connection = {
        "provider": "smtp",
        "address": SUPPORT,
        "display_name": "Acme Support",
        "smtp_host": "127.0.0.1",
        "smtp_port": sim.smtp_port,
    }
    _channel(api, "email", "Email Support", connection)


def _answer(page: Any, customer_text: str, reply: str) -> Any:
    """Open the conversation from the list, send the reply; its line in the thread."""
    listed = page.get_by_role("list", name="Conversation list")
    listed.get_by_role("link").filter(has_text=customer_text).click()
    thread = page.get_by_role("list", name="Messages")
    expect(thread.get_by_role("listitem").filter(has_text=customer_text)).to_be_visible()
    page.get_by_label("Reply").fill(reply)
    page.get_by_role("button", name="Send reply").click()
    return thread.get_by_role("listitem").filter(has_text=reply)


def test_an_agent_answers_sms_x_and_email_from_the_workspace(
    page: Any, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """Each reply is delivered by its platform and the page shows it so."""
    created = create_workspace(rolodex.settings)
    api = Api(rolodex.url, created["token"])
    with api_client(rolodex.url, created["token"]) as admin:
        user = {"email": AGENT_EMAIL, "name": "Nora", "role": "agent", "password": AGENT_PASSWORD}
        assert admin.post("/api/v1/users", json=user).status_code == 201
    _connect_sms(api, simulator)
    _connect_x(api, simulator)
    _connect_email(api, simulator)

    # The customers write: an SMS through Twilio's signed webhook, a DM through X's.
    texted = simulator.twilio("inbound", {"from": SMS_FROM, "body": "Where is my order?"})
    assert texted["status"] == 200, texted
    messaged = simulator.x_dm(account_id=X_ACCOUNT, user=X_USER, text="Is the shop open?")
    assert messaged["status"] == 200, messaged
    # The mail, by SMTP to Rolodex's own listener.
    listener = int(rolodex.env["ROLODEX_SMTP_PORT"])
    mailed = simulator.email_send(
        host="127.0.0.1",
        port=listener,
        from_=CUSTOMER,
        from_name="Kerry",
        to=SUPPORT,
        subject="Broken zipper",
        text="The zipper of my jacket broke.",
    )
    assert mailed["accepted"] is True, mailed
    eventually(lambda: len(api.conversations()) == 3, dump=api.conversations)

    page.goto(f"{rolodex.url}/")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    expect(page.get_by_role("heading", name="Agent workspace")).to_be_visible()

    # SMS: Twilio's status callbacks (sent, then delivered) reach the page through the stream.
    sms = _answer(page, "Where is my order?", "It ships today")
    expect(sms.locator(".author")).to_have_text("Nora")
    expect(sms.locator(".delivery")).to_have_text("Delivery: Delivered", timeout=20_000)
    [sent_sms] = simulator.requests(path_contains="/Messages.json")
    assert dict(sent_sms["twilio"]["fields"])["Body"] == "It ships today"
    assert dict(sent_sms["twilio"]["fields"])["To"] == SMS_FROM

    # X: the v2 DM endpoint accepts it; X sends no delivery receipts, so "Sent" is final.
    dm = _answer(page, "Is the shop open?", "Open until eight")
    expect(dm.locator(".delivery")).to_have_text("Delivery: Sent", timeout=20_000)
    [sent_dm] = simulator.x_sent()
    assert (sent_dm["to"], sent_dm["text"]) == (X_USER["id"], "Open until eight")

    # Email: the company's SMTP server accepted it (250); mail has no receipts either.
    mail = _answer(page, "The zipper of my jacket broke.", "A new one is on its way")
    conversation = page.get_by_role("region", name="Conversation", exact=True)
    expect(conversation.get_by_role("heading", name="Kerry")).to_be_visible()
    expect(conversation).to_contain_text("Broken zipper")  # the thread's subject
    expect(mail.locator(".delivery")).to_have_text("Delivery: Sent", timeout=20_000)
    [sent_mail] = simulator.mails(to=CUSTOMER)
    assert sent_mail["subject"] == "Re: Broken zipper"
    assert SUPPORT in sent_mail["from"]
    assert sent_mail["in_reply_to"] == mailed["message_id"]
    assert sent_mail["references"] == [mailed["message_id"]]
    assert sent_mail["text"].startswith("A new one is on its way")

    # The customer answers that mail: it joins the open thread live, the quote trimmed.
    answered = simulator.email_send(
        host="127.0.0.1",
        port=listener,
        from_=CUSTOMER,
        to=SUPPORT,
        subject="Re: Broken zipper",
        text="Thanks, got it!\n\nOn Tue, Acme Support wrote:\n> A new one is on its way",
        in_reply_to=sent_mail["message_id"],
        references=[mailed["message_id"], sent_mail["message_id"]],
    )
    assert answered["accepted"] is True, answered
    thread = page.get_by_role("list", name="Messages")
    expect(thread.get_by_role("listitem").filter(has_text="Thanks, got it!")).to_be_visible()
    expect(thread.get_by_role("listitem")).to_have_count(3)
    expect(thread).not_to_contain_text("wrote:")
    assert len(api.conversations()) == 3

"""Integrations & API > Webhooks in the page (B8): an admin adds a webhook, sends a test event
to the reference receiver (a real process on loopback) and sees it delivered in the log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook as Verifier

from support.browser import LOGIN_PASSWORD, create_workspace, login
from support.webhook_receiver import WebhookReceiver


@pytest.fixture(autouse=True)
def _loopback_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served process may post to the loopback receiver (autouse: set before live_server)."""
    monkeypatch.setenv("ROLODEX_ALLOW_PRIVATE_WEBHOOK_TARGETS", "1")


def test_an_admin_adds_a_webhook_and_sees_a_test_event_delivered(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    create_workspace(live_server.settings, plan="business")
    receiver = WebhookReceiver(tmp_path / "receiver.db")
    try:
        page.goto(f"{live_server.url}/admin")
        login(page, "boss@acme.test", LOGIN_PASSWORD)
        page.get_by_role("link", name="Integrations & API > Webhooks").click()
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        expect(page.get_by_text("No webhooks yet.")).to_be_visible()

        status = page.get_by_role("status")
        page.get_by_role("button", name="Add webhook").click()
        expect(page.get_by_role("alert")).to_contain_text("Not added")
        expect(page.locator("#webhook-url-error")).to_have_text("This field is required.")
        expect(page.locator("#webhook-events-error")).to_have_text("Pick at least one event.")

        url = f"{receiver.url}/hooks/rolodex"
        page.get_by_label("Endpoint URL").fill(url)
        page.get_by_label("Description").fill("Our data warehouse")
        page.get_by_label("A contact is created").check()
        page.get_by_label("A contact is deleted").check()
        page.get_by_role("button", name="Add webhook").click()
        expect(status).to_have_text(f"Webhook added for {url}.")

        card = page.get_by_role("region", name=f"Webhook {url}")
        expect(card).to_contain_text("Our data warehouse")
        expect(card).to_contain_text("contact.created")
        secret_box = card.get_by_role("textbox", name="Signing secret")
        expect(secret_box).to_have_value(re.compile(r"^whsec_[A-Za-z0-9+/]{40,}={0,2}$"))
        expect(secret_box).not_to_be_editable()
        secret = secret_box.input_value()
        receiver.use_secrets(secret)

        card.get_by_role("button", name="Send test event").click()
        expect(status).to_have_text(f"Test event queued for {url}.")
        log = card.get_by_role("table", name=f"Deliveries to {url}")
        row = log.get_by_role("row").filter(has_text="webhook.test")
        expect(row).to_contain_text("Delivered", timeout=20_000)
        expect(row).to_contain_text("1 of 7")

        (stored,) = receiver.events()
        assert stored["type"] == "webhook.test"
        (request,) = receiver.requests()
        event = Verifier(secret).verify(request["body"], request["headers"])
        assert event["data"]["message"] == "A test event from Rolodex."

        # Disabled: the page says so, and no test event can be sent.
        card.get_by_role("button", name="Disable").click()
        expect(status).to_have_text(f"Webhook {url} disabled.")
        card = page.get_by_role("region", name=f"Webhook {url}")
        expect(card.get_by_role("alert")).to_contain_text("This webhook is disabled")
        expect(card.get_by_role("button", name="Send test event")).to_be_disabled()
        card.get_by_role("button", name="Enable").click()
        expect(status).to_have_text(f"Webhook {url} enabled.")
        card = page.get_by_role("region", name=f"Webhook {url}")
        expect(card.get_by_role("alert")).to_have_count(0)
    finally:
        receiver.stop()

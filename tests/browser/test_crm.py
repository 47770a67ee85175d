"""Integrations & API > CRM in the page, and CRM-managed attributes in the Contact tab (R5, R6).

The admin connects the CRM and flips the editing switch in Chromium; set-up is done as an
operator and an integration do it (CLI workspace, REST API over HTTP).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login

AGENT_EMAIL = "vic@acme.test"
AGENT_PASSWORD = "vic-password"
SWITCH = "Enable editing of CRM-managed contact attributes"
SWITCH_FIELD = "agents_can_edit_crm_managed"


@pytest.fixture(autouse=True)
def _no_private_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served process must refuse private webhook targets (autouse: set before live_server)."""
    monkeypatch.delenv("ROLODEX_ALLOW_PRIVATE_WEBHOOK_TARGETS", raising=False)


def test_an_admin_connects_the_crm_and_agents_see_crm_managed_attributes(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings)

    page.goto(f"{live_server.url}/admin/crm")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    expect(page.get_by_role("heading", name="CRM", exact=True)).to_be_visible()
    page.get_by_label("Lookup URL").fill("https://crm.example.com/lookup")
    page.get_by_role("button", name="Save", exact=True).click()
    status = page.get_by_role("status")
    expect(status).to_have_text("CRM settings saved.")

    page.reload()
    expect(page.get_by_label("Lookup URL")).to_have_value("https://crm.example.com/lookup")
    secret = page.get_by_role("textbox", name="Shared secret")
    expect(secret).to_have_value(re.compile(r"^[0-9a-f]{64}$"))
    expect(secret).not_to_be_editable()
    switch = page.get_by_label(SWITCH)
    expect(switch).not_to_be_checked()
    switch.check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_have_text("CRM settings saved.")

    page.reload()
    expect(page.get_by_label(SWITCH)).to_be_checked()
    page.get_by_label("Lookup URL").fill("http://10.0.0.1/x")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    expect(page.locator("#crm-lookup-url-error")).to_have_text("Use an https:// address.")
    expect(status).to_have_text("")
    expect(page.get_by_label("Lookup URL")).to_have_attribute("aria-invalid", "true")
    page.reload()
    expect(page.get_by_label("Lookup URL")).to_have_value("https://crm.example.com/lookup")

    with api_client(live_server.url, created["token"]) as admin:
        channel = admin.post("/api/v1/channels", json={"medium": "webchat", "name": "Chat"})
        assert channel.status_code == 201, channel.text
        user = {"email": AGENT_EMAIL, "name": "Vic", "role": "agent", "password": AGENT_PASSWORD}
        assert admin.post("/api/v1/users", json=user).status_code == 201
        plan = {"label": "Plan", "key": "plan", "type": "text"}
        made_plan = admin.post("/api/v1/attributes", json=plan)
        assert made_plan.status_code == 201, made_plan.text
        managed = admin.patch("/api/v1/attributes/plan", json={"crm_managed": True})
        assert managed.status_code == 200, managed.text
        body = {"external_message_id": "m-1", "sender": {"id": "olga"}, "text": "Hello"}
        made = admin.post(f"/api/v1/channels/{channel.json()['id']}/inbound", json=body)
        assert made.status_code == 201, made.text
        conversation = made.json()["conversation_id"]
        settings = {"lookup_url": "https://crm.example.com/lookup"}
        off = admin.put("/api/v1/integrations/crm", json=settings | {SWITCH_FIELD: False})
        assert off.status_code == 200, off.text

        page.context.clear_cookies()
        page.goto(f"{live_server.url}/conversations/{conversation}")
        login(page, AGENT_EMAIL, AGENT_PASSWORD)
        tab = page.get_by_role("complementary", name="Contact tab")
        row = tab.locator("li[data-key='plan']")
        expect(row.get_by_title("Managed by the CRM")).to_have_text(re.compile(r"^CRM"))
        expect(row).to_contain_text("Read-only")
        expect(row.get_by_role("textbox")).to_have_count(0)
        crm = tab.get_by_role("region", name=re.compile(r"^CRM"))
        expect(crm).to_contain_text("Not validated")
        expect(crm.get_by_role("button", name="Lookup")).to_be_visible()

        on = admin.put("/api/v1/integrations/crm", json=settings | {SWITCH_FIELD: True})
        assert on.status_code == 200, on.text
    page.reload()
    expect(row.get_by_role("textbox", name="Plan")).to_be_editable()
    expect(row.get_by_title("Managed by the CRM")).to_be_visible()

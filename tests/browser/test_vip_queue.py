"""VIP in the Contact tab, the queue page, the VIP filter, and the routing admin page (issue 6).

Set-up as an operator and an integration do it (CLI workspace, REST API over HTTP);
then the agent and the admin use the pages in Chromium.
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login

AGENT_EMAIL = "vic@acme.test"
AGENT_PASSWORD = "vic-password"


def _inbound(admin: Any, channel_id: str, sender: str) -> str:
    body = {"external_message_id": f"m-{sender}", "sender": {"id": sender}, "text": "Hello"}
    response = admin.post(f"/api/v1/channels/{channel_id}/inbound", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation_id"])


def test_an_agent_marks_a_contact_vip_and_its_conversation_moves_up(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        channel = admin.post("/api/v1/channels", json={"medium": "webchat", "name": "Chat"})
        assert channel.status_code == 201, channel.text
        user = {"email": AGENT_EMAIL, "name": "Vic", "role": "agent", "password": AGENT_PASSWORD}
        assert admin.post("/api/v1/users", json=user).status_code == 201
        routing = admin.patch("/api/v1/settings/routing", json={"prioritized_groups": ["vip"]})
        assert routing.status_code == 200, routing.text
        _inbound(admin, channel.json()["id"], "olga")
        time.sleep(0.01)  # olga's conversation is the older one
        vera = _inbound(admin, channel.json()["id"], "vera")

    page.goto(f"{live_server.url}/queue")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    queue = page.get_by_role("list", name="Queue")
    expect(queue.get_by_role("listitem").first).to_contain_text("olga")

    page.goto(f"{live_server.url}/conversations/{vera}")
    tab = page.get_by_role("complementary", name="Contact tab")
    vip = tab.get_by_role("button", name="Mark as VIP")
    expect(vip).to_have_attribute("aria-pressed", "false")
    vip.click()
    expect(tab.get_by_role("button", name="VIP", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )

    page.goto(f"{live_server.url}/queue")
    first = page.get_by_role("list", name="Queue").get_by_role("listitem").first
    expect(first).to_contain_text("vera")
    expect(first).to_contain_text("VIP")
    score = first.locator(".priority")
    expect(score).to_have_text("Priority 1")
    expect(score).to_have_attribute("title", "VIP: +1")  # in words, not the rule's key

    page.goto(f"{live_server.url}/?status=new")
    page.get_by_label("Contact groups").select_option("vip")
    apply = page.get_by_role("button", name="Filter")
    if apply.count():  # the list may apply its filters when they change (issue 16)
        apply.click()
    conversations = page.locator("ul.conversations > li")
    expect(conversations).to_have_count(1)
    expect(conversations.first).to_contain_text("vera")
    expect(conversations.first).to_contain_text("VIP")


def test_the_admin_adds_a_group_routes_it_and_prioritizes_it(page: Any, live_server: Any) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        country = {"label": "Country", "key": "country", "type": "text"}
        assert admin.post("/api/v1/attributes", json=country).status_code == 201
        team = admin.post("/api/v1/teams", json={"name": "Iberia"})
        assert team.status_code == 201, team.text

        page.goto(f"{live_server.url}/admin/routing")
        login(page, "boss@acme.test", LOGIN_PASSWORD)
        groups = page.get_by_role("region", name="Contact groups")
        expect(groups.get_by_role("list")).to_contain_text("Contacts marked VIP.")
        groups.get_by_role("button", name="Add group").click()
        expect(page.locator("#group-name-error")).to_be_visible()  # a name is required
        groups.get_by_label("Name").fill("Spain")
        groups.get_by_label("Rule 1 attribute").select_option("country")
        groups.get_by_label("Rule 1 operator").select_option("is")
        groups.get_by_label("Rule 1 value").fill("ES")
        groups.get_by_role("button", name="Add group").click()
        expect(groups.get_by_role("list")).to_contain_text("Every rule: Country is ES")

        routing = page.get_by_role("region", name="Routing")
        routing.get_by_label("Spain goes to").select_option(label="Iberia")
        routing.get_by_role("button", name="Save routing").click()
        expect(routing.get_by_role("status")).to_have_text("Routing saved.")

        priority = page.get_by_role("region", name="Prioritization")
        priority.get_by_label("Spain", exact=True).check()
        priority.get_by_label("Spain points").fill("3")
        priority.get_by_role("button", name="Save prioritization").click()
        expect(priority.get_by_role("status")).to_have_text("Prioritization saved.")

        settings = admin.get("/api/v1/settings/routing").json()
    assert settings["group_routes"] == [{"group": "spain", "team_id": team.json()["id"]}]
    assert settings["prioritized_groups"] == [{"group": "spain", "weight": 3}]

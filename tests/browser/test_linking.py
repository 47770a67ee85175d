"""The cross-channel history in the Contact tab, and the matching settings page (issue 5).

Set-up as an operator and an integration do it: the CLI makes the workspace, the REST
API (over HTTP, with the admin's token) makes channels, the custom attribute, the
matching settings with mappings, and inbound messages. The agent then uses the page.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login

AGENT_EMAIL = "nora@acme.test"
AGENT_PASSWORD = "nora-password"


def _inbound(admin: Any, channel_id: str, sender: str, phone: str, text: str) -> str:
    body = {
        "external_message_id": f"{channel_id}-{sender}",
        "sender": {"id": sender, "attributes": {"phone": phone}},
        "text": text,
    }
    response = admin.post(f"/api/v1/channels/{channel_id}/inbound", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation_id"])


def _setup(url: str, token: str) -> tuple[str, str]:
    with api_client(url, token) as admin:
        ids = {}
        for medium, name in (("whatsapp", "WhatsApp Support"), ("sms", "SMS Support")):
            response = admin.post("/api/v1/channels", json={"medium": medium, "name": name})
            assert response.status_code == 201, response.text
            ids[medium] = response.json()["id"]
        made = admin.post(
            "/api/v1/attributes",
            json={"label": "Phone", "key": "phone", "type": "text", "format": "phone"},
        )
        assert made.status_code == 201, made.text
        settings = {
            "matching_attribute": "phone",
            "mappings": [
                {"from": "whatsapp-phone", "to": "phone"},
                {"from": "sms-phone", "to": "phone"},
            ],
        }
        patched = admin.patch("/api/v1/settings/contacts", json=settings)
        assert patched.status_code == 200, patched.text
        user = {"email": AGENT_EMAIL, "name": "Nora", "role": "agent", "password": AGENT_PASSWORD}
        assert admin.post("/api/v1/users", json=user).status_code == 201
        sms = _inbound(admin, ids["sms"], "sms-ana", "+1 415 555 0100", "My parcel is late")
        whatsapp = _inbound(admin, ids["whatsapp"], "wa-ana", "+14155550100", "Any news?")
    return whatsapp, sms


def test_the_agent_sees_the_same_persons_sms_conversation_beside_whatsapp(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings)
    whatsapp, sms = _setup(live_server.url, created["token"])

    page.goto(f"{live_server.url}/conversations/{whatsapp}")
    login(page, AGENT_EMAIL, AGENT_PASSWORD)
    tab = page.get_by_role("complementary", name="Contact tab")
    history = tab.get_by_role("list", name="Cross-channel conversations")
    entries = history.get_by_role("listitem")
    expect(entries).to_have_count(2)
    sms_entry = entries.filter(has_text="SMS Support")
    expect(sms_entry).to_contain_text("My parcel is late")
    expect(sms_entry).to_contain_text("Linked because Phone matches")
    expect(sms_entry).to_contain_text("Status: new")
    sms_entry.get_by_role("link", name="SMS Support · SMS").click()
    expect(page).to_have_url(f"{live_server.url}/conversations/{sms}")
    expect(page.get_by_role("region", name="Conversation", exact=True)).to_contain_text(
        "My parcel is late"
    )


def test_the_admin_changes_the_attribute_used_for_matching(page: Any, live_server: Any) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        for label, fmt in (("Phone", "phone"), ("Email", "email")):
            body = {"label": label, "key": label.lower(), "type": "text", "format": fmt}
            assert admin.post("/api/v1/attributes", json=body).status_code == 201
        page.goto(f"{live_server.url}/admin/contact-attributes")
        login(page, "boss@acme.test", LOGIN_PASSWORD)
        section = page.get_by_role("region", name="Attribute used for matching")
        expect(section).to_contain_text("None: contacts are not linked")
        section.get_by_role("button", name="Change attribute used for matching").click()
        section.get_by_label("Attribute used for matching").select_option("email")
        section.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#matching-current")).to_have_text("Email (email)")
        section.get_by_label("Channel attribute").select_option("sms-phone")
        section.get_by_label("Fills custom attribute").select_option("phone")
        section.get_by_role("button", name="Add mapping").click()
        expect(section.get_by_role("list")).to_contain_text("SMS phone fills Phone")
        settings = admin.get("/api/v1/settings/contacts").json()
    assert settings == {
        "matching_attribute": "email",
        "mappings": [{"from": "sms-phone", "to": "phone"}],
    }

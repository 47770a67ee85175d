"""An admin deletes a contact from the Contact tab and finds it in Deleted contacts (issue 9)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login


def test_an_admin_deletes_a_contact_with_a_hint_and_finds_it_in_the_log(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        channel = admin.post("/api/v1/channels", json={"medium": "whatsapp", "name": "WhatsApp"})
        assert channel.status_code == 201, channel.text
        body = {"external_message_id": "m1", "sender": {"id": "34600111222"}, "text": "Hi"}
        made = admin.post(f"/api/v1/channels/{channel.json()['id']}/inbound", json=body)
        assert made.status_code == 201, made.text
        conversation, contact = made.json()["conversation_id"], made.json()["contact_id"]

        page.goto(f"{live_server.url}/conversations/{conversation}")
        login(page, "boss@acme.test", LOGIN_PASSWORD)
        tab = page.get_by_role("complementary", name="Contact tab")
        tab.get_by_role("button", name="Delete contact").click()
        dialog = page.get_by_role("dialog", name="Delete this contact?")
        expect(dialog).to_contain_text("conversation history, attachments and contact attributes")
        dialog.get_by_role("button", name="Delete contact").click()
        expect(dialog.locator("#contact-delete-error")).to_be_visible()  # the hint is required
        dialog.get_by_label("Hint").fill("Ana G., WhatsApp, order 1234")
        dialog.get_by_role("button", name="Delete contact").click()
        expect(page.get_by_role("status").first).to_contain_text("Contact deleted")
        assert admin.get(f"/api/v1/contacts/{contact}").status_code == 404

        page.get_by_role("link", name="Privacy & security").click()
        log = page.get_by_role("table", name="Deleted contacts")
        row = log.get_by_role("row").filter(has_text="Ana G., WhatsApp, order 1234")
        expect(row.get_by_role("cell").nth(1)).to_have_text("WhatsApp")  # the platform, named
        expect(row).to_contain_text("boss@acme.test")
        page.get_by_label("Search hints").fill("order 9999")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("table", name="Deleted contacts")).to_have_count(0)

"""Exports > On-demand exports in the page: generate, watch it finish, download (issue 8)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login


def test_an_admin_generates_an_export_watches_it_finish_and_downloads_it(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        channel = admin.post("/api/v1/channels", json={"medium": "webchat", "name": "Chat"})
        assert channel.status_code == 201, channel.text
        country = {"label": "Country", "key": "country", "type": "text"}
        assert admin.post("/api/v1/attributes", json=country).status_code == 201
        for sender, value in (("ana", "ES"), ("ben", "FR")):
            body = {"external_message_id": sender, "sender": {"id": sender}, "text": "Hi"}
            made = admin.post(f"/api/v1/channels/{channel.json()['id']}/inbound", json=body)
            assert made.status_code == 201, made.text
            contact = made.json()["contact_id"]
            patch = {"attributes": {"country": value}}
            assert (
                admin.patch(f"/api/v1/contacts/{contact}/attributes", json=patch).status_code == 200
            )

    page.goto(f"{live_server.url}/exports")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    form = page.get_by_role("region", name="Generate export")
    expect(form.get_by_label("Export type")).to_have_value("contact_attributes")
    form.get_by_label("Country").check()
    form.get_by_role("button", name="Generate export").click()
    listing = page.get_by_role("table", name="Exports")
    row = listing.locator("tbody tr").first
    expect(row).to_contain_text("Ready", timeout=15_000)  # the embedded worker runs it
    expect(row).to_contain_text("2 of 2 contacts")
    with page.expect_download() as download:
        row.get_by_role("link", name="Download").click()
    path = Path(download.value.path())
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][-1] == "country"
    assert sorted(r[-1] for r in rows[1:]) == ["ES", "FR"]

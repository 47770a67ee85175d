"""Exports, Privacy & security, CRM and Webhooks as a support team uses them (issue 16).

Each page passes axe-core at 1280 and 800 px and is never wider than the window; checkboxes sit
on the line of their label (Exports was 4,400 px tall); messages written for people stand beside
the field they are about, and a new error clears an old success line. In Spanish the export's
second header row names the columns in Spanish, while the first keeps the stable keys.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from rolodex import i18n
from rolodex.kit.clock import as_utc
from support.axe import assert_accessible, assert_fits
from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login

MEDIUMS = ("webchat", "whatsapp", "sms", "email", "twitter", "instagram", "facebook")
CUSTOM = ("Número de pedido", "Country", "Plan", "Loyalty tier", "Preferred language", "Segment")
PAGES = ("/exports", "/privacy", "/privacy?q=ana+l%C3%B3pez", "/admin/crm", "/admin/webhooks")


def _workspace(live_server: Any) -> dict[str, Any]:
    """An enterprise workspace with a channel of every medium, custom attributes, a deleted
    contact, a webhook and a CRM whose write-back has a delivery to show."""
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        channels = {}
        for medium in MEDIUMS:
            made = admin.post("/api/v1/channels", json={"medium": medium, "name": f"{medium} 1"})
            assert made.status_code == 201, made.text
            channels[medium] = made.json()["id"]
        for label in CUSTOM:
            made = admin.post("/api/v1/attributes", json={"label": label, "type": "text"})
            assert made.status_code == 201, made.text
        crm = {
            "lookup_url": "https://crm.invalid/lookup",
            "write_back_url": "https://crm.invalid/write-back",
        }
        assert admin.put("/api/v1/integrations/crm", json=crm).status_code == 200
        hook = {"url": "https://hooks.invalid/rolodex", "events": ["contact.created"]}
        assert admin.post("/api/v1/webhooks", json=hook).status_code == 201
        contacts = []
        for sender in ("ana", "ben", "cy"):
            body = {"external_message_id": sender, "sender": {"id": sender}, "text": "Hola"}
            made = admin.post(f"/api/v1/channels/{channels['webchat']}/inbound", json=body)
            assert made.status_code == 201, made.text
            contacts.append(made.json())
        # A resolve sends a write-back to the CRM: a delivery (failing: .invalid never answers).
        resolved = admin.patch(
            f"/api/v1/conversations/{contacts[2]['conversation_id']}", json={"status": "resolved"}
        )
        assert resolved.status_code == 200, resolved.text
        for person, hint in zip(contacts[:2], ("López, Ana", "Ana Ruiz"), strict=True):
            gone = admin.delete(f"/api/v1/contacts/{person['contact_id']}", params={"hint": hint})
            assert gone.status_code == 204, gone.text
    return created


def _spanish_page(browser: Any, width: int = 1280) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, extra_http_headers={"Accept-Language": "es-ES"}
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _height(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


def _beside(page: Any, scope: str) -> list[str]:
    """The checkboxes in scope whose label does not share their line."""
    return list(
        page.evaluate(
            """(scope) => [...document.querySelectorAll(scope + ' input[type=checkbox]')]
              .filter((box) => box.labels && box.labels.length)
              .filter((box) => {
                const b = box.getBoundingClientRect();
                const l = box.labels[0].getBoundingClientRect();
                const middle = b.top + b.height / 2;
                return !(l.top <= middle && middle <= l.bottom);
              })
              .map((box) => box.id || box.value)""",
            scope,
        )
    )


def test_checkboxes_share_their_labels_line_and_exports_is_compact(
    page: Any, live_server: Any
) -> None:
    """Exports was 4,400 px tall with one checkbox a line, each above its label."""
    _workspace(live_server)
    page.goto(f"{live_server.url}/exports")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    expect(page.get_by_role("heading", name="On-demand exports")).to_be_visible()
    boxes = page.locator("#export-form input[type=checkbox]").count()
    assert boxes > 40, boxes  # channels, VIP, attributes, the header option
    height = _height(page)
    print(f"exports page: {boxes} checkboxes, {height} px tall at 1280 px")
    assert _beside(page, "#export-form") == []
    assert height < 1800, f"the exports page is {height} px tall"
    page.set_viewport_size({"width": 800, "height": 900})
    assert _beside(page, "#export-form") == []
    print(f"exports page: {_height(page)} px tall at 800 px")

    page.goto(f"{live_server.url}/privacy")
    assert _beside(page, "main") == []
    page.set_viewport_size({"width": 1280, "height": 900})
    assert _beside(page, "main") == []
    on = page.get_by_label("Clear contact attributes after a conversation is resolved")
    expect(on).to_be_visible()


def test_every_data_page_passes_axe_and_fits_at_1280_and_800(page: Any, live_server: Any) -> None:
    """axe-core finds no serious or critical violation; no page scrolls sideways (CRM: 997 px)."""
    _workspace(live_server)
    page.goto(f"{live_server.url}/login")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    expect(page.locator("nav.sidebar")).to_be_visible()
    problems = []
    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 900})
        for path in PAGES:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            wide = page.evaluate("document.documentElement.scrollWidth")
            print(f"{path} at {width} px: {wide} px wide")
            try:
                assert_accessible(page)
            except AssertionError as exc:
                problems.append(f"{width} px: {exc}")
    assert not problems, "\n".join(problems)


def test_the_deleted_contacts_search_matches_every_word_in_any_order(
    page: Any, live_server: Any
) -> None:
    """ "ana lópez" finds "López, Ana"; an empty result says so and offers to clear the search."""
    _workspace(live_server)
    page.goto(f"{live_server.url}/privacy")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    search = page.get_by_role("search")
    search.get_by_label("Search hints").fill("ana lópez")
    search.get_by_role("button", name="Search").click()
    log = page.get_by_role("table", name="Deleted contacts")
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log.locator("tbody tr")).to_contain_text("López, Ana")
    search.get_by_label("Search hints").fill("ana ortega")
    search.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table", name="Deleted contacts")).to_have_count(0)
    expect(page.get_by_text("No deleted contact matches “ana ortega”")).to_be_visible()
    page.get_by_role("link", name="Clear the search").click()
    expect(page.get_by_role("table", name="Deleted contacts").locator("tbody tr")).to_have_count(2)


def test_messages_stand_beside_their_field_and_clear_an_old_success(
    page: Any, live_server: Any
) -> None:
    """Exports, Privacy, CRM, Webhooks: a success, then an error beside its field, success gone."""
    _workspace(live_server)
    page.goto(f"{live_server.url}/exports")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    status = page.get_by_role("status")

    # Exports: a queued export, then dates the wrong way round.
    form = page.get_by_role("region", name="Generate export")
    form.get_by_role("button", name="Generate export").click()
    expect(status).to_contain_text("Export queued")
    form.get_by_label("Updated from").fill("2026-03-10")
    form.get_by_label("Updated before").fill("2026-03-01")
    form.get_by_role("button", name="Generate export").click()
    before = form.get_by_label("Updated before")
    expect(before).to_have_attribute("aria-invalid", "true")
    error = page.locator("#export-to-error")
    expect(error).to_have_text("Pick a date after “Updated from”.")
    expect(status).to_have_text("")
    assert _below(page, "#export-to", "#export-to-error")

    # Privacy: saved, then a number of days out of range, said beside the field.
    page.goto(f"{live_server.url}/privacy")
    page.get_by_label("Clear contact attributes after a conversation is resolved").check()
    page.get_by_label("Days after the resolve").fill("30")
    page.get_by_role("button", name="Save").click()
    expect(status).to_have_text("Automatic clearing saved.")
    page.get_by_label("Days after the resolve").fill("400")
    page.get_by_role("button", name="Save").click()
    days = page.get_by_label("Days after the resolve")
    expect(days).to_have_attribute("aria-invalid", "true")
    expect(days).to_have_value("400")
    expect(page.locator("#autoclear-days-error")).to_have_text("Enter a number from 1 to 365.")
    expect(page.get_by_role("status")).to_have_count(0)
    assert _below(page, "#autoclear-days", "#autoclear-days-error")

    # CRM: saved, then an http URL.
    page.goto(f"{live_server.url}/admin/crm")
    expect(page.get_by_label("Lookup URL")).to_have_value("https://crm.invalid/lookup")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_have_text("CRM settings saved.")
    page.get_by_label("Lookup URL").fill("http://crm.example.com/x")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Lookup URL")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#crm-lookup-url-error")).to_have_text("Use an https:// address.")
    expect(status).to_have_text("")
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    assert _below(page, "#crm-lookup-url", "#crm-lookup-url-error")

    # Webhooks: added, then nothing ticked.
    page.goto(f"{live_server.url}/admin/webhooks")
    page.get_by_label("Endpoint URL").fill("https://hooks.invalid/second")
    page.get_by_label("A contact is created").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(status).to_have_text("Webhook added for https://hooks.invalid/second.")
    page.get_by_label("Endpoint URL").fill("https://hooks.invalid/third")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#webhook-events-error")).to_have_text("Pick at least one event.")
    expect(status).to_have_text("")
    expect(page.get_by_role("alert")).to_contain_text("Not added")


def _below(page: Any, field: str, message: str) -> bool:
    """The message sits right under its field (not in a line at the top of the page)."""
    box = page.locator(field).bounding_box()
    note = page.locator(message).bounding_box()
    return bool(box and note and 0 <= note["y"] - (box["y"] + box["height"]) < 40)


def test_in_spanish_the_export_adds_a_row_of_spanish_labels_under_the_keys(
    browser: Any, live_server: Any
) -> None:
    """The option's second header row: built-in labels in Spanish, admins' labels as typed; the
    export list and the deleted contacts show times in Spanish, in the person's time zone."""
    created = _workspace(live_server)
    database = Path(str(live_server.settings.database_url).removeprefix("sqlite:///"))
    with sqlite3.connect(database) as db:
        db.execute("UPDATE users SET time_zone = 'America/Mexico_City'")
    page = _spanish_page(browser)
    page.goto(f"{live_server.url}/exports")
    login_es(page)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    form = page.get_by_role("region", name="Generar exportación")
    form.get_by_label("Número de pedido").check()
    form.get_by_label("Añadir una segunda fila de encabezado").check()
    form.get_by_role("button", name="Generar exportación").click()
    row = page.get_by_role("table", name="Exportaciones").locator("tbody tr").first
    expect(row).to_contain_text("Lista", timeout=15_000)
    with page.expect_download() as download:
        row.get_by_role("link", name="Descargar").click()
    with Path(download.value.path()).open(encoding="utf-8", newline="") as handle:
        keys, labels, *rows = list(csv.reader(handle))
    assert keys[:3] == ["contact_id", "medium", "channel_id"]
    assert keys[-1] == "numero_de_pedido"
    assert labels[:3] == ["ID de contacto", "Plataforma", "ID del canal"]
    assert labels[-1] == "Número de pedido"
    assert len(rows) == 1
    with api_client(live_server.url, created["token"]) as admin:
        export = admin.get("/api/v1/exports").json()["items"][0]
        deleted = admin.get("/api/v1/privacy/deleted-contacts").json()[0]
    i18n.use("es", "America/Mexico_City")
    requested = _parse(export["created_at"])
    assert i18n.format_time(requested).split(",")[0] in row.inner_text()
    page.goto(f"{live_server.url}/privacy")
    when = i18n.format_time(_parse(deleted["deleted_at"]))
    expect(page.get_by_role("table", name="Contactos eliminados")).to_contain_text(when)
    page.context.close()


def login_es(page: Any) -> None:
    page.fill("input[name=email]", "boss@acme.test")
    page.fill("input[name=password]", LOGIN_PASSWORD)
    page.locator("form button[type=submit]").click()


def _parse(value: str) -> Any:
    from datetime import datetime

    return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def test_pages_fit_in_spanish_at_800(browser: Any, live_server: Any) -> None:
    """Spanish words are longer: the pages still fit at 800 px."""
    _workspace(live_server)
    page = _spanish_page(browser, 800)
    page.goto(f"{live_server.url}/login")
    login_es(page)
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert_fits(page)
    page.context.close()

"""The export's optional second header row: labels in the caller's language (issue 16).

The first row stays the stable keys, whatever the language; with `label_row` a second row names
each column for people: built-in labels (the fixed columns, platform attributes, VIP) in the
caller's language, labels that admins typed as typed. Errors of an export request are written
for people, in the caller's language, and keep their stable codes.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from builders import Actor, inbound_body, make_attribute, make_channel, make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.worker import Worker

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


async def _workspace(client: httpx.AsyncClient, db: Database) -> tuple[Actor, str]:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "whatsapp", "Ventas")
    await make_attribute(client, admin, label="Número de pedido", key="order_number")
    await make_attribute(client, admin, label="=Total", key="total")
    made = await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body("34600000001", attributes={"phone": "+34600000001"}),
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    return admin, channel


async def _rows(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    admin: Actor,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> list[list[str]]:
    created = await client.post(
        "/api/v1/exports",
        json={"type": "contact_attributes", **body},
        headers={**admin.headers, **(headers or {})},
    )
    assert created.status_code == 202, created.text
    await Worker(db, settings).run_until_idle()
    export = (
        await client.get(f"/api/v1/exports/{created.json()['id']}", headers=admin.headers)
    ).json()
    assert export["status"] == "done", export
    download = await client.get(export["download_url"], headers=admin.headers)
    return list(csv.reader(io.StringIO(download.content.decode("utf-8"), newline="")))


CHOSEN = ["whatsapp-phone", "order_number", "total"]


async def test_the_label_row_names_the_columns_in_the_callers_language(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, _ = await _workspace(client, db)

    keys, labels, row = await _rows(
        client, db, settings, admin, SPANISH, attributes=CHOSEN, label_row=True
    )
    assert keys == [
        "contact_id",
        "medium",
        "channel_id",
        "channel_name",
        "platform_user_id",
        "display_name",
        "created_at",
        "updated_at",
        "vip",
        "linked_contact_ids",
        *CHOSEN,
    ]
    assert labels == [
        "ID de contacto",
        "Plataforma",
        "ID del canal",
        "Canal",
        "ID de usuario en la plataforma",
        "Nombre",
        "Creado (UTC)",
        "Actualizado (UTC)",
        "VIP",
        "Contactos vinculados",
        "Teléfono de WhatsApp",  # built in: translated
        "Número de pedido",  # typed by an admin: as typed
        "'=Total",  # as typed, and never run by a spreadsheet
    ]
    assert row[keys.index("whatsapp-phone")] == "'+34600000001"

    keys_en, labels_en, _ = await _rows(
        client, db, settings, admin, attributes=CHOSEN, label_row=True
    )
    assert keys_en == keys
    assert labels_en[:3] == ["Contact ID", "Platform", "Channel ID"]
    assert labels_en[-3:] == ["WhatsApp phone", "Número de pedido", "'=Total"]


async def test_without_the_option_the_file_has_one_header_row(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin, _ = await _workspace(client, db)
    keys, *rows = await _rows(client, db, settings, admin, SPANISH, attributes=CHOSEN)
    assert keys[0] == "contact_id"
    assert len(rows) == 1
    assert rows[0][0].startswith("ct_")


async def test_export_errors_are_written_for_people_in_their_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, _ = await _workspace(client, db)
    body = {
        "type": "contact_attributes",
        "attributes": ["order_number", "nope"],
        "filters": {
            "group": "missing",
            "updated_from": "2026-03-10T00:00:00Z",
            "updated_to": "2026-03-01T00:00:00Z",
        },
    }
    refused = await client.post("/api/v1/exports", json=body, headers={**admin.headers, **SPANISH})
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "validation_error"
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert messages == {
        "attributes.1": "No hay ningún atributo nope en este espacio de trabajo.",
        "filters.group": "Este grupo de contactos ya no existe.",
        "filters.updated_to": "Elige una fecha posterior a «Actualizado desde».",
    }
    english = await client.post("/api/v1/exports", json=body, headers=admin.headers)
    assert {e["field"]: e["message"] for e in english.json()["errors"]}["filters.updated_to"] == (
        "Pick a date after “Updated from”."
    )
    missing = await client.get("/api/v1/exports/exp_nope", headers={**admin.headers, **SPANISH})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert missing.json()["detail"] == "No se encontró la exportación."

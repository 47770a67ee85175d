"""Bad input answers 422 problem+json naming the field; nothing a client sends gives a 500."""

from __future__ import annotations

import httpx
import pytest

from builders import inbound_body, make_channel, make_workspace
from rolodex.db import Database
from rolodex.plans import Plan

GOOD = {"email": "ok@example.test", "name": "Ok", "role": "agent", "password": "longenough"}


async def _post(client: httpx.AsyncClient, db: Database, **kwargs: object) -> httpx.Response:
    admin = await make_workspace(db)
    return await client.post("/api/v1/users", headers=admin.headers, **kwargs)  # type: ignore[arg-type]


async def test_malformed_json(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    response = await client.post(
        "/api/v1/users",
        content=b'{"email": ',
        headers={**admin.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": 42}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"role": "superuser"}, "role"),
        ({"email": "not-an-email"}, "email"),
        ({"password": ["a"]}, "password"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_bad_fields_are_named(
    client: httpx.AsyncClient, db: Database, patch: dict[str, object], field: str
) -> None:
    response = await _post(client, db, json={**GOOD, **patch})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["status"] == 422
    assert [e["field"] for e in body["errors"]] == [field]


async def test_missing_fields_and_bad_query_parameters(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    missing = await client.post("/api/v1/users", json={}, headers=admin.headers)
    assert {e["field"] for e in missing.json()["errors"]} == {"email", "name", "password"}
    bad_limit = await client.get("/api/v1/users?limit=0", headers=admin.headers)
    assert bad_limit.status_code == 422
    assert bad_limit.json()["errors"][0]["field"] == "query.limit"
    bad_cursor = await client.get("/api/v1/users?cursor=%%%", headers=admin.headers)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["field"] == "query.cursor"
    bad_status = await client.get("/api/v1/jobs?status=exploded", headers=admin.headers)
    assert bad_status.json()["errors"][0]["field"] == "query.status"


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong_method = await client.put("/api/v1/me")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"


ES = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


async def test_a_spanish_caller_reads_problems_in_spanish_with_the_same_codes(
    client: httpx.AsyncClient, db: Database
) -> None:
    """title, detail and each field's message follow Accept-Language; code, type, field don't."""
    admin = await make_workspace(db)
    bad = {**GOOD, "role": "superuser"}
    del bad["name"]
    english = await client.post("/api/v1/users", json=bad, headers=admin.headers)
    spanish = await client.post("/api/v1/users", json=bad, headers={**admin.headers, **ES})
    assert english.status_code == spanish.status_code == 422
    en, es = english.json(), spanish.json()
    assert (
        (en["code"], en["type"])
        == (es["code"], es["type"])
        == (
            "validation_error",
            "urn:rolodex:problem:validation_error",
        )
    )
    assert (en["title"], es["title"]) == ("Invalid input", "Datos no válidos")
    by_field = {e["field"]: e for e in es["errors"]}
    assert by_field["name"]["message"] == "Este campo es obligatorio."
    assert by_field["name"]["type"] == "missing"
    # Choices are listed without an English "or".
    assert by_field["role"]["message"] == "Elige una de estas opciones: 'admin', 'agent'."
    assert "name: Este campo es obligatorio." in es["detail"]
    assert [e["field"] for e in en["errors"]] == [e["field"] for e in es["errors"]]

    # A detail raised by a service, and a title with no detail of its own.
    missing = await client.get("/api/v1/channels/ch_nothing", headers={**admin.headers, **ES})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert (missing.json()["title"], missing.json()["detail"]) == (
        "No encontrado",
        "No se encontró el canal.",
    )
    english_missing = await client.get("/api/v1/channels/ch_nothing", headers=admin.headers)
    assert english_missing.json()["detail"] == "Channel not found."
    wrong_method = await client.put("/api/v1/me", headers=ES)
    assert wrong_method.json()["code"] == "method_not_allowed"
    assert wrong_method.json()["detail"] == "Método no permitido"  # not Starlette's English


async def test_a_plan_refusal_names_the_feature_and_plans_in_the_callers_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, plan=Plan.TEAM)
    refused = await client.get("/api/v1/integrations/crm", headers={**admin.headers, **ES})
    assert refused.status_code == 403
    body = refused.json()
    assert (body["code"], body["required_plans"]) == ("plan_required", ["enterprise"])
    assert body["title"] == "Se requiere un plan superior"
    assert body["detail"] == (
        "Integración con el CRM: solo con el plan Enterprise; "
        "este espacio de trabajo tiene el plan Team."
    )


async def test_channel_and_attachment_errors_in_spanish(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat", "Web")
    headers = {**admin.headers, **ES}
    body = inbound_body("visitor-1")
    body["attachments"] = [{"filename": "x.bin", "content_base64": "not base64!"}]
    bad = await client.post(f"/api/v1/channels/{channel}/inbound", json=body, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "field": "attachments.0.content_base64",
            "message": "El contenido de este archivo no es base64 válido: "
            "envíalo codificado en base64.",
            "type": "invalid",
        }
    ]
    await client.patch(f"/api/v1/channels/{channel}", json={"enabled": False}, headers=headers)
    inactive = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=inbound_body("visitor-2"), headers=headers
    )
    assert inactive.status_code == 409
    assert inactive.json()["code"] == "channel_inactive"
    assert inactive.json()["detail"] == (
        "Este canal está desactivado o archivado y no recibe mensajes."
    )

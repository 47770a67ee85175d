"""What the CRM settings API says to people, in their language (issue 16): each refused URL is
said beside its own field, as something to do; codes stay the same in every language."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from builders import make_workspace
from rolodex.app import create_app
from rolodex.config import Settings
from rolodex.db import Database

SPANISH = {"Accept-Language": "es-MX"}


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with production's outbound rules (no private targets)."""
    app = create_app(settings.model_copy(update={"allow_private_webhook_targets": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_each_refused_url_is_said_beside_its_field_in_the_callers_language(
    strict_client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    body = {
        "lookup_url": "http://crm.example.com/lookup",
        "write_back_url": "https://10.0.0.1/write-back",
    }
    refused = await strict_client.put(
        "/api/v1/integrations/crm", json=body, headers={**admin.headers, **SPANISH}
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "invalid_url"
    assert {e["field"]: e["message"] for e in problem["errors"]} == {
        "lookup_url": "Usa una dirección https://.",
        "write_back_url": (
            "Usa una dirección pública, no una de loopback, privada o de enlace local."
        ),
    }
    english = await strict_client.put("/api/v1/integrations/crm", json=body, headers=admin.headers)
    assert english.json()["errors"][0]["message"] == "Use an https:// address."

    oauth = {
        "lookup_url": "https://crm.example.com/lookup",
        "auth": {"type": "oauth2", "token_url": "https://crm.example.com/token", "client_id": "r"},
    }
    no_secret = await strict_client.put(
        "/api/v1/integrations/crm", json=oauth, headers={**admin.headers, **SPANISH}
    )
    assert no_secret.status_code == 422
    assert no_secret.json()["errors"] == [
        {
            "field": "auth.client_secret",
            "message": "Escribe el secreto de cliente para cambiar a OAuth2.",
            "type": "invalid",
        }
    ]
    rotate = await strict_client.post(
        "/api/v1/integrations/crm/secret", headers={**admin.headers, **SPANISH}
    )
    assert rotate.status_code == 409
    assert rotate.json()["code"] == "crm_not_connected"
    assert rotate.json()["detail"] == "No hay ningún CRM conectado a este espacio de trabajo."

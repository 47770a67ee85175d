"""Each person's language and time zone (PATCH /api/v1/me) and the workspace's zone (B10)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po

from builders import make_integration, make_user, make_workspace
from rolodex import i18n
from rolodex.auth.principals import Role, TokenKind
from rolodex.config import Settings
from rolodex.db import Database

SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


def in_spanish(message: str) -> str:
    """The catalog's Spanish for a message id (the id itself while it has none)."""
    with Path(str(i18n.CATALOG).format(locale="es")).open("rb") as po:
        found = read_po(po, locale="es").get(message)
    return str(found.string) if found is not None and found.string else message


@pytest.fixture(autouse=True)
def _long_token_cache(settings: Settings) -> None:
    # A principal stays cached for a minute: only forgetting it at once shows a change.
    settings.auth_cache_seconds = 60


async def test_me_says_the_language_and_zone_and_a_patch_takes_effect_at_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    me = (await client.get("/api/v1/me", headers=agent.headers)).json()
    assert (me["locale"], me["time_zone"]) == (None, "UTC")
    assert me["workspace"]["time_zone"] == "UTC"
    # Cached now; the next answers must still follow the change at once.
    refused = await client.get("/api/v1/users", headers=agent.headers)
    assert refused.json()["detail"] == "Only workspace admins can do this."

    body = {"locale": "es", "time_zone": "America/Mexico_City"}
    changed = await client.patch("/api/v1/me", json=body, headers=agent.headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["locale"], changed.json()["time_zone"]) == ("es", "America/Mexico_City")

    me = (await client.get("/api/v1/me", headers=agent.headers)).json()
    assert (me["locale"], me["time_zone"]) == ("es", "America/Mexico_City")
    # Problems now speak Spanish to this person, whatever the browser says; the code stays.
    refused = await client.get("/api/v1/users", headers={**agent.headers, "Accept-Language": "en"})
    problem = refused.json()
    assert refused.status_code == 403
    assert problem["code"] == "admin_required"
    assert problem["detail"] == "Solo los administradores del espacio de trabajo pueden hacer esto."
    assert problem["title"] == in_spanish("Forbidden")
    bad = await client.patch("/api/v1/me", json={"locale": "fr"}, headers=agent.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["message"] == "Elige un idioma: en (inglés) o es (español)."


async def test_each_bad_field_is_a_422_naming_it(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    cases = [
        ({"locale": "fr"}, ["locale"]),
        ({"locale": "EN"}, ["locale"]),
        ({"time_zone": "Mars/Olympus_Mons"}, ["time_zone"]),
        ({"time_zone": ""}, ["time_zone"]),
        ({"locale": "de", "time_zone": "Nowhere"}, ["locale", "time_zone"]),
        ({"theme": "dark"}, ["theme"]),
        ({"locale": 3}, ["locale"]),
    ]
    for body, fields in cases:
        response = await client.patch("/api/v1/me", json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert sorted(e["field"] for e in response.json()["errors"]) == fields, body
    message = await client.patch("/api/v1/me", json={"time_zone": "X"}, headers=admin.headers)
    assert "IANA" in message.json()["errors"][0]["message"]
    # Nothing was stored by the refusals.
    me = (await client.get("/api/v1/me", headers=admin.headers)).json()
    assert (me["locale"], me["time_zone"]) == (None, "UTC")


async def test_null_returns_to_the_browsers_language_and_the_workspaces_zone(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)

    async def detail(headers: dict[str, str]) -> str:
        response = await client.get("/api/v1/users", headers={**agent.headers, **headers})
        return str(response.json()["detail"])

    english = "Only workspace admins can do this."
    spanish = "Solo los administradores del espacio de trabajo pueden hacer esto."
    # No language of their own: the browser's.
    assert await detail(SPANISH) == spanish
    assert await detail({"Accept-Language": "en-GB"}) == english
    assert await detail({}) == english
    # Their own language wins over the browser's.
    body = {"locale": "en", "time_zone": "Asia/Tokyo"}
    await client.patch("/api/v1/me", json=body, headers=agent.headers)
    assert await detail(SPANISH) == english
    # null: back to the browser's language; a field left out stays as it is.
    cleared = await client.patch("/api/v1/me", json={"locale": None}, headers=agent.headers)
    assert (cleared.json()["locale"], cleared.json()["time_zone"]) == (None, "Asia/Tokyo")
    assert await detail(SPANISH) == spanish

    zone = await client.patch(
        "/api/v1/workspace", json={"time_zone": "Europe/Madrid"}, headers=admin.headers
    )
    assert zone.status_code == 200
    me = (await client.get("/api/v1/me", headers=agent.headers)).json()
    assert me["time_zone"] == "Asia/Tokyo"  # their own zone wins
    await client.patch("/api/v1/me", json={"time_zone": None}, headers=agent.headers)
    me = (await client.get("/api/v1/me", headers=agent.headers)).json()
    assert (me["time_zone"], me["workspace"]["time_zone"]) == ("Europe/Madrid", "Europe/Madrid")


async def test_integrations_are_not_people_and_cannot_patch_me(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await client.patch(
        "/api/v1/workspace", json={"time_zone": "Europe/Paris"}, headers=admin.headers
    )
    for kind in (TokenKind.BOT, TokenKind.CRM):
        integration = await make_integration(db, admin.workspace_id, kind)
        me = (await client.get("/api/v1/me", headers=integration.headers)).json()
        assert (me["kind"], me["locale"], me["time_zone"]) == (kind.value, None, "Europe/Paris")
        refused = await client.patch(
            "/api/v1/me", json={"locale": "es"}, headers=integration.headers
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "token_scope"


async def test_admins_set_the_workspace_time_zone(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    assert (await client.get("/api/v1/me", headers=agent.headers)).json()["time_zone"] == "UTC"

    refused = await client.patch(
        "/api/v1/workspace", json={"time_zone": "Europe/Madrid"}, headers=agent.headers
    )
    assert refused.status_code == 403
    bad = await client.patch(
        "/api/v1/workspace", json={"time_zone": "Europe/Atlantis"}, headers=admin.headers
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["time_zone"]
    missing = await client.patch("/api/v1/workspace", json={}, headers=admin.headers)
    assert [e["field"] for e in missing.json()["errors"]] == ["time_zone"]
    nulled = await client.patch(
        "/api/v1/workspace", json={"time_zone": None}, headers=admin.headers
    )
    assert nulled.status_code == 422

    changed = await client.patch(
        "/api/v1/workspace", json={"time_zone": "America/Mexico_City"}, headers=admin.headers
    )
    assert changed.status_code == 200
    assert changed.json()["time_zone"] == "America/Mexico_City"
    # The agent, cached a moment ago, sees the workspace's new zone on the next request.
    me = (await client.get("/api/v1/me", headers=agent.headers)).json()
    assert me["time_zone"] == "America/Mexico_City"

    audit = (await client.get("/api/v1/audit-events", headers=admin.headers)).json()["items"]
    entry = next(e for e in audit if e["action"] == "workspace.time_zone_changed")
    assert (entry["before"], entry["after"]) == (
        {"time_zone": "UTC"},
        {"time_zone": "America/Mexico_City"},
    )

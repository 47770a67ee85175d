"""The profile, Admin settings > Account and the admin settings index, over HTTP (B10)."""

from __future__ import annotations

import re

import httpx

from builders import PASSWORD, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.db import Database
from rolodex.plans import Plan

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


async def _log_in(client: httpx.AsyncClient, email: str) -> str:
    """Log the client in through the login form; the CSRF token of its pages."""
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303, response.text
    page = await client.get("/profile")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


async def test_the_profile_switches_the_next_page_to_english(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    client.headers.update(SPANISH)
    csrf = await _log_in(client, agent.email)
    page = await client.get("/profile")
    assert '<html lang="es"' in page.text
    assert "Tu perfil" in page.text
    assert "El idioma de tu navegador (Español)" in page.text
    assert '<option value="en" lang="en">English</option>' in page.text

    saved = await client.post(
        "/profile",
        data={"locale": "en", "time_zone": "America/Mexico_City", "csrf_token": csrf},
    )
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert '<html lang="en" data-time-zone="America/Mexico_City"' in page.text
    assert "Your language and time zone are saved." in page.text
    assert '<option value="America/Mexico_City" selected>America/Mexico_City</option>' in page.text
    me = (await client.get("/api/v1/me")).json()
    assert (me["locale"], me["time_zone"]) == ("en", "America/Mexico_City")

    # Back to the browser's language and the workspace's zone.
    await client.post("/profile", data={"locale": "", "time_zone": "", "csrf_token": csrf})
    page = await client.get("/profile")
    assert '<html lang="es" data-time-zone="UTC"' in page.text


async def test_a_bad_profile_choice_is_explained_beside_its_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    client.headers.update(SPANISH)
    csrf = await _log_in(client, admin.email)
    refused = await client.post(
        "/profile", data={"locale": "fr", "time_zone": "Mars/Base", "csrf_token": csrf}
    )
    assert refused.status_code == 422
    assert 'id="profile-locale-error">Elige un idioma' in refused.text
    assert 'id="profile-time-zone-error">Elige una zona horaria' in refused.text
    assert 'aria-invalid="true" aria-describedby="profile-locale-error"' in refused.text
    forged = await client.post("/profile", data={"locale": "en", "csrf_token": "forged"})
    assert forged.status_code == 403
    me = (await client.get("/api/v1/me")).json()
    assert me["locale"] is None


async def test_the_account_page_shows_the_plan_and_its_features(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, Plan.BUSINESS)
    client.headers.update(SPANISH)
    csrf = await _log_in(client, admin.email)
    page = await client.get("/admin/account")
    assert page.status_code == 200
    text = page.text
    assert "Plan Business" in text
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td[^>]*><span class="badge [\w-]+">([^<]+)</span></td>'
        r"\s*<td>([^<]+)</td>",
        text,
    )
    features = {name: (status, plans) for name, status, plans in rows}
    assert features["Webhooks"] == ("Incluida", "Business y Enterprise")
    assert len(rows) == 7
    # Business has webhooks and auto-clear; VIP, the CRM (and its editing), exports and bots not.
    assert (
        sorted(status for status, _ in features.values()) == ["Incluida"] * 2 + ["No incluida"] * 5
    )
    assert features["Agentes virtuales (bots)"] == ("No incluida", "Enterprise")
    assert admin.workspace_id in text

    saved = await client.post(
        "/admin/account", data={"time_zone": "Europe/Madrid", "csrf_token": csrf}
    )
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert "Se guardó la zona horaria del espacio de trabajo: Europe/Madrid." in page.text
    assert '<option value="Europe/Madrid" selected>' in page.text
    refused = await client.post("/admin/account", data={"time_zone": "Nowhere", "csrf_token": csrf})
    assert refused.status_code == 422
    assert 'id="workspace-time-zone-error">Elige una zona horaria' in refused.text


async def test_agents_reach_their_profile_but_not_the_account(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    csrf = await _log_in(client, agent.email)
    assert (await client.get("/profile")).status_code == 200
    assert (await client.get("/admin/account")).status_code == 403
    posted = await client.post("/admin/account", data={"time_zone": "UTC", "csrf_token": csrf})
    assert posted.status_code == 403
    assert (await client.get("/admin")).status_code == 403


async def test_the_admin_index_lists_account_in_the_readers_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    client.headers.update(SPANISH)
    await _log_in(client, admin.email)
    page = await client.get("/admin")
    assert "<h1>Configuración de administrador</h1>" in page.text
    assert '<a href="/admin/account">Cuenta</a>' in page.text
    assert '<a href="/admin/users">Usuarios y equipos</a>' in page.text
    assert "Users &amp; teams" not in page.text

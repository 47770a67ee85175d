"""Users & teams over HTTP: add, edit and deactivate users, create and edit teams (B10 defects)."""

from __future__ import annotations

import re

import httpx

from builders import PASSWORD, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.db import Database

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


async def _log_in(client: httpx.AsyncClient, email: str) -> str:
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303, response.text
    page = await client.get("/admin/users")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


def _status(html: str) -> str:
    found = re.search(r'<p class="status-line" role="status">([^<]*)</p>', html)
    return found.group(1) if found else ""


async def test_adding_a_user_explains_each_bad_field_beside_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    client.headers.update(SPANISH)
    csrf = await _log_in(client, admin.email)
    refused = await client.post(
        "/admin/users",
        data={"name": "", "email": "not-an-email", "password": "short", "csrf_token": csrf},
    )
    assert refused.status_code == 422
    html = refused.text
    assert 'id="new-name-error">Este campo es obligatorio.' in html
    assert 'id="new-email-error">Escribe un correo electrónico válido' in html
    assert 'id="new-password-error">Escribe al menos 8 caracteres.' in html
    assert "String should" not in html
    assert "value is not" not in html
    assert 'value="not-an-email"' in html  # what they typed stays

    taken = await client.post(
        "/admin/users",
        data={"name": "Twin", "email": admin.email, "password": "long-enough", "csrf_token": csrf},
    )
    assert 'id="new-email-error">Este correo electrónico ya se usa aquí.' in taken.text

    added = await client.post(
        "/admin/users",
        data={"name": "Nora", "email": "nora@example.test", "password": "long-enough",
              "role": "agent", "csrf_token": csrf},
    )  # fmt: skip
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    assert _status(page.text) == "Se ha añadido a Nora."


async def test_an_admin_edits_and_deactivates_a_user_from_the_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    csrf = await _log_in(client, admin.email)
    listing = await client.get("/admin/users")
    assert f'href="/admin/users/{agent.user_id}" aria-label="Edit Test agent"' in listing.text

    edit = await client.get(f"/admin/users/{agent.user_id}")
    assert edit.status_code == 200
    assert "Deactivate Test agent" in edit.text
    saved = await client.post(
        f"/admin/users/{agent.user_id}",
        data={"name": "Nora Díaz", "role": "admin", "csrf_token": csrf},
    )
    assert saved.status_code == 303
    assert _status((await client.get(saved.headers["location"])).text) == (
        "Changes to Nora Díaz are saved."
    )
    emptied = await client.post(
        f"/admin/users/{agent.user_id}", data={"name": "", "role": "admin", "csrf_token": csrf}
    )
    assert emptied.status_code == 422
    assert 'id="user-name-error">This field is required.' in emptied.text

    off = await client.post(
        f"/admin/users/{agent.user_id}/access", data={"active": "false", "csrf_token": csrf}
    )
    assert off.status_code == 303
    assert _status((await client.get(off.headers["location"])).text).startswith(
        "Nora Díaz is deactivated: their sessions and API tokens have stopped."
    )
    assert (await client.get("/api/v1/me", headers=agent.headers)).status_code == 401
    listing = await client.get("/admin/users")
    assert '<tr class="is-inactive">' in listing.text
    again = await client.get(f"/admin/users/{agent.user_id}")
    assert "Reactivate Nora Díaz" in again.text
    on = await client.post(
        f"/admin/users/{agent.user_id}/access", data={"active": "true", "csrf_token": csrf}
    )
    assert _status((await client.get(on.headers["location"])).text) == (
        "Nora Díaz is active again and can log in."
    )


async def test_an_admin_cannot_deactivate_themself_or_the_last_admin_from_the_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    client.headers.update(SPANISH)
    csrf = await _log_in(client, admin.email)
    own = await client.get(f"/admin/users/{admin.user_id}")
    assert "No puedes desactivarte a ti mismo; otro administrador sí puede." in own.text
    assert f'action="/admin/users/{admin.user_id}/access"' not in own.text
    forced = await client.post(
        f"/admin/users/{admin.user_id}/access", data={"active": "false", "csrf_token": csrf}
    )
    assert forced.status_code == 409
    assert '<p class="alert" role="alert">No puedes desactivarte a ti mismo.' in forced.text
    demoted = await client.post(
        f"/admin/users/{admin.user_id}", data={"name": "Admin", "role": "agent", "csrf_token": csrf}
    )
    assert demoted.status_code == 422
    assert (
        'id="user-role-error">El espacio de trabajo necesita un administrador activo.'
        in demoted.text
    )


async def test_teams_are_created_and_edited_from_the_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    csrf = await _log_in(client, admin.email)
    page = await client.get("/admin/users")
    assert "No teams yet." in page.text
    assert f'name="member_ids" value="{agent.user_id}"' in page.text

    created = await client.post(
        "/admin/teams",
        data={"name": "Front desk", "member_ids": [agent.user_id, admin.user_id],
              "csrf_token": csrf},
    )  # fmt: skip
    assert created.status_code == 303
    page = await client.get(created.headers["location"])
    assert _status(page.text) == "Team Front desk was created."
    team = (await client.get("/api/v1/teams")).json()["items"][0]
    assert sorted(team["member_ids"]) == sorted([agent.user_id, admin.user_id])

    clash = await client.post("/admin/teams", data={"name": "Front desk", "csrf_token": csrf})
    assert clash.status_code == 422
    assert 'id="new-team-name-error">Another team already has this name.' in clash.text

    edit = await client.get(f"/admin/teams/{team['id']}")
    assert edit.status_code == 200
    assert f'value="{agent.user_id}" checked' in edit.text
    saved = await client.post(
        f"/admin/teams/{team['id']}",
        data={"name": "VIP desk", "member_ids": [agent.user_id], "csrf_token": csrf},
    )
    assert saved.status_code == 303
    assert _status((await client.get(saved.headers["location"])).text) == (
        "Changes to team VIP desk are saved."
    )
    team = (await client.get(f"/api/v1/teams/{team['id']}")).json()
    assert (team["name"], team["member_ids"]) == ("VIP desk", [agent.user_id])
    # Unticking everyone leaves the team without members.
    await client.post(f"/admin/teams/{team['id']}", data={"name": "VIP desk", "csrf_token": csrf})
    assert (await client.get(f"/api/v1/teams/{team['id']}")).json()["member_ids"] == []


async def test_agents_cannot_use_users_and_teams(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    await client.post(
        "/login", data={"email": agent.email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    page = await client.get("/profile")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    assert (await client.get("/admin/users")).status_code == 403
    assert (await client.get(f"/admin/users/{admin.user_id}")).status_code == 403
    posted = await client.post(
        f"/admin/users/{admin.user_id}/access",
        data={"active": "false", "csrf_token": csrf.group(1)},
    )
    assert posted.status_code == 403
    team = await client.post("/admin/teams", data={"name": "Mine", "csrf_token": csrf.group(1)})
    assert team.status_code == 403

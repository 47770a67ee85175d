"""Web sessions: cookie flags, CSRF on every form post and on cookie-authenticated API calls."""

from __future__ import annotations

import re

import httpx

from builders import PASSWORD, make_workspace
from rolodex.db import Database


async def _login(client: httpx.AsyncClient, email: str) -> str:
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"]
    assert "rolodex_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = await client.get("/admin/users")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


async def test_login_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await client.get("/login")
    response = await client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "rolodex_session" not in response.headers.get("set-cookie", "")


async def test_page_forms_and_cookie_api_calls_need_the_csrf_token(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    csrf = await _login(client, admin.email)
    new_user = {"email": "x@example.test", "name": "X", "role": "agent", "password": "pw-123456"}

    forged = await client.post("/admin/users", data={**new_user, "csrf_token": "forged"})
    assert forged.status_code == 403
    ok = await client.post("/admin/users", data={**new_user, "csrf_token": csrf})
    assert ok.status_code == 303

    body = {**new_user, "email": "y@example.test"}
    no_header = await client.post("/api/v1/users", json=body)
    assert no_header.status_code == 403
    assert no_header.json()["code"] == "csrf_failed"
    with_header = await client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf})
    assert with_header.status_code == 201
    assert (await client.get("/api/v1/me")).json()["kind"] == "session"


async def test_logout_ends_the_session(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    csrf = await _login(client, admin.email)
    response = await client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert (await client.get("/admin/users")).headers["location"].startswith("/login")


async def test_session_cookie_is_not_a_bearer_token(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await _login(client, admin.email)
    session_token = client.cookies["rolodex_session"]
    client.cookies.clear()
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {session_token}"})
    assert response.status_code == 401

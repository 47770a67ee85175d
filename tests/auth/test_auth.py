"""Tokens, the caller, roles and workspace isolation over HTTP."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import update

from builders import PASSWORD, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.kit.clock import utcnow
from rolodex.models import ApiToken
from rolodex.plans import Plan


async def test_login_issues_a_token_that_answers_me(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, Plan.TEAM)
    response = await client.post(
        "/api/v1/auth/token", json={"email": admin.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user_id"] == admin.user_id
    assert me.json()["role"] == "admin"
    assert me.json()["workspace"]["plan"] == "team"
    assert me.json()["features"]["vip"] is False


async def test_wrong_password_and_unknown_email_answer_the_same_401(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    wrong = await client.post("/api/v1/auth/token", json={"email": admin.email, "password": "nope"})
    unknown = await client.post(
        "/api/v1/auth/token", json={"email": "nobody@example.test", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    strip = lambda r: {k: v for k, v in r.json().items() if k != "instance"}  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert wrong.json()["code"] == "invalid_credentials"


async def test_missing_and_bad_tokens_get_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer rdx_nope"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "invalid_token"


async def test_agent_gets_403_on_admin_endpoints(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    body = {"email": "new@example.test", "name": "New", "role": "agent", "password": "longenough"}
    response = await client.post("/api/v1/users", json=body, headers=agent.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "admin_required"
    assert (await client.get("/api/v1/users", headers=agent.headers)).status_code == 403
    assert (await client.post("/api/v1/users", json=body, headers=admin.headers)).status_code == 201


async def test_revoked_token_stops_working(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    created = await client.post(
        "/api/v1/tokens", json={"kind": "bot", "name": "Support bot"}, headers=admin.headers
    )
    assert created.status_code == 201
    bot = {"Authorization": f"Bearer {created.json()['token']}"}
    me = await client.get("/api/v1/me", headers=bot)
    assert me.json()["kind"] == "bot"
    assert me.json()["user_id"] is None
    listed = await client.get("/api/v1/tokens", headers=admin.headers)
    assert all("token" not in t for t in listed.json())
    revoke = await client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=admin.headers)
    assert revoke.status_code == 204
    assert (await client.get("/api/v1/me", headers=bot)).status_code == 401


async def test_a_token_revoked_by_another_process_stops_working_within_the_cache_time(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    settings.auth_cache_seconds = 0.3
    admin = await make_workspace(db)
    assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 200
    async with db.transaction() as session:  # as another server process would
        await session.execute(
            update(ApiToken).where(ApiToken.user_id == admin.user_id).values(revoked_at=utcnow())
        )
    # Trusted from the cache for a moment, then looked up again and refused.
    assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 200
    await asyncio.sleep(0.35)
    assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 401
    settings.auth_cache_seconds = 0
    other = await make_workspace(db, name="Other")
    assert (await client.get("/api/v1/me", headers=other.headers)).status_code == 200
    async with db.transaction() as session:
        await session.execute(
            update(ApiToken).where(ApiToken.user_id == other.user_id).values(revoked_at=utcnow())
        )
    assert (await client.get("/api/v1/me", headers=other.headers)).status_code == 401


async def test_objects_of_another_workspace_answer_404(
    client: httpx.AsyncClient, db: Database
) -> None:
    mine = await make_workspace(db, name="Mine")
    theirs = await make_workspace(db, name="Theirs")
    created = await client.post(
        "/api/v1/tokens", json={"kind": "crm", "name": "CRM"}, headers=theirs.headers
    )
    token_id = created.json()["id"]
    foreign = await client.delete(f"/api/v1/tokens/{token_id}", headers=mine.headers)
    missing = await client.delete("/api/v1/tokens/tok_missing", headers=mine.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["code"] == missing.json()["code"] == "not_found"
    users = await client.get("/api/v1/users", headers=mine.headers)
    assert [u["id"] for u in users.json()["items"]] == [mine.user_id]

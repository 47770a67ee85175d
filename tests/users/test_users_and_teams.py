"""Users and teams over the API, with their audit trail."""

from __future__ import annotations

import httpx

from builders import make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.db import Database


async def test_admin_adds_users_and_teams_and_each_change_is_audited(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    created = await client.post(
        "/api/v1/users",
        json={"email": "Ana@Example.test", "name": "Ana", "role": "agent", "password": "pw-12345"},
        headers=admin.headers,
    )
    assert created.status_code == 201
    ana = created.json()
    assert ana["email"] == "ana@example.test"
    assert "password_hash" not in ana
    assert "password" not in ana
    duplicate = await client.post(
        "/api/v1/users",
        json={"email": "ana@example.test", "name": "Ana 2", "password": "pw-12345"},
        headers=admin.headers,
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "email_taken"

    team = await client.post(
        "/api/v1/teams", json={"name": "VIP desk", "member_ids": [ana["id"]]}, headers=admin.headers
    )
    assert team.status_code == 201
    assert team.json()["member_ids"] == [ana["id"]]
    teams = await client.get("/api/v1/teams", headers=admin.headers)
    assert [(t["name"], t["member_ids"]) for t in teams.json()["items"]] == [
        ("VIP desk", [ana["id"]])
    ]

    audit = await client.get("/api/v1/audit-events", headers=admin.headers)
    actions = [(e["action"], e["actor_id"]) for e in audit.json()["items"]]
    assert ("user.created", admin.user_id) in actions
    assert ("team.created", admin.user_id) in actions


async def test_team_members_must_belong_to_the_workspace(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, name="Mine")
    stranger = await make_workspace(db, name="Theirs")
    response = await client.post(
        "/api/v1/teams",
        json={"name": "Mixed", "member_ids": [admin.user_id, stranger.user_id]},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["member_ids"]
    again = await client.post("/api/v1/teams", json={"name": "Solo"}, headers=admin.headers)
    assert again.status_code == 201
    clash = await client.post("/api/v1/teams", json={"name": "Solo"}, headers=admin.headers)
    assert clash.status_code == 409


async def test_pagination_walks_every_user_once(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    for _ in range(4):
        await make_user(db, admin.workspace_id, Role.AGENT)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/users", params=params, headers=admin.headers)).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5

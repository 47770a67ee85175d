"""Users and teams over the API, with their audit trail."""

from __future__ import annotations

import re

import httpx

from builders import PASSWORD, Actor, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
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


async def _agent_named(client: httpx.AsyncClient, admin: Actor, name: str) -> tuple[str, str]:
    """A new agent with a password (through the API) and a token of their own: (id, token)."""
    email = f"{name.lower()}@example.test"
    body = {"email": email, "name": name, "role": "agent", "password": PASSWORD}
    created = await client.post("/api/v1/users", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    login = await client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    return created.json()["id"], login.json()["access_token"]


async def test_admin_renames_a_user_and_changes_their_role_at_once(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    settings.auth_cache_seconds = 60  # only forgetting the cached principal shows the change
    admin = await make_workspace(db)
    ana_id, ana_token = await _agent_named(client, admin, "Ana")
    ana = {"Authorization": f"Bearer {ana_token}"}
    assert (await client.get("/api/v1/users", headers=ana)).status_code == 403

    changed = await client.patch(
        f"/api/v1/users/{ana_id}", json={"name": "Ana Ruiz", "role": "admin"}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["role"]) == ("Ana Ruiz", "admin")
    # Her token answers as the admin she now is, with her new name, on the very next request.
    assert (await client.get("/api/v1/users", headers=ana)).status_code == 200
    assert (await client.get("/api/v1/me", headers=ana)).json()["name"] == "Ana Ruiz"
    one = await client.get(f"/api/v1/users/{ana_id}", headers=admin.headers)
    assert one.json()["name"] == "Ana Ruiz"

    for body, field in [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"role": "boss"}, "role"),
    ]:
        refused = await client.patch(f"/api/v1/users/{ana_id}", json=body, headers=admin.headers)
        assert refused.status_code == 422, body
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    unknown = await client.patch("/api/v1/users/usr_missing", json={}, headers=admin.headers)
    assert unknown.status_code == 404
    other = await make_workspace(db, name="Other")
    foreign = await client.patch(f"/api/v1/users/{ana_id}", json={}, headers=other.headers)
    assert foreign.status_code == 404
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    by_agent = await client.patch(
        f"/api/v1/users/{ana_id}", json={"name": "X"}, headers=agent.headers
    )
    assert by_agent.status_code == 403

    audit = (await client.get("/api/v1/audit-events", headers=admin.headers)).json()["items"]
    entry = next(e for e in audit if e["action"] == "user.updated")
    assert entry["before"] == {"name": "Ana", "role": "agent"}
    assert entry["after"] == {"name": "Ana Ruiz", "role": "admin"}


async def test_deactivating_stops_tokens_and_sessions_at_once_and_keeps_history(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    settings.auth_cache_seconds = 60
    admin = await make_workspace(db)
    bo_id, bo_token = await _agent_named(client, admin, "Bo")
    bo = {"Authorization": f"Bearer {bo_token}"}
    team = await client.post(
        "/api/v1/teams", json={"name": "Desk", "member_ids": [bo_id]}, headers=admin.headers
    )
    # A web session of Bo's, in a client of its own (its cookie).
    transport = client._transport  # the same app
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        form = await browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        login = await browser.post(
            "/login",
            data={"email": "bo@example.test", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert login.status_code == 303
        assert (await browser.get("/profile")).status_code == 200
        assert (await client.get("/api/v1/me", headers=bo)).status_code == 200  # cached now

        off = await client.patch(
            f"/api/v1/users/{bo_id}", json={"active": False}, headers=admin.headers
        )
        assert off.status_code == 200
        assert off.json()["active"] is False
        assert (await client.get("/api/v1/me", headers=bo)).status_code == 401
        page = await browser.get("/profile")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")
    again = await client.post(
        "/api/v1/auth/token", json={"email": "bo@example.test", "password": PASSWORD}
    )
    assert again.status_code == 401

    # Their history stays: the user, their team membership, the audit entries.
    listed = (await client.get("/api/v1/users", headers=admin.headers)).json()["items"]
    assert {u["id"]: u["active"] for u in listed}[bo_id] is False
    kept = await client.get(f"/api/v1/teams/{team.json()['id']}", headers=admin.headers)
    assert kept.json()["member_ids"] == [bo_id]
    audit = (await client.get("/api/v1/audit-events", headers=admin.headers)).json()["items"]
    actions = [(e["action"], e["target_id"]) for e in audit]
    assert ("user.created", bo_id) in actions
    assert ("user.deactivated", bo_id) in actions

    on = await client.patch(f"/api/v1/users/{bo_id}", json={"active": True}, headers=admin.headers)
    assert on.json()["active"] is True
    assert (await client.get("/api/v1/me", headers=bo)).status_code == 401  # old token stays off
    back = await client.post(
        "/api/v1/auth/token", json={"email": "bo@example.test", "password": PASSWORD}
    )
    assert back.status_code == 200


async def test_no_admin_deactivates_themself_and_the_last_admin_stays(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    me = f"/api/v1/users/{admin.user_id}"
    self_off = await client.patch(me, json={"active": False}, headers=admin.headers)
    assert self_off.status_code == 409
    assert self_off.json()["code"] == "cannot_deactivate_self"
    demote = await client.patch(me, json={"role": "agent"}, headers=admin.headers)
    assert demote.status_code == 409
    assert demote.json()["code"] == "last_admin"
    assert [e["field"] for e in demote.json()["errors"]] == ["role"]

    second = await make_user(db, admin.workspace_id, Role.ADMIN)
    # With a second admin, the first may step down; then the second is the last one.
    assert (
        await client.patch(me, json={"role": "agent"}, headers=admin.headers)
    ).status_code == 200
    last = await client.patch(
        f"/api/v1/users/{second.user_id}", json={"role": "agent"}, headers=second.headers
    )
    assert last.status_code == 409
    assert last.json()["code"] == "last_admin"
    # A deactivated admin does not count as one.
    third = await make_user(db, admin.workspace_id, Role.ADMIN)
    off = await client.patch(
        f"/api/v1/users/{third.user_id}", json={"active": False}, headers=second.headers
    )
    assert off.status_code == 200
    still_last = await client.patch(
        f"/api/v1/users/{second.user_id}", json={"role": "agent"}, headers=second.headers
    )
    assert still_last.status_code == 409
    # The refusals changed nothing.
    users = (await client.get("/api/v1/users", headers=second.headers)).json()["items"]
    assert {u["id"]: (u["role"], u["active"]) for u in users} == {
        admin.user_id: ("agent", True),
        second.user_id: ("admin", True),
        third.user_id: ("admin", False),
    }


async def test_teams_are_renamed_and_their_members_replaced(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    created = await client.post(
        "/api/v1/teams", json={"name": "Desk", "member_ids": [admin.user_id]}, headers=admin.headers
    )
    other_team = await client.post("/api/v1/teams", json={"name": "Other"}, headers=admin.headers)
    assert other_team.status_code == 201
    url = f"/api/v1/teams/{created.json()['id']}"

    changed = await client.patch(
        url, json={"name": "Front desk", "member_ids": [agent.user_id]}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["member_ids"]) == ("Front desk", [agent.user_id])
    read = (await client.get(url, headers=agent.headers)).json()
    assert (read["name"], read["member_ids"]) == ("Front desk", [agent.user_id])
    renamed_only = await client.patch(url, json={"name": "Desk A"}, headers=admin.headers)
    assert renamed_only.json()["member_ids"] == [agent.user_id]
    emptied = await client.patch(url, json={"member_ids": []}, headers=admin.headers)
    assert emptied.json()["member_ids"] == []

    clash = await client.patch(url, json={"name": "Other"}, headers=admin.headers)
    assert clash.status_code == 409
    assert clash.json()["code"] == "team_name_taken"
    stranger = await make_workspace(db, name="Theirs")
    unknown = await client.patch(
        url, json={"member_ids": [stranger.user_id]}, headers=admin.headers
    )
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["member_ids"]
    assert (await client.patch(url, json={"name": None}, headers=admin.headers)).status_code == 422
    assert (await client.patch(url, json={"name": "X"}, headers=agent.headers)).status_code == 403
    foreign = await client.patch(url, json={"name": "X"}, headers=stranger.headers)
    assert foreign.status_code == 404
    assert (await client.get(url, headers=stranger.headers)).status_code == 404

    audit = (await client.get("/api/v1/audit-events", headers=admin.headers)).json()["items"]
    first = [e for e in audit if e["action"] == "team.updated"][-1]  # newest first
    assert first["before"] == {"name": "Desk", "member_ids": [admin.user_id]}
    assert first["after"] == {"name": "Front desk", "member_ids": [agent.user_id]}

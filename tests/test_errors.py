"""Bad input answers 422 problem+json naming the field; nothing a client sends gives a 500."""

from __future__ import annotations

import httpx
import pytest

from builders import make_workspace
from rolodex.db import Database

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

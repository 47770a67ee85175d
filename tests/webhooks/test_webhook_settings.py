"""Webhook settings (B8): admins of Business and Enterprise workspaces manage them; agents,
other workspaces and the Team plan are refused; targets must be public https URLs."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from builders import make_user, make_workspace
from rolodex.app import create_app
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.plans import Plan
from support.webhooks import ALL_EVENTS, Subscribed, create_webhook


def _secret_bytes(secret: str) -> bytes:
    assert secret.startswith("whsec_")
    return base64.b64decode(secret.removeprefix("whsec_"), validate=True)


async def test_an_admin_creates_reads_changes_rotates_and_deletes_a_webhook(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, Plan.BUSINESS)
    body = {"url": "https://hooks.example.com/rolodex", "events": ["contact.created"]}
    created = await client.post("/api/v1/webhooks", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    webhook = created.json()
    assert webhook["url"] == body["url"]
    assert webhook["events"] == ["contact.created"]
    assert webhook["enabled"] is True
    assert webhook["disabled_reason"] is None
    assert webhook["failing_since"] is None
    assert len(_secret_bytes(webhook["secret"])) >= 24
    path = f"/api/v1/webhooks/{webhook['id']}"

    listed = await client.get("/api/v1/webhooks", headers=admin.headers)
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()["items"]] == [webhook["id"]]
    assert listed.json()["next_cursor"] is None
    read = await client.get(path, headers=admin.headers)
    assert read.json()["secret"] == webhook["secret"]

    patch = {"events": ["message.created", "contact.deleted"], "description": "BI"}
    changed = await client.patch(path, json=patch, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["contact.deleted", "message.created"]
    assert changed.json()["description"] == "BI"
    off = await client.patch(path, json={"enabled": False}, headers=admin.headers)
    assert off.json()["enabled"] is False
    refused = await client.post(f"{path}/test", headers=admin.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "webhook_disabled"

    rotated = await client.post(f"{path}/secret", headers=admin.headers)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != webhook["secret"]
    assert len(_secret_bytes(rotated.json()["secret"])) >= 24
    assert (await client.get(path, headers=admin.headers)).json()["secret"] == rotated.json()[
        "secret"
    ]

    audit = await client.get("/api/v1/audit-events", headers=admin.headers)
    assert audit.status_code == 200, audit.text
    assert "webhook.created" in audit.text
    assert "webhook.secret_rotated" in audit.text
    assert webhook["secret"] not in audit.text

    deleted = await client.delete(path, headers=admin.headers)
    assert deleted.status_code == 204
    assert (await client.get(path, headers=admin.headers)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://x.example.com", "events": []},
        {"url": "https://x.example.com", "events": ["contact.exploded"]},
        {"url": "", "events": ["contact.created"]},
        {"url": "https://x.example.com", "events": ["contact.created"], "secret": "mine"},
    ],
)
async def test_invalid_bodies_are_422(
    client: httpx.AsyncClient, db: Database, body: dict[str, object]
) -> None:
    admin = await make_workspace(db, Plan.ENTERPRISE)
    response = await client.post("/api/v1/webhooks", json=body, headers=admin.headers)
    assert response.status_code == 422, response.text


async def test_agents_are_refused_with_admin_required(
    client: httpx.AsyncClient, subscribed: Subscribed
) -> None:
    agent = subscribed.agent.headers
    for method, path in (
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", subscribed.path),
        ("PATCH", subscribed.path),
        ("DELETE", subscribed.path),
        ("POST", f"{subscribed.path}/secret"),
        ("POST", f"{subscribed.path}/test"),
        ("GET", f"{subscribed.path}/deliveries"),
    ):
        body = {"url": "https://x.example.com", "events": ALL_EVENTS} if method == "POST" else None
        if method == "PATCH":
            body = {"enabled": False}
        response = await client.request(method, path, json=body, headers=agent)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "admin_required"


async def test_another_workspaces_webhook_is_not_found(
    client: httpx.AsyncClient, db: Database, subscribed: Subscribed
) -> None:
    other = await make_workspace(db, Plan.ENTERPRISE, name="Other")
    for method, suffix in (
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/secret"),
        ("POST", "/test"),
        ("GET", "/deliveries"),
        ("POST", "/deliveries/job_x/retry"),
    ):
        body = {"enabled": False} if method == "PATCH" else None
        path = subscribed.path + suffix
        response = await client.request(method, path, json=body, headers=other.headers)
        assert response.status_code == 404, (method, path, response.text)
    listed = await client.get("/api/v1/webhooks", headers=other.headers)
    assert listed.json()["items"] == []
    still = await client.get(subscribed.path, headers=subscribed.admin.headers)
    assert still.json()["enabled"] is True


async def test_the_team_plan_is_refused_with_plan_required(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, Plan.TEAM)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    body = {"url": "https://x.example.com", "events": ["contact.created"]}
    for actor in (admin, agent):
        response = await client.post("/api/v1/webhooks", json=body, headers=actor.headers)
        assert response.status_code == 403
        problem = response.json()
        assert problem["code"] == "plan_required"
        assert problem["required_plans"] == ["business", "enterprise"]
    listed = await client.get("/api/v1/webhooks", headers=admin.headers)
    assert listed.status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest",
        "https://localhost/x",
        "ftp://hooks.example.com/x",
    ],
)
async def test_a_private_or_plain_target_is_refused_unless_allowed(
    db: Database, settings: Settings, tmp_path: Path, url: str
) -> None:
    strict = settings.model_copy(update={"allow_private_webhook_targets": False})
    admin = await make_workspace(db, Plan.ENTERPRISE)
    body = {"url": url, "events": ["contact.created"]}
    app = create_app(strict)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            refused = await c.post("/api/v1/webhooks", json=body, headers=admin.headers)
            assert refused.status_code == 422, refused.text
            problem = refused.json()
            assert problem["code"] == "invalid_url"
            assert problem["errors"][0]["field"] == "url"
            ok = {"url": "https://hooks.example.com/x", "events": ["contact.created"]}
            made = await c.post("/api/v1/webhooks", json=ok, headers=admin.headers)
            assert made.status_code == 201
            moved = await c.patch(
                f"/api/v1/webhooks/{made.json()['id']}", json={"url": url}, headers=admin.headers
            )
            assert moved.status_code == 422
            assert moved.json()["errors"][0]["field"] == "url"
    if url.startswith(("http://", "https://")):
        # Allowed for development and tests (ROLODEX_ALLOW_PRIVATE_WEBHOOK_TARGETS).
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                made = await c.post("/api/v1/webhooks", json=body, headers=admin.headers)
                assert made.status_code == 201, made.text


async def test_an_enterprise_workspace_has_webhooks_too(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, Plan.ENTERPRISE)
    made = await create_webhook(client, admin, "https://hooks.example.com/x")
    assert made["enabled"] is True

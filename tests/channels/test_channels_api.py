"""Channels (admin): create, list, rename, disable, archive, delete; audit; roles; attachments."""

from __future__ import annotations

import base64
import hashlib

import httpx
from sqlalchemy import select

from builders import inbound_body, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import Attachment, AttributeDefinition, AuditEvent


async def test_admin_creates_lists_and_updates_channels_with_audit(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    created = await client.post(
        "/api/v1/channels", json={"medium": "twitter", "name": "@acme"}, headers=admin.headers
    )
    assert created.status_code == 201
    channel = created.json()
    assert (channel["medium"], channel["enabled"], channel["archived"]) == ("twitter", True, False)
    url = f"/api/v1/channels/{channel['id']}"
    renamed = await client.patch(url, json={"name": "@acme_help"}, headers=admin.headers)
    assert renamed.json()["name"] == "@acme_help"
    disabled = await client.patch(url, json={"enabled": False}, headers=admin.headers)
    assert disabled.json()["enabled"] is False
    listed = await client.get("/api/v1/channels", headers=admin.headers)
    assert [c["name"] for c in listed.json()["items"]] == ["@acme_help"]
    assert (await client.get(url, headers=admin.headers)).json()["enabled"] is False
    async with db.reader() as session:
        actions = list((await session.execute(select(AuditEvent.action))).scalars())
    assert actions.count("channel.updated") == 2
    assert "channel.created" in actions


async def test_platform_definitions_are_created_with_the_first_channel_of_a_medium(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_channel(db, admin, "twitter", "One")
    await make_channel(db, admin, "twitter", "Two")
    await make_channel(db, admin, "sms", "Texts")
    async with db.reader() as session:
        stmt = select(AttributeDefinition).where(AttributeDefinition.kind == "platform")
        rows = list((await session.execute(stmt)).scalars())
    keys = {r.key for r in rows}
    assert keys == {
        "twitter-user-id",
        "twitter-handle",
        "twitter-name",
        "twitter-followers",
        "twitter-bio",
        "twitter-location",
        "twitter-language",
        "sms-phone",
    }
    followers = next(r for r in rows if r.key == "twitter-followers")
    assert (followers.kind, followers.type, followers.format) == ("platform", "text", "number")
    assert len({r.position for r in rows}) == len(rows)


async def test_agents_get_403_and_foreign_channels_404(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    other = await make_workspace(db, name="Other")
    theirs = await make_channel(db, other)
    body = {"medium": "sms", "name": "x"}
    assert (
        await client.post("/api/v1/channels", json=body, headers=agent.headers)
    ).status_code == 403
    assert (await client.get("/api/v1/channels", headers=agent.headers)).status_code == 403
    mine = await make_channel(db, admin)
    inbound = await client.post(
        f"/api/v1/channels/{mine}/inbound", json=inbound_body(), headers=agent.headers
    )
    assert inbound.status_code == 403
    for method in ("GET", "PATCH", "DELETE"):
        kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
        response = await client.request(
            method, f"/api/v1/channels/{theirs}", headers=admin.headers, **kwargs
        )
        assert response.status_code == 404, method
    foreign_inbound = await client.post(
        f"/api/v1/channels/{theirs}/inbound", json=inbound_body(), headers=admin.headers
    )
    assert foreign_inbound.status_code == 404


async def test_bad_channel_input_is_422(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    for body, field in (
        ({"medium": "fax", "name": "x"}, "medium"),
        ({"medium": "sms", "name": ""}, "name"),
        ({"medium": "sms"}, "name"),
        ({"medium": "sms", "name": "x", "color": "red"}, "color"),
    ):
        response = await client.post("/api/v1/channels", json=body, headers=admin.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


async def test_channel_with_conversations_is_deleted_only_when_archived(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    empty = await make_channel(db, admin, "sms", "Unused")
    assert (
        await client.delete(f"/api/v1/channels/{empty}", headers=admin.headers)
    ).status_code == 204
    busy = await make_channel(db, admin, "sms", "Busy")
    url = f"/api/v1/channels/{busy}"
    await client.post(f"{url}/inbound", json=inbound_body("+14155550111"), headers=admin.headers)
    refused = await client.delete(url, headers=admin.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "channel_has_conversations"
    await client.patch(url, json={"archived": True}, headers=admin.headers)
    archived_inbound = await client.post(
        f"{url}/inbound", json=inbound_body("+14155550111"), headers=admin.headers
    )
    assert archived_inbound.status_code == 409
    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    assert (await client.get(url, headers=admin.headers)).status_code == 404
    listed = await client.get("/api/v1/channels", headers=admin.headers)
    assert listed.json()["items"] == []
    # The history stays readable.
    conversations = await client.get("/api/v1/conversations", headers=admin.headers)
    assert [c["channel_id"] for c in conversations.json()["items"]] == [busy]


async def test_bot_tokens_post_inbound_and_crm_tokens_do_not(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    for kind, status in (("bot", 201), ("crm", 403)):  # the CRM's scope: docs/token-scopes.md
        created = await client.post(
            "/api/v1/tokens", json={"kind": kind, "name": kind}, headers=admin.headers
        )
        headers = {"Authorization": f"Bearer {created.json()['token']}"}
        response = await client.post(
            f"/api/v1/channels/{channel}/inbound", json=inbound_body(kind), headers=headers
        )
        assert response.status_code == status, kind


async def test_attachments_are_stored_by_content_hash(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    data = b"%PDF-1.4 pretend"
    sha = hashlib.sha256(data).hexdigest()
    files = [
        {
            "filename": "a.pdf",
            "content_type": "application/pdf",
            "content_base64": base64.b64encode(data).decode(),
        },
    ]
    for sender in ("one", "two"):
        response = await client.post(
            f"/api/v1/channels/{channel}/inbound",
            json=inbound_body(sender, attachments=files),
            headers=admin.headers,
        )
        assert response.status_code == 201
    path = settings.data_dir / "attachments" / sha[:2] / sha
    assert path.read_bytes() == data
    messages = await client.get(
        f"/api/v1/conversations/{response.json()['conversation_id']}/messages",
        headers=admin.headers,
    )
    [attachment] = messages.json()["items"][0]["attachments"]
    assert (attachment["filename"], attachment["size"], attachment["sha256"]) == (
        "a.pdf",
        len(data),
        sha,
    )
    async with db.reader() as session:
        assert len(list((await session.execute(select(Attachment))).scalars())) == 2


async def test_oversized_attachment_is_413_and_bad_base64_422(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    settings.max_attachment_bytes = 1000  # the app reads this very settings object
    big = base64.b64encode(b"x" * 1001).decode()
    files = [{"filename": "big.bin", "content_base64": big}]
    response = await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body(attachments=files),
        headers=admin.headers,
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "attachments.0.content_base64"
    bad = [{"filename": "bad.bin", "content_base64": "not base64!"}]
    response = await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body(attachments=bad),
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "attachments.0.content_base64"
    assert (await client.get("/api/v1/conversations", headers=admin.headers)).json()["items"] == []

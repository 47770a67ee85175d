"""Platform webhooks in: verified, stored, acknowledged, then processed by the worker (R11.3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from builders import make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import Contact, Message, WebhookEvent
from rolodex.worker import Worker
from support.meta import connected_whatsapp, signed, wa_text

APP_SECRET = "wa-app-secret"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The app under test may call platforms on loopback (the simulator, a closed port)."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        run_worker=False,
        allow_private_webhook_targets=True,
    )


def _signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return signed(body, secret)


async def _connected_channel(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    return await connected_whatsapp(client, headers, APP_SECRET)


async def _count(db: Database, model: Any) -> int:
    async with db.reader() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_connection_is_write_only_and_has_a_webhook_url(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    """Secrets are never read back; the webhook URL is absolute from ROLODEX_PUBLIC_URL."""
    admin = await make_workspace(db)
    channel = await _connected_channel(client, admin.headers)
    connection = channel["connection"]
    assert connection["access_token_set"] is True
    assert connection["app_secret_set"] is True
    assert "access_token" not in connection
    assert "app_secret" not in connection
    assert APP_SECRET not in json.dumps(channel)
    assert channel["webhook_url"] == f"{settings.public_url}/webhooks/{channel['id']}"
    async with db.reader() as session:
        from rolodex.models import Channel

        stored = (await session.execute(select(Channel.secrets))).scalar_one()
    assert stored
    assert APP_SECRET not in stored
    assert "EAAG-token" not in stored

    # PATCH without the secrets keeps them; a wrong provider for the medium names the field.
    patched = await client.patch(
        f"/api/v1/channels/{channel['id']}",
        headers=admin.headers,
        json={"connection": {"provider": "whatsapp_cloud", "phone_number_id": "42"}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["connection"]["phone_number_id"] == "42"
    assert patched.json()["connection"]["app_secret_set"] is True
    wrong = await client.patch(
        f"/api/v1/channels/{channel['id']}",
        headers=admin.headers,
        json={"connection": {"provider": "messenger", "page_id": "1"}},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "connection.provider"


async def test_meta_handshake(client: httpx.AsyncClient, db: Database) -> None:
    """The verify token answers the challenge as plain text; a wrong one is 403."""
    admin = await make_workspace(db)
    channel = await _connected_channel(client, admin.headers)
    url = f"/webhooks/{channel['id']}"
    ok = await client.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "verify-me-please",
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    bad = await client.get(
        url,
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert bad.status_code == 403


async def test_wrong_or_missing_signature_stores_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    """401 and no stored event for a bad or absent signature."""
    admin = await make_workspace(db)
    channel = await _connected_channel(client, admin.headers)
    body = wa_text("wamid.A")
    url = f"/webhooks/{channel['id']}"
    wrong = await client.post(url, content=body, headers=_signed(body, "other-secret"))
    missing = await client.post(url, content=body, headers={"Content-Type": "application/json"})
    assert wrong.status_code == 401
    assert missing.status_code == 401
    assert await _count(db, WebhookEvent) == 0


async def test_whatsapp_text_three_times_is_one_message(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    """Stored and acknowledged at once; processed later into one contact and one message."""
    admin = await make_workspace(db)
    channel = await _connected_channel(client, admin.headers)
    body = wa_text("wamid.HBgL", text="¿Tienen envío a Canarias?")
    for _ in range(3):
        answer = await client.post(
            f"/webhooks/{channel['id']}", content=body, headers=_signed(body)
        )
        assert answer.status_code == 200
    assert await _count(db, WebhookEvent) == 3
    assert await _count(db, Message) == 0  # acknowledged before processing
    await Worker(db, settings).run_until_idle()
    assert await _count(db, Message) == 1
    async with db.reader() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.platform_user_id == "34600111222"
    found = await client.get(f"/api/v1/contacts/{contact.id}", headers=admin.headers)
    attributes = found.json()["attributes"]
    assert attributes["whatsapp-phone"] == "+34600111222"
    assert attributes["whatsapp-profile-name"] == "Kerry"
    events = await client.get(
        f"/api/v1/channels/{channel['id']}/webhook-events", headers=admin.headers
    )
    outcomes = [e["outcome"] for e in events.json()["items"]]
    assert sorted(o["messages"] for o in outcomes) == [0, 0, 1]
    assert sorted(o["duplicates"] for o in outcomes) == [0, 1, 1]


async def test_failed_delivery_is_listed_and_retried_without_holding_others(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    """A payload the parser rejects is kept failed with its error; later ones go on."""
    admin = await make_workspace(db)
    channel = await _connected_channel(client, admin.headers)
    url = f"/webhooks/{channel['id']}"
    broken = json.dumps({"object": "whatsapp_business_account", "entry": "nope"}).encode()
    good = wa_text("wamid.after")
    for body in (broken, good):
        assert (await client.post(url, content=body, headers=_signed(body))).status_code == 200
    await Worker(db, settings).run_until_idle()
    assert await _count(db, Message) == 1  # the good one was not held up
    failed = await client.get(
        f"/api/v1/channels/{channel['id']}/webhook-events",
        params={"status": "failed"},
        headers=admin.headers,
    )
    items = failed.json()["items"]
    assert len(items) == 1
    assert items[0]["error"]
    event_id = items[0]["id"]

    # "Fix" the stored body (as an operator would after a parser fix), then retry.
    async with db.transaction() as session:
        event = await session.get(WebhookEvent, event_id)
        assert event is not None
        event.body = wa_text("wamid.fixed")
    retried = await client.post(
        f"/api/v1/channels/{channel['id']}/webhook-events/{event_id}/retry", headers=admin.headers
    )
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"
    again = await client.post(
        f"/api/v1/channels/{channel['id']}/webhook-events/{event_id}/retry", headers=admin.headers
    )
    assert again.status_code == 409
    await Worker(db, settings).run_until_idle()
    assert await _count(db, Message) == 2
    none_failed = await client.get(
        f"/api/v1/channels/{channel['id']}/webhook-events",
        params={"status": "failed"},
        headers=admin.headers,
    )
    assert none_failed.json()["items"] == []

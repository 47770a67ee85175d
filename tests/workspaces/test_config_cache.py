"""Per-workspace configuration in memory (workspaces/config.py): never stale.

Every configuration change bumps `workspaces.config_version` in its transaction; each
transaction reads the version once and reuses what its process loaded for it. So a change
made through another session, or another process (a second `rolodex serve`), is seen by the
next inbound message; a transaction that changed the configuration reads its own changes;
and one that rolled back leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from builders import Actor, make_attribute, make_channel, make_workspace
from rolodex.app import create_app
from rolodex.auth import service as auth
from rolodex.config import Settings
from rolodex.crm import triggers
from rolodex.db import Database
from rolodex.kit.ids import new_id
from rolodex.routing import service as routing
from rolodex.routing import settings as routing_settings
from rolodex.routing.schemas import RoutingSettingsUpdate
from rolodex.workspaces import config
from support.live import LiveRolodex


def _message(sender: str, email: str = "ana@example.com") -> dict[str, Any]:
    return {
        "external_message_id": new_id("ext"),
        "sender": {"id": sender, "attributes": {"email": email, "first-name": "Ana"}},
        "text": "Hello",
    }


async def _received(
    client: httpx.AsyncClient, admin: Actor, channel: str, **body: Any
) -> dict[str, Any]:
    sender = str(body.pop("sender", new_id("s")))
    response = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=_message(sender, **body), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _post(client: httpx.AsyncClient, admin: Actor, channel: str, **body: Any) -> str:
    """A new sender's message; its conversation's id."""
    return str((await _received(client, admin, channel, **body))["conversation_id"])


async def _call(
    client: httpx.AsyncClient, admin: Actor, method: str, path: str, body: Any = None
) -> Any:
    response = await client.request(method, f"/api/v1{path}", json=body, headers=admin.headers)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def _team_of(client: httpx.AsyncClient, admin: Actor, conversation_id: str) -> str | None:
    found = await _call(client, admin, "GET", f"/conversations/{conversation_id}")
    team: str | None = found["team_id"]
    return team


@pytest.fixture
async def admin(db: Database) -> Actor:
    """An enterprise workspace's admin."""
    return await make_workspace(db)


async def test_every_configuration_change_bumps_the_version(
    client: httpx.AsyncClient, db: Database, admin: Actor
) -> None:
    async def version() -> int | None:
        async with db.reader() as session:
            return await config.version(session, admin.workspace_id)

    start = await version()
    assert start is not None
    channel = await make_channel(db, admin)
    team = (await _call(client, admin, "POST", "/teams", {"name": "Sales"}))["id"]
    changes: list[tuple[str, str, Any]] = [
        ("POST", "/attributes", {"label": "Plan", "key": "plan", "type": "text"}),
        ("PATCH", "/attributes/plan", {"label": "Plan name"}),
        ("PUT", "/attributes/order", None),  # filled below
        ("PATCH", "/settings/contacts", {"matching_attribute": "plan"}),
        (
            "POST",
            "/contact-groups",
            {"name": "Shoppers", "rules": [{"attribute": "plan", "operator": "not_empty"}]},
        ),
        ("PATCH", "/contact-groups/shoppers", {"enabled": False}),
        ("PATCH", "/settings/routing", {"fallback_team_id": team}),
        ("PUT", "/integrations/crm", {"lookup_url": "https://crm.example.test/lookup"}),
        ("DELETE", "/integrations/crm", None),
        ("DELETE", "/contact-groups/shoppers", None),
        ("DELETE", "/attributes/plan", None),
    ]
    for method, path, body in changes:
        before = await version()
        if path == "/attributes/order":
            keys = [a["key"] for a in await _call(client, admin, "GET", "/attributes")]
            body = {"keys": list(reversed(keys))}
        await _call(client, admin, method, path, body)
        assert (await version() or 0) > (before or 0), f"{method} {path} did not bump the version"
    assert channel


async def test_a_change_through_another_session_is_seen_by_the_next_message(
    client: httpx.AsyncClient, db: Database, admin: Actor
) -> None:
    channel = await make_channel(db, admin)
    sales = (await _call(client, admin, "POST", "/teams", {"name": "Sales"}))["id"]
    config.forget_all()  # from here on, only the version can tell this process of a change
    first = await _post(client, admin, channel)  # loads the configuration: no routing
    assert await _team_of(client, admin, first) is None
    # The change goes through the builders' own database (another engine and session).
    async with db.transaction() as session:
        principal = await auth.authenticate(session, admin.token)
        assert principal is not None
        update = RoutingSettingsUpdate.model_validate({"fallback_team_id": sales})
        await routing_settings.update_settings(session, principal, update)
    second = await _post(client, admin, channel)
    assert await _team_of(client, admin, second) == sales


async def test_group_rules_changed_are_applied_to_the_next_message(
    client: httpx.AsyncClient, db: Database, admin: Actor
) -> None:
    channel = await make_channel(db, admin)
    rule = {"attribute": "webchat-email", "operator": "contains", "value": "example.com"}
    await _call(client, admin, "POST", "/contact-groups", {"name": "Shop", "rules": [rule]})
    shop = (await _call(client, admin, "POST", "/teams", {"name": "Shop team"}))["id"]
    route = {"group_routes": [{"group": "shop", "team_id": shop}]}
    await _call(client, admin, "PATCH", "/settings/routing", route)
    config.forget_all()  # from here on, only the version can tell this process of a change
    assert await _team_of(client, admin, await _post(client, admin, channel)) == shop
    rule["value"] = "example.org"
    await _call(client, admin, "PATCH", "/contact-groups/shop", {"rules": [rule]})
    assert await _team_of(client, admin, await _post(client, admin, channel)) is None
    await _call(client, admin, "PATCH", "/contact-groups/shop", {"enabled": False})
    org = await _post(client, admin, channel, email="ana@example.org")
    assert await _team_of(client, admin, org) is None  # the group is off: nobody is in it
    await _call(client, admin, "PATCH", "/contact-groups/shop", {"enabled": True})
    org = await _post(client, admin, channel, email="bo@example.org")
    assert await _team_of(client, admin, org) == shop


async def test_mappings_and_the_crm_follow_their_changes(
    client: httpx.AsyncClient, db: Database, admin: Actor
) -> None:
    channel = await make_channel(db, admin)
    await make_attribute(client, admin, label="Email", key="email", format="email")
    config.forget_all()  # from here on, only the version can tell this process of a change

    async def lookups() -> int:
        jobs = await _call(client, admin, "GET", "/jobs?limit=200")
        return len([j for j in jobs["items"] if j["kind"] == "crm.lookup"])

    await _post(client, admin, channel, sender="before")
    await _call(client, admin, "PATCH", "/attributes/webchat-email", {"lookup": True})
    await _post(client, admin, channel, sender="no-crm")
    assert await lookups() == 0  # no CRM connected: nothing asked, nothing queued
    crm = {"lookup_url": "https://crm.example.test/lookup"}
    await _call(client, admin, "PUT", "/integrations/crm", crm)
    await _post(client, admin, channel, sender="with-crm")
    assert await lookups() == 1
    await _call(client, admin, "DELETE", "/integrations/crm")
    await _post(client, admin, channel, sender="after-crm")
    assert await lookups() == 1
    mapping = {"mappings": [{"from": "webchat-email", "to": "email"}]}
    await _call(client, admin, "PATCH", "/settings/contacts", mapping)
    mapped = await _received(client, admin, channel, sender="mapped", email="mia@example.com")
    contact = await _call(client, admin, "GET", f"/contacts/{mapped['contact_id']}")
    assert contact["attributes"]["email"] == "mia@example.com"


async def test_a_transaction_reads_its_own_configuration_change_and_a_rollback_leaves_none(
    client: httpx.AsyncClient, db: Database, admin: Actor
) -> None:
    sales = (await _call(client, admin, "POST", "/teams", {"name": "Sales"}))["id"]
    config.forget_all()
    async with db.reader() as session:
        assert (await routing.configuration(session, admin.workspace_id)).rules is None
    update = RoutingSettingsUpdate.model_validate({"fallback_team_id": sales})
    async with db.writer() as session:
        principal = await auth.authenticate(session, admin.token)
        assert principal is not None
        await routing_settings.update_settings(session, principal, update)
        rules = (await routing.configuration(session, admin.workspace_id)).rules
        assert rules is not None
        assert rules.fallback_team_id == sales
        await session.rollback()
    # Another change commits the version the rolled-back one had reached: nothing of the
    # rolled-back settings may be found under it.
    rule = {"attribute": "vip", "operator": "not_empty"}
    await _call(client, admin, "POST", "/contact-groups", {"name": "Any", "rules": [rule]})
    async with db.reader() as session:
        assert (await routing.configuration(session, admin.workspace_id)).rules is None


async def test_crm_configuration_with_no_crm_reads_nothing_more(db: Database, admin: Actor) -> None:
    async with db.reader() as session:
        first = await triggers.configuration(session, admin.workspace_id)
    assert not first.connected
    assert not first.lookup_ids
    async with db.reader() as session:
        # Same version: the same object, only the version was read.
        assert await triggers.configuration(session, admin.workspace_id) is first


@pytest.fixture
async def second_process(settings: Settings) -> AsyncIterator[LiveRolodex]:
    """Another `rolodex serve` process on the same database (its own memory)."""
    live = LiveRolodex(settings).start()
    yield live
    live.stop()


async def test_a_change_made_through_another_process_is_seen_at_once(
    settings: Settings, db: Database, admin: Actor, second_process: LiveRolodex
) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as here:
            channel = await make_channel(db, admin)
            sales = (await _call(here, admin, "POST", "/teams", {"name": "Sales"}))["id"]
            support = (await _call(here, admin, "POST", "/teams", {"name": "Support"}))["id"]
            config.forget_all()  # from here on, only the version can tell this process
            async with httpx.AsyncClient(base_url=second_process.url, timeout=30) as there:
                for team in (sales, support, sales):
                    # Both processes hold the configuration in memory; the other one changes it.
                    await _post(here, admin, channel)
                    await _post(there, admin, channel)
                    body = {"fallback_team_id": team}
                    await _call(there, admin, "PATCH", "/settings/routing", body)
                    assert await _team_of(here, admin, await _post(here, admin, channel)) == team


async def test_inception_bots_follow_their_changes(
    client: httpx.AsyncClient, db: Database, admin: Actor
) -> None:
    # The inception bots are kept per version: registering, changing or deleting one bumps it.
    channel = await make_channel(db, admin)
    config.forget_all()  # from here on, only the version can tell this process of a change

    async def held(conversation_id: str) -> str | None:
        found = await _call(client, admin, "GET", f"/conversations/{conversation_id}")
        bot: str | None = found["bot_id"]
        return bot

    assert await held(await _post(client, admin, channel)) is None  # loads: no bots
    bot = {
        "name": "Concierge",
        "webhook_url": "https://bots.example.com/events",
        "activation": "inception",
        "channel_ids": [channel],
    }
    bot_id = (await _call(client, admin, "POST", "/bots", bot))["id"]
    assert await held(await _post(client, admin, channel)) == bot_id
    await _call(client, admin, "PATCH", f"/bots/{bot_id}", {"activation": "delegation"})
    assert await held(await _post(client, admin, channel)) is None
    await _call(client, admin, "PATCH", f"/bots/{bot_id}", {"activation": "inception"})
    assert await held(await _post(client, admin, channel)) == bot_id
    await _call(client, admin, "DELETE", f"/bots/{bot_id}")
    assert await held(await _post(client, admin, channel)) is None

"""An inbound message runs only the statements that write (issue 22): its workspace's
configuration (attribute definitions, mappings, groups, routing, the CRM, the plan) is kept in
memory per configuration version, so none of it is read per message; these limits make a
regression fail here instead of passing silently."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from builders import Actor, make_channel, make_workspace
from rolodex.app import create_app
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.kit.ids import new_id

CONFIGURATION = re.compile(
    r"\b(FROM|JOIN)\s+(attribute_definitions|attribute_mappings|contact_groups|routing_settings"
    r"|crm_integrations)\b"
)
TRANSACTION = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
# The most statements a message may run (transaction control aside). New sender, configured:
# the channel (with the configuration version), the contact, its values and their history, its
# group membership, the CRM look-up job, the conversation, the message, its routing (and the
# routing event: one statement on PostgreSQL); PostgreSQL adds the live stream's NOTIFY.
# Returning sender: the channel, the contact, its current values, the conversation (which
# says which bot holds it), the message (and the NOTIFY). Inception bots are configuration.
LIMITS = {
    ("configured", "new"): 10,
    ("configured", "returning"): 6,
    ("bare", "new"): 7,
    ("bare", "returning"): 6,
}


@dataclass
class Recorder:
    """The statements the app's engines run while `on`."""

    on: bool = False
    statements: list[str] = field(default_factory=list)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.on and not TRANSACTION.match(statement.strip()):
            self.statements.append(" ".join(statement.split()))


@dataclass
class App:
    """The app under test, an HTTP client for it, and its statements."""

    client: httpx.AsyncClient
    recorder: Recorder
    database: Database


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    """The app with a recorder on both of its engines."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        database: Database = application.state.database
        recorder = Recorder()
        for engine in {database.write_engine, database.read_engine}:
            event.listen(engine.sync_engine, "before_cursor_execute", recorder)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield App(client, recorder, database)
        for engine in {database.write_engine, database.read_engine}:
            event.remove(engine.sync_engine, "before_cursor_execute", recorder)


async def _call(client: httpx.AsyncClient, admin: Actor, method: str, path: str, body: Any) -> Any:
    response = await client.request(method, f"/api/v1{path}", json=body, headers=admin.headers)
    assert response.status_code < 300, response.text
    return response.json()


async def _configure(client: httpx.AsyncClient, admin: Actor, channel: str) -> None:
    # A group every sender joins, routing by it (VIP team, fallback, priorities), a CRM.
    sales = (await _call(client, admin, "POST", "/teams", {"name": "Sales"}))["id"]
    support = (await _call(client, admin, "POST", "/teams", {"name": "Support"}))["id"]
    rule = {"attribute": "webchat-email", "operator": "contains", "value": "example"}
    group = {"name": "Shoppers", "key": "shoppers", "rules": [rule]}
    await _call(client, admin, "POST", "/contact-groups", group)
    routing = {
        "vip_team_id": sales,
        "group_routes": [{"group": "shoppers", "team_id": sales}],
        "fallback_team_id": support,
        "prioritized_groups": [{"group": "vip", "weight": 50}, {"group": "shoppers", "weight": 5}],
        "prioritized_channel_ids": [{"channel_id": channel, "weight": 1}],
    }
    await _call(client, admin, "PATCH", "/settings/routing", routing)
    await _call(client, admin, "PATCH", "/attributes/webchat-email", {"lookup": True})
    crm = {"lookup_url": "https://crm.example.test/lookup", "write_back_url": None}
    await _call(client, admin, "PUT", "/integrations/crm", crm)


async def _message(app: App, admin: Actor, channel: str, sender: str) -> list[str]:
    body = {
        "external_message_id": new_id("ext"),
        "sender": {
            "id": sender,
            "attributes": {"email": f"{sender}@example.com", "first-name": "Ana"},
        },
        "text": "Hello",
    }
    app.recorder.statements.clear()
    app.recorder.on = True
    response = await app.client.post(
        f"/api/v1/channels/{channel}/inbound", json=body, headers=admin.headers
    )
    app.recorder.on = False
    assert response.status_code == 201, response.text
    return list(app.recorder.statements)


@pytest.mark.parametrize("workspace", ["configured", "bare"])
async def test_an_inbound_message_runs_only_the_statements_that_write(
    app: App, db: Database, workspace: str
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    if workspace == "configured":
        await _configure(app.client, admin, channel)
    await _message(app, admin, channel, "warm-up")  # the first message loads the configuration
    sender = new_id("s")
    for senders in ("new", "returning"):
        statements = await _message(app, admin, channel, sender)
        listed = "\n".join(s[:160] for s in statements)
        assert not [s for s in statements if CONFIGURATION.search(s)], listed
        assert len(statements) <= LIMITS[(workspace, senders)], listed
        if workspace == "bare":
            # No CRM: its look-up check runs nothing (and no value is read for it).
            assert not [s for s in statements if "lookup" in s or "crm_" in s], listed


async def test_the_configured_workspace_still_routes_scores_groups_and_asks_the_crm(
    app: App, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    await _configure(app.client, admin, channel)
    await _message(app, admin, channel, "warm-up")
    await _message(app, admin, channel, "ana")
    teams = await _call(app.client, admin, "GET", "/teams", None)
    sales = next(t["id"] for t in teams["items"] if t["name"] == "Sales")
    found = await _call(app.client, admin, "GET", "/conversations?limit=5", None)
    assert len(found["items"]) == 2
    for conversation in found["items"]:
        detail = await _call(app.client, admin, "GET", f"/conversations/{conversation['id']}", None)
        assert detail["team_id"] == sales  # the group route (the contact is no VIP)
        assert detail["priority_score"] == 6  # shoppers 5 + the channel 1
    members = await _call(app.client, admin, "GET", "/contacts?group=shoppers", None)
    assert len(members["items"]) == 2
    jobs = await _call(app.client, admin, "GET", "/jobs?limit=50", None)
    assert len([j for j in jobs["items"] if j["kind"] == "crm.lookup"]) == 2


async def test_me_with_a_principal_checked_moments_ago_opens_no_connection(
    app: App, db: Database
) -> None:
    # GET /me is the floor of an authenticated read (issue 22): the token's own read carries
    # the workspace, so once it is cached the answer comes from memory, the same as before.
    admin = await make_workspace(db, name="Floor")
    first = await app.client.get("/api/v1/me", headers=admin.headers)
    assert first.status_code == 200, first.text
    checkouts: list[object] = []

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    engines = {app.database.write_engine, app.database.read_engine}
    for engine in engines:
        event.listen(engine.sync_engine, "checkout", checked_out)
    try:
        again = await app.client.get("/api/v1/me", headers=admin.headers)
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "checkout", checked_out)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.json()["workspace"]["name"] == "Floor"
    assert checkouts == []

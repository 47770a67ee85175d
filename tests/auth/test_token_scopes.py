"""Integration tokens reach only the routes their kind is given in auth/scopes.py (issue 14)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import httpx
from fastapi.routing import APIRoute

from builders import (
    Actor,
    make_attribute,
    make_channel,
    make_conversation,
    make_user,
    make_workspace,
)
from rolodex.app import API_ROUTERS
from rolodex.auth.deps import current_principal
from rolodex.auth.principals import Role, TokenKind
from rolodex.auth.scopes import SCOPES
from rolodex.db import Database

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_MISSING = "zz_missing"


@dataclass
class World:
    """An enterprise workspace with a conversation and one token of each kind."""

    admin: Actor
    agent: Actor
    channel_id: str
    contact_id: str
    conversation_id: str
    crm: dict[str, str]
    oauth_crm: dict[str, str]
    bot: dict[str, str]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _integration(client: httpx.AsyncClient, admin: Actor, kind: str) -> dict[str, str]:
    created = await client.post(
        "/api/v1/tokens", json={"kind": kind, "name": kind}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    return _bearer(created.json()["token"])


async def _oauth_crm(client: httpx.AsyncClient, admin: Actor) -> dict[str, str]:
    created = await client.post(
        "/api/v1/integrations/crm/credentials", json={"name": "CRM"}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    pair = f"{created.json()['client_id']}:{created.json()['client_secret']}"
    token = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"},
    )
    assert token.status_code == 200, token.text
    return _bearer(token.json()["access_token"])


async def _world(client: httpx.AsyncClient, db: Database) -> World:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel_id = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Company", key="company")
    await make_attribute(client, admin, label="Account", key="account")
    managed = await client.patch(
        "/api/v1/attributes/account", json={"crm_managed": True}, headers=admin.headers
    )
    assert managed.status_code == 200, managed.text
    made = await make_conversation(client, admin, channel_id, "visitor-1")
    return World(
        admin,
        agent,
        channel_id,
        made["contact_id"],
        made["conversation_id"],
        await _integration(client, admin, "crm"),
        await _oauth_crm(client, admin),
        await _integration(client, admin, "bot"),
    )


def _api_routes() -> list[APIRoute]:
    routes = [r for router in API_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    # Every router's routes, the compat ones and any left out of the schema included.
    assert {r.path for r in routes} >= {
        "/oauth2/token",
        "/inbox/v2/contact/{contact_profile_id}/contact-attributes",
    }
    return routes


def _needs_principal(route: APIRoute) -> bool:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is current_principal:
            return True
        stack.extend(dependant.dependencies)
    return False


async def _operations(client: httpx.AsyncClient) -> list[tuple[str, str, bool]]:
    """(method, path template, needs a principal) for every route of the schema and beyond."""
    schema = (await client.get("/openapi.json")).json()
    in_schema = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    routes = {(m, r.path): _needs_principal(r) for r in _api_routes() for m in r.methods or ()}
    # The schema lists nothing the routers do not hold, but for the health check.
    assert in_schema - set(routes) <= {("GET", "/healthz")}
    operations = {op: routes.get(op, False) for op in in_schema} | routes
    # The live stream never ends (an ASGITransport call would wait forever); tests/stream/
    # checks its auth with a real server (integrations: 403 token_scope; users: 200).
    return sorted((m, p, needs) for (m, p), needs in operations.items() if p != "/api/v1/stream")


def _url(template: str, ids: dict[str, str]) -> str:
    url = template
    for name in ("contact_profile_id", "contact_id", "conversation_id", "channel_id", "key"):
        url = url.replace(f"{{{name}}}", ids.get(name, _MISSING))
    while "{" in url:  # any other id: one that exists nowhere
        start = url.index("{")
        url = url[:start] + _MISSING + url[url.index("}", start) + 1 :]
    return url


async def _call(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]
) -> httpx.Response:
    if method in _BODY_METHODS:
        return await client.request(method, url, headers=headers, json={})
    return await client.request(method, url, headers=headers)


def _code(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    code: str | None = response.json().get("code")
    return code


async def test_every_route_answers_integrations_as_the_scope_table_says(
    client: httpx.AsyncClient, db: Database
) -> None:
    world = await _world(client, db)
    ids = {
        "contact_profile_id": world.contact_id,
        "contact_id": world.contact_id,
        "conversation_id": world.conversation_id,
        "channel_id": world.channel_id,
        "key": "company",
    }
    tokens = {"crm": world.crm, "oauth2-crm": world.oauth_crm, "bot": world.bot}
    kinds = {"crm": TokenKind.CRM, "oauth2-crm": TokenKind.CRM, "bot": TokenKind.BOT}
    operations = await _operations(client)
    assert len(operations) > 40
    wrong = []
    for method, path, needs_principal in operations:
        url = _url(path, ids)
        for name, headers in tokens.items():
            response = await _call(client, method, url, headers)
            scoped = response.status_code == 403 and _code(response) == "token_scope"
            if not needs_principal:
                expected_scoped = False  # the route reads no token at all
            else:
                expected_scoped = (method, path) not in SCOPES[kinds[name]]
            if scoped != expected_scoped or response.status_code in (401, 500):
                wrong.append((name, method, path, response.status_code, _code(response)))
    assert wrong == []


async def test_user_tokens_are_never_held_to_the_table(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    scoped = []
    for method, path, _ in await _operations(client):
        # Ids that exist nowhere: the walk changes nothing of the workspace.
        response = await _call(client, method, _url(path, {}), agent.headers)
        if _code(response) == "token_scope":
            scoped.append((method, path))
    assert scoped == []


async def test_the_table_names_only_routes_that_exist(client: httpx.AsyncClient) -> None:
    routes = {(m, r.path) for r in _api_routes() for m in r.methods or () if _needs_principal(r)}
    for kind, allowed in SCOPES.items():
        assert allowed <= routes, (kind, allowed - routes)


async def _history(client: httpx.AsyncClient, world: World, key: str) -> list[tuple[str, ...]]:
    response = await client.get(
        f"/api/v1/contacts/{world.contact_id}/history",
        params={"key": key},
        headers=world.agent.headers,
    )
    assert response.status_code == 200, response.text
    return [(h["source"], h["actor_kind"], h["new_value"]) for h in response.json()["items"]]


async def _write(
    client: httpx.AsyncClient, world: World, headers: dict[str, str], values: dict[str, object]
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/contacts/{world.contact_id}/attributes",
        json={"attributes": values},
        headers=headers,
    )


async def test_crm_tokens_write_crm_managed_and_custom_values_as_the_crm(
    client: httpx.AsyncClient, db: Database
) -> None:
    world = await _world(client, db)
    by_token = await _write(client, world, world.crm, {"account": "A-1", "company": "Acme"})
    assert by_token.status_code == 200, by_token.text
    assert by_token.json()["attributes"]["account"] == "A-1"
    # The CRM may overwrite what is set: it is the source of truth for its values.
    by_oauth = await _write(client, world, world.oauth_crm, {"account": "A-2"})
    assert by_oauth.status_code == 200, by_oauth.text
    assert await _history(client, world, "account") == [
        ("crm", "crm", "A-2"),
        ("crm", "crm", "A-1"),
    ]
    assert await _history(client, world, "company") == [("crm", "crm", "Acme")]
    contact = await client.get(f"/api/v1/contacts/{world.contact_id}", headers=world.crm)
    assert contact.status_code == 200
    assert contact.json()["attributes"]["account"] == "A-2"


async def test_a_bot_writes_as_the_bot_and_never_over_a_set_value(
    client: httpx.AsyncClient, db: Database
) -> None:
    world = await _world(client, db)
    await make_attribute(client, world.admin, label="Topic", key="topic")
    first = await _write(client, world, world.bot, {"company": "Acme"})
    assert first.status_code == 200, first.text
    assert await _history(client, world, "company") == [("bot", "bot", "Acme")]
    # The same value again changes nothing, so it passes (a retried call is safe).
    assert (await _write(client, world, world.bot, {"company": "Acme"})).status_code == 200
    overwrites: list[dict[str, object]] = [
        {"company": "Globex"},
        {"company": None},
        {"company": "Globex", "topic": "x"},
    ]
    for values in overwrites:
        refused = await _write(client, world, world.bot, values)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "value_already_set"
        assert [e["field"] for e in refused.json()["errors"]] == ["attributes.company"]
    # All or nothing: the refused write set no topic either.
    contact = await client.get(f"/api/v1/contacts/{world.contact_id}", headers=world.bot)
    assert contact.json()["attributes"]["company"] == "Acme"
    assert "topic" not in contact.json()["attributes"]
    set_by_agent = await _write(client, world, world.agent.headers, {"topic": "billing"})
    assert set_by_agent.status_code == 200
    over_agent = await _write(client, world, world.bot, {"topic": "sales"})
    assert over_agent.status_code == 409
    crm_managed = await _write(client, world, world.bot, {"account": "A-1"})
    assert crm_managed.status_code == 403
    assert crm_managed.json()["code"] == "attribute_write_forbidden"
    # Agents still overwrite what a bot set.
    assert (await _write(client, world, world.agent.headers, {"company": "Initech"})).is_success


async def test_a_bot_replies_and_reads_but_changes_no_status(
    client: httpx.AsyncClient, db: Database
) -> None:
    world = await _world(client, db)
    url = f"/api/v1/conversations/{world.conversation_id}"
    reply = await client.post(
        f"{url}/messages", json={"text": "Hi, I'm the bot"}, headers=world.bot
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["author_kind"] == "bot"
    messages = await client.get(f"{url}/messages", headers=world.bot)
    assert "Hi, I'm the bot" in [m["text"] for m in messages.json()["items"]]
    assert (await client.get(f"{url}/contact-tab", headers=world.bot)).status_code == 200
    inbound = await client.post(
        f"/api/v1/channels/{world.channel_id}/inbound",
        json={"external_message_id": "e-bot", "sender": {"id": "visitor-2"}, "text": "Hello"},
        headers=world.bot,
    )
    assert inbound.status_code == 201, inbound.text
    for change in ({"status": "resolved"}, {"assignee_id": world.agent.user_id}):
        refused = await client.patch(url, json=change, headers=world.bot)
        assert refused.status_code == 403
        assert refused.json()["code"] == "token_scope"
    assert (await client.get(url, headers=world.admin.headers)).json()["status"] != "resolved"


async def test_a_crm_token_cannot_reply_or_change_a_conversation(
    client: httpx.AsyncClient, db: Database
) -> None:
    world = await _world(client, db)
    url = f"/api/v1/conversations/{world.conversation_id}"
    for headers in (world.crm, world.oauth_crm):
        calls = (
            client.post(f"{url}/messages", json={"text": "from the CRM"}, headers=headers),
            client.patch(url, json={"status": "resolved"}, headers=headers),
            client.get(url, headers=headers),
            client.get(f"{url}/messages", headers=headers),
            client.post(
                f"/api/v1/channels/{world.channel_id}/inbound",
                json={"external_message_id": "e-crm", "sender": {"id": "v"}, "text": "x"},
                headers=headers,
            ),
        )
        for call in calls:
            response = await call
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "token_scope"
    messages = await client.get(f"{url}/messages", headers=world.admin.headers)
    assert "from the CRM" not in [m["text"] for m in messages.json()["items"]]


async def test_integrations_reach_no_admin_route(client: httpx.AsyncClient, db: Database) -> None:
    world = await _world(client, db)
    admin_calls = (
        ("POST", "/api/v1/tokens", {"kind": "bot", "name": "another"}),
        ("GET", "/api/v1/tokens", None),
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/attributes", {"label": "Sneaky", "type": "text"}),
        ("GET", "/api/v1/integrations/crm", None),
        ("POST", "/api/v1/integrations/crm/credentials", {"name": "more"}),
        ("GET", "/api/v1/audit-events", None),
        ("DELETE", f"/api/v1/contacts/{world.contact_id}", None),
    )
    for headers in (world.crm, world.oauth_crm, world.bot):
        for method, path, body in admin_calls:
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["code"] == "token_scope"
    tokens = await client.get("/api/v1/tokens", headers=world.admin.headers)
    assert "another" not in [t["name"] for t in tokens.json()]

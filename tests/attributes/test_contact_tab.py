"""GET /conversations/{id}/contact-tab: shown attributes, order, editability, fixed queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from builders import (
    Actor,
    make_attribute,
    make_channel,
    make_conversation,
    make_integration,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role, TokenKind
from rolodex.db import Database
from rolodex.plans import Plan

ENTRY_FIELDS = {
    "key",
    "label",
    "kind",
    "type",
    "format",
    "options",
    "value",
    "source",
    "updated_at",
    "editable",
    "crm_managed",
    "lookup",
    "pending_value",
    "pending",
}


async def _tab(client: httpx.AsyncClient, actor: Actor, conversation: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/conversations/{conversation}/contact-tab", headers=actor.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _keys(tab: dict[str, Any]) -> list[str]:
    return [a["key"] for a in tab["attributes"]]


async def test_the_tab_lists_enabled_attributes_in_order_with_values_and_editability(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    chat = await make_channel(db, admin, "webchat")
    await make_channel(db, admin, "sms")
    await make_attribute(client, admin, label="Company", key="company")
    await make_attribute(
        client, admin, label="Tier", key="tier", type="dropdown", options=["Gold", "Silver"]
    )
    sent = await make_conversation(client, admin, chat, "v1", email="ada@x.test")
    await client.patch(
        f"/api/v1/contacts/{sent['contact_id']}/attributes",
        json={"attributes": {"tier": "Gold", "vip": True}},
        headers=agent.headers,
    )
    tab = await _tab(client, agent, sent["conversation_id"])
    assert tab["contact"]["id"] == sent["contact_id"]
    assert tab["contact"]["vip"] is True
    assert tab["vip"] == {"shown": True, "value": True}
    keys = _keys(tab)
    assert "vip" not in keys
    assert "sms-phone" not in keys  # another medium's platform attribute
    assert keys[:2] == ["webchat-user-id", "webchat-first-name"]
    assert keys[-2:] == ["company", "tier"]
    entries = {a["key"]: a for a in tab["attributes"]}
    assert all(set(a) == ENTRY_FIELDS for a in tab["attributes"])
    email = entries["webchat-email"]
    assert (email["value"], email["source"], email["editable"]) == ("ada@x.test", "platform", False)
    tier = entries["tier"]
    assert (tier["value"], tier["source"], tier["editable"]) == ("Gold", "agent", True)
    assert tier["options"] == ["Gold", "Silver"]
    assert tier["updated_at"] is not None
    company = entries["company"]
    assert (company["value"], company["source"], company["updated_at"]) == (None, None, None)
    assert (company["format"], company["editable"]) == ("text", True)


async def test_the_tab_follows_the_admins_order_and_toggles(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    chat = await make_channel(db, admin, "email")
    await make_attribute(client, admin, label="A", key="a")
    await make_attribute(client, admin, label="B", key="b")
    conversation = (await make_conversation(client, admin, chat, "e1"))["conversation_id"]
    assert _keys(await _tab(client, agent, conversation)) == [
        "email-address",
        "email-name",
        "a",
        "b",
    ]
    order = ["b", "email-name", "vip", "a", "email-address"]
    put = await client.put("/api/v1/attributes/order", json={"keys": order}, headers=admin.headers)
    assert put.status_code == 200
    assert _keys(await _tab(client, agent, conversation)) == [
        "b",
        "email-name",
        "a",
        "email-address",
    ]
    for key in ("a", "vip"):
        off = await client.patch(
            f"/api/v1/attributes/{key}", json={"enabled": False}, headers=admin.headers
        )
        assert off.status_code == 200
    tab = await _tab(client, agent, conversation)
    assert _keys(tab) == ["b", "email-name", "email-address"]
    assert tab["vip"]["shown"] is False


async def test_disabling_a_platform_attribute_on_one_channel_hides_it_there_only(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    shop = await make_channel(db, admin, "webchat", "Shop")
    help_ = await make_channel(db, admin, "webchat", "Help")
    in_shop = (await make_conversation(client, admin, shop, "v1"))["conversation_id"]
    in_help = (await make_conversation(client, admin, help_, "v1"))["conversation_id"]
    response = await client.patch(
        "/api/v1/attributes/webchat-page-url",
        json={"disabled_channel_ids": [shop]},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert "webchat-page-url" not in _keys(await _tab(client, agent, in_shop))
    assert "webchat-page-url" in _keys(await _tab(client, agent, in_help))


async def test_crm_managed_attributes_are_editable_per_the_write_rule(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    crm = await make_integration(db, admin.workspace_id, TokenKind.CRM)
    bot = await make_integration(db, admin.workspace_id, TokenKind.BOT)
    chat = await make_channel(db, admin, "sms")
    await make_attribute(client, admin, label="Account", key="account")
    await client.patch(
        "/api/v1/attributes/account", json={"crm_managed": True}, headers=admin.headers
    )
    conversation = (await make_conversation(client, admin, chat, "s1"))["conversation_id"]
    editable = {}
    for name, actor in (("agent", agent), ("bot", bot)):
        entries = {a["key"]: a for a in (await _tab(client, actor, conversation))["attributes"]}
        editable[name] = entries["account"]["editable"]
        assert entries["account"]["crm_managed"] is True
    assert editable == {"agent": False, "bot": False}
    # The CRM writes these values but reads no conversation, so no Contact tab either.
    refused = await client.get(
        f"/api/v1/conversations/{conversation}/contact-tab", headers=crm.headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "token_scope"


async def test_vip_is_not_shown_outside_enterprise(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db, Plan.BUSINESS)
    chat = await make_channel(db, admin, "sms")
    conversation = (await make_conversation(client, admin, chat, "s1"))["conversation_id"]
    assert (await _tab(client, admin, conversation))["vip"] == {"shown": False, "value": False}


async def test_another_workspaces_conversation_is_404(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    other = await make_workspace(db, name="Other")
    chat = await make_channel(db, admin, "sms")
    conversation = (await make_conversation(client, admin, chat, "s1"))["conversation_id"]
    response = await client.get(
        f"/api/v1/conversations/{conversation}/contact-tab", headers=other.headers
    )
    assert response.status_code == 404


@contextmanager
def _counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


async def test_the_tab_takes_a_fixed_number_of_queries(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin, "webchat")
    small = (await make_conversation(client, admin, chat, "v1"))["conversation_id"]
    await _tab(client, admin, small)  # the token's look-up is cached from here on
    with _counting() as before:
        await _tab(client, admin, small)
    for n in range(8):
        await make_attribute(client, admin, label=f"Field {n}")
    big = await make_conversation(
        client, admin, chat, "v2", email="b@x.test", **{"page-url": "https://x.test"}
    )
    await client.patch(
        f"/api/v1/contacts/{big['contact_id']}/attributes",
        json={"attributes": {f"field_{n}": f"v{n}" for n in range(8)}},
        headers=admin.headers,
    )
    with _counting() as after:
        tab = await _tab(client, admin, big["conversation_id"])
    # 8 custom values, email, page-url and the user id (filled from sender.id).
    assert len([a for a in tab["attributes"] if a["value"]]) == 11
    selects = lambda s: [q for q in s if q.lstrip().upper().startswith("SELECT")]  # noqa: E731
    assert len(selects(after)) == len(selects(before))
    # The tab with every value and (enterprise) the CRM status; no link look-up while no
    # matching attribute is set (the tab's row carries the configuration version).
    assert len(selects(after)) == 2

"""Attribute definitions: the list, custom attributes, order, toggles, deletion, audit."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from builders import (
    Actor,
    make_attribute,
    make_channel,
    make_conversation,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role
from rolodex.db import Database
from rolodex.models import AttributeHistory, AttributeValue, AuditEvent

FIELDS = {
    "key",
    "label",
    "kind",
    "type",
    "format",
    "options",
    "medium",
    "enabled",
    "disabled_channel_ids",
    "position",
    "crm_managed",
    "lookup",
}


async def _list(client: httpx.AsyncClient, actor: Actor) -> list[dict[str, object]]:
    response = await client.get("/api/v1/attributes", headers=actor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()
    return items


async def _actions(db: Database, workspace_id: str) -> list[str]:
    async with db.reader() as session:
        stmt = select(AuditEvent.action).where(AuditEvent.workspace_id == workspace_id)
        return list((await session.execute(stmt)).scalars())


async def test_a_new_workspace_lists_vip_with_spec_fields(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    await make_channel(db, admin, "sms")
    items = await _list(client, agent)
    assert all(set(item) == FIELDS for item in items)
    assert items[0] == {
        "key": "vip",
        "label": "VIP",
        "kind": "standard",
        "type": "boolean",
        "format": None,
        "options": None,
        "medium": None,
        "enabled": True,
        "disabled_channel_ids": [],
        "position": 0,
        "crm_managed": False,
        "lookup": False,
    }
    assert [(i["key"], i["kind"], i["format"]) for i in items[1:]] == [
        ("sms-phone", "platform", "phone")
    ]


async def test_custom_attributes_get_derived_unique_keys_and_join_the_end(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    first = await make_attribute(client, admin, label="Customer ID")
    second = await make_attribute(client, admin, label="Customer  id!")
    named = await make_attribute(client, admin, label="Über Größe", format="number")
    plan = await make_attribute(
        client, admin, label="Plan", type="dropdown", options=[" Gold ", "Silver"]
    )
    assert (first["key"], first["format"], first["kind"]) == ("customer_id", "text", "custom")
    assert second["key"] == "customer_id_2"
    assert (named["key"], named["format"]) == ("uber_groe", "number")
    assert (plan["type"], plan["options"], plan["format"]) == ("dropdown", ["Gold", "Silver"], None)
    keys = [i["key"] for i in await _list(client, admin)]
    assert keys == ["vip", "customer_id", "customer_id_2", "uber_groe", "plan"]
    assert "attribute.created" in await _actions(db, admin.workspace_id)


async def test_a_dropdown_needs_two_distinct_options(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    post = lambda body: client.post("/api/v1/attributes", json=body, headers=admin.headers)  # noqa: E731
    one = await post({"label": "Tier", "type": "dropdown", "options": ["Gold"]})
    assert one.status_code == 422
    assert one.json()["errors"][0]["field"] == "options"
    duplicate = await post({"label": "Tier", "type": "dropdown", "options": ["Gold", " gold"]})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["field"] == "options.1"
    missing = await post({"label": "Tier", "type": "dropdown"})
    assert missing.status_code == 422
    text_with_options = await post({"label": "T", "type": "text", "options": ["a", "b"]})
    assert text_with_options.status_code == 422
    formatted_dropdown = await post(
        {"label": "T", "type": "dropdown", "format": "email", "options": ["a", "b"]}
    )
    assert formatted_dropdown.status_code == 422
    boolean = await post({"label": "T", "type": "boolean"})
    assert boolean.status_code == 422
    assert [i["key"] for i in await _list(client, admin)] == ["vip"]


async def test_an_explicit_duplicate_key_is_409_and_bad_keys_422(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Account", key="account")
    post = lambda body: client.post("/api/v1/attributes", json=body, headers=admin.headers)  # noqa: E731
    again = await post({"label": "Other", "key": "account", "type": "text"})
    assert again.status_code == 409
    assert again.json()["code"] == "attribute_key_taken"
    assert (await post({"label": "V", "key": "vip", "type": "text"})).status_code == 409
    bad = await post({"label": "Other", "key": "Has-Caps", "type": "text"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "key"


async def test_agents_read_definitions_but_only_admins_change_them(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    await make_attribute(client, admin, label="Company", key="company")
    h = agent.headers
    assert (await client.get("/api/v1/attributes", headers=h)).status_code == 200
    assert (await client.get("/api/v1/attributes/company", headers=h)).status_code == 200
    refused = [
        await client.post("/api/v1/attributes", json={"label": "X", "type": "text"}, headers=h),
        await client.patch("/api/v1/attributes/company", json={"label": "Y"}, headers=h),
        await client.delete("/api/v1/attributes/company", headers=h),
        await client.put("/api/v1/attributes/order", json={"keys": ["company", "vip"]}, headers=h),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]


async def test_platform_attributes_may_be_lookup_but_never_crm_managed(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_channel(db, admin, "email")
    url = "/api/v1/attributes/email-address"
    refused = await client.patch(url, json={"crm_managed": True}, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "platform_not_crm_managed"
    lookup = await client.patch(url, json={"lookup": True, "label": "Mail"}, headers=admin.headers)
    assert lookup.status_code == 200
    assert (lookup.json()["lookup"], lookup.json()["label"]) == (True, "Mail")
    await make_attribute(client, admin, label="Account", key="account")
    managed = await client.patch(
        "/api/v1/attributes/account",
        json={"crm_managed": True, "lookup": True},
        headers=admin.headers,
    )
    assert (managed.json()["crm_managed"], managed.json()["lookup"]) == (True, True)
    assert "attribute.updated" in await _actions(db, admin.workspace_id)


async def test_order_takes_the_full_list_and_names_missing_and_unknown_keys(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_channel(db, admin, "sms")
    await make_attribute(client, admin, label="A", key="a")
    await make_attribute(client, admin, label="B", key="b")
    put = lambda keys: client.put(  # noqa: E731
        "/api/v1/attributes/order", json={"keys": keys}, headers=admin.headers
    )
    bad = await put(["b", "nope", "vip", "vip"])
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "attribute_order_invalid"
    messages = " ".join(e["message"] for e in body["errors"])
    assert "“a”" in messages
    assert "“sms-phone”" in messages
    assert "“nope”" in messages
    assert "twice" in messages
    assert [i["key"] for i in await _list(client, admin)] == ["vip", "sms-phone", "a", "b"]
    done = await put(["b", "sms-phone", "vip", "a"])
    assert done.status_code == 200
    assert [(i["key"], i["position"]) for i in done.json()] == [
        ("b", 0),
        ("sms-phone", 1),
        ("vip", 2),
        ("a", 3),
    ]
    assert [i["key"] for i in await _list(client, admin)] == ["b", "sms-phone", "vip", "a"]
    await make_attribute(client, admin, label="C", key="c")
    assert [i["key"] for i in await _list(client, admin)][-1] == "c"
    assert "attribute.reordered" in await _actions(db, admin.workspace_id)


async def test_only_custom_attributes_are_deleted_with_their_values(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "sms")
    await make_attribute(client, admin, label="Notes", key="notes")
    contact = (await make_conversation(client, admin, channel, "s1", phone="4155550123"))[
        "contact_id"
    ]
    written = await client.patch(
        f"/api/v1/contacts/{contact}/attributes",
        json={"attributes": {"notes": "Likes tea"}},
        headers=admin.headers,
    )
    assert written.status_code == 200, written.text
    assert (await client.delete("/api/v1/attributes/vip", headers=admin.headers)).status_code == 409
    platform = await client.delete("/api/v1/attributes/sms-phone", headers=admin.headers)
    assert platform.status_code == 409
    assert platform.json()["code"] == "attribute_not_deletable"
    assert (
        await client.delete("/api/v1/attributes/notes", headers=admin.headers)
    ).status_code == 204
    assert (await client.get("/api/v1/attributes/notes", headers=admin.headers)).status_code == 404
    after = (await client.get(f"/api/v1/contacts/{contact}", headers=admin.headers)).json()
    assert after["attributes"] == {"sms-phone": "+14155550123"}
    async with db.reader() as session:
        values = (await session.execute(select(AttributeValue.value))).scalars().all()
        history = (await session.execute(select(AttributeHistory.new_value))).scalars().all()
        event = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.action == "attribute.deleted")
            )
        ).scalar_one()
    assert "Likes tea" not in values
    assert "Likes tea" not in history
    assert event.before is not None
    assert (event.target_id, event.before["values_deleted"]) == ("notes", 1)


async def test_another_workspaces_attribute_is_404(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    other = await make_workspace(db, name="Other")
    await make_attribute(client, admin, label="Mine", key="mine")
    h = other.headers
    assert (await client.get("/api/v1/attributes/mine", headers=h)).status_code == 404
    patched = await client.patch("/api/v1/attributes/mine", json={"label": "x"}, headers=h)
    assert patched.status_code == 404
    assert (await client.delete("/api/v1/attributes/mine", headers=h)).status_code == 404
    assert [i["key"] for i in await _list(client, other)] == ["vip"]


async def test_disabled_channels_are_channels_of_the_workspace_and_medium(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    other = await make_workspace(db, name="Other")
    chat = await make_channel(db, admin, "webchat", "Shop")
    sms = await make_channel(db, admin, "sms")
    foreign = await make_channel(db, other, "webchat")
    await make_attribute(client, admin, label="Notes", key="notes")
    url = "/api/v1/attributes/webchat-email"
    patch = lambda key, ids: client.patch(  # noqa: E731
        f"/api/v1/attributes/{key}", json={"disabled_channel_ids": ids}, headers=admin.headers
    )
    bad = await patch("webchat-email", [chat, foreign, sms])
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == [
        "disabled_channel_ids.1",
        "disabled_channel_ids.2",
    ]
    assert (await patch("notes", [chat])).status_code == 422
    assert (await patch("notes", [])).status_code == 200
    done = await patch("webchat-email", [chat])
    assert done.json()["disabled_channel_ids"] == [chat]
    detail = (await client.get(url, headers=admin.headers)).json()
    assert detail["disabled_channel_ids"] == [chat]
    assert (await patch("webchat-email", [])).json()["disabled_channel_ids"] == []


async def test_null_for_a_required_setting_is_422(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    response = await client.patch(
        "/api/v1/attributes/vip", json={"enabled": None}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "enabled"
    off = await client.patch(
        "/api/v1/attributes/vip", json={"enabled": False}, headers=admin.headers
    )
    assert off.json()["enabled"] is False

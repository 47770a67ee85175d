"""Attribute labels are unique per workspace, ignoring case and spaces (issue 16).

Two custom fields called "Número de pedido" left agents guessing which one to fill. A label
is taken by any other attribute (its label, and a built-in label in every language) and by
the catalogue's built-in labels; the database holds the rule too. Platform definitions that
arrive later never fail on a label: they take a numbered one.
"""

from __future__ import annotations

import asyncio
import contextvars

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from builders import Actor, inbound_body, make_attribute, make_channel, make_workspace
from rolodex import i18n
from rolodex.db import Database
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.models import AttributeDefinition


async def _post(client: httpx.AsyncClient, admin: Actor, **body: object) -> httpx.Response:
    body.setdefault("type", "text")
    return await client.post("/api/v1/attributes", json=body, headers=admin.headers)


async def _labels(client: httpx.AsyncClient, admin: Actor) -> dict[str, str]:
    response = await client.get("/api/v1/attributes", headers=admin.headers)
    assert response.status_code == 200, response.text
    return {a["key"]: a["label"] for a in response.json()}


def _assert_taken(response: httpx.Response, label: str) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "label_taken"
    assert label in body["detail"]
    assert [(e["field"], e["type"]) for e in body["errors"]] == [("label", "duplicate")]
    assert label in body["errors"][0]["message"]


def _spanish(message: str) -> str:
    def inside() -> str:
        i18n.use(locale="es")
        return i18n.translate(message)

    return contextvars.copy_context().run(inside)


async def _legacy_definition(db: Database, workspace_id: str, key: str, label: str) -> None:
    """A custom definition written straight to the table (as before labels were checked)."""
    async with db.transaction() as session:
        session.add(
            AttributeDefinition(
                id=new_id("attr"),
                workspace_id=workspace_id,
                key=key,
                label=label,
                kind="custom",
                type="text",
                format="text",
                options=None,
                medium=None,
                enabled=True,
                position=50,
                crm_managed=False,
                lookup=False,
                created_at=utcnow(),
            )
        )


async def test_a_label_is_taken_whatever_its_case_and_spaces(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    first = await make_attribute(client, admin, label="  Número   de pedido ")
    assert first["label"] == "Número de pedido"  # stored cleaned
    again = await _post(client, admin, label=" número de PEDIDO  ", key="order_2")
    _assert_taken(again, "número de PEDIDO")
    dropdown = await _post(
        client, admin, label="NÚMERO DE PEDIDO", type="dropdown", options=["a", "b"]
    )
    _assert_taken(dropdown, "NÚMERO DE PEDIDO")
    other_workspace = await make_workspace(db, name="Other")
    await make_attribute(client, other_workspace, label="Número de pedido")  # per workspace
    labels = await _labels(client, admin)
    assert list(labels.values()).count("Número de pedido") == 1


async def test_a_rename_to_a_taken_label_is_409_and_a_new_case_of_its_own_is_fine(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Order number", key="order")
    tier = await make_attribute(client, admin, label="Tier", key="tier")
    patch = lambda key, body: client.patch(  # noqa: E731
        f"/api/v1/attributes/{key}", json=body, headers=admin.headers
    )
    _assert_taken(await patch(tier["key"], {"label": "order NUMBER"}), "order NUMBER")
    _assert_taken(await patch(tier["key"], {"label": "VIP"}), "VIP")
    renamed = await patch("order", {"label": " order   number "})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["label"] == "order number"
    assert (await _labels(client, admin))["tier"] == "Tier"


async def test_built_in_labels_are_taken_in_every_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_channel(db, admin, "webchat")
    # An existing platform attribute, one of a medium with no channel yet, the VIP attribute.
    for label in ("Web chat email", "sms PHONE", "vip"):
        _assert_taken(await _post(client, admin, label=label), label)
    spanish = _spanish("SMS phone")
    _assert_taken(await _post(client, admin, label=spanish.upper()), spanish.upper())
    # Platform attributes may keep (or get back) their own label.
    own = await client.patch(
        "/api/v1/attributes/webchat-email", json={"label": "web chat EMAIL"}, headers=admin.headers
    )
    assert own.status_code == 200, own.text


async def test_the_conflict_is_told_in_the_callers_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Número de pedido")
    response = await client.post(
        "/api/v1/attributes",
        json={"label": "número de pedido", "type": "text"},
        headers={**admin.headers, "Accept-Language": "es-ES"},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "label_taken"
    assert body["detail"] == "Otro atributo ya usa la etiqueta “número de pedido”."
    assert body["errors"][0]["message"].startswith("Otro atributo ya se llama")


async def test_blank_labels_and_bad_keys_are_told_beside_the_field_for_people(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    for label in ("", "   "):
        blank = await _post(client, admin, label=label)
        assert blank.status_code == 422, blank.text
        assert blank.json()["errors"] == [
            {"field": "label", "message": "Enter a label.", "type": "invalid"}
        ]
    key = await _post(client, admin, label="Tier", key="Bad Key")
    assert key.status_code == 422
    [error] = key.json()["errors"]
    assert error["field"] == "key"
    assert error["message"] == "Use only lower-case letters, digits and _ (no spaces)."
    tier = await make_attribute(client, admin, label="Tier")
    cleared = await client.patch(
        f"/api/v1/attributes/{tier['key']}", json={"label": " "}, headers=admin.headers
    )
    assert cleared.status_code == 422
    assert cleared.json()["errors"][0]["message"] == "Enter a label."


async def test_concurrent_creates_of_one_label_make_one_attribute(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    responses = await asyncio.gather(
        *(_post(client, admin, label=f"Order {'number' if i % 2 else 'NUMBER'}", key=f"o_{i}")
          for i in range(10))
    )  # fmt: skip
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 9, [r.text for r in responses]
    assert all(r.json()["code"] == "label_taken" for r in responses if r.status_code == 409)


async def test_the_database_refuses_a_second_label_in_another_case(db: Database) -> None:
    admin = await make_workspace(db)
    await _legacy_definition(db, admin.workspace_id, "tier", "Tier")
    with pytest.raises(IntegrityError):
        await _legacy_definition(db, admin.workspace_id, "tier_2", "TIER")
    other = await make_workspace(db, name="Other")
    await _legacy_definition(db, other.workspace_id, "tier", "Tier")


async def test_a_platform_attribute_whose_label_is_taken_gets_a_numbered_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    """The rule when a new medium's label is already a custom one: ingestion never fails."""
    admin = await make_workspace(db)
    # Made before labels were checked: a custom attribute holding the SMS platform label.
    await _legacy_definition(db, admin.workspace_id, "sms_phone", "sms phone")
    await _legacy_definition(db, admin.workspace_id, "sms_phone_2", "SMS phone (2)")
    channel_id = await make_channel(db, admin, "sms")
    labels = await _labels(client, admin)
    assert labels["sms_phone"] == "sms phone"  # the admin's attribute keeps its label
    assert labels["sms-phone"] == "SMS phone (3)"
    sent = await client.post(
        f"/api/v1/channels/{channel_id}/inbound",
        json=inbound_body("+34600000001", attributes={"phone": "+34600000001"}),
        headers=admin.headers,
    )
    assert sent.status_code == 201, sent.text
    async with db.reader() as session:
        stmt = select(AttributeDefinition.label).where(
            AttributeDefinition.workspace_id == admin.workspace_id
        )
        stored = list((await session.execute(stmt)).scalars())
    assert len({label.casefold() for label in stored}) == len(stored)

"""The matching attribute must identify a person: text attributes only (R3.3)."""

from __future__ import annotations

import httpx
import pytest

from builders import make_attribute, make_workspace
from rolodex.db import Database


@pytest.mark.parametrize("key", ["tier", "vip"])
async def test_dropdowns_and_booleans_cannot_be_the_matching_attribute(
    client: httpx.AsyncClient, db: Database, key: str
) -> None:
    admin = await make_workspace(db)
    await make_attribute(
        client, admin, label="Tier", key="tier", type="dropdown", options=["Gold", "Silver"]
    )
    await make_attribute(client, admin, label="Member no", key="member_no")
    refused = await client.patch(
        "/api/v1/settings/contacts", json={"matching_attribute": key}, headers=admin.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "matching_attribute_unsuitable"
    assert [e["field"] for e in refused.json()["errors"]] == ["matching_attribute"]
    chosen = await client.patch(
        "/api/v1/settings/contacts", json={"matching_attribute": "member_no"}, headers=admin.headers
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["matching_attribute"] == "member_no"

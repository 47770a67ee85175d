"""Group rules stay small: value length, any_of size and rules per group are bounded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from builders import make_attribute, make_workspace
from rolodex.db import Database

GROUPS = "/api/v1/contact-groups"


def _rule(operator: str, value: Any) -> dict[str, Any]:
    return {"attribute": "country", "operator": operator, "value": value}


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([_rule("is", "x" * 501)], "rules.0.value"),
        ([_rule("is", "es"), _rule("contains", "y" * 501)], "rules.1.value"),
        ([_rule("any_of", [f"c{n}" for n in range(101)])], "rules.0.value"),
        ([_rule("any_of", ["es", "z" * 501])], "rules.0.value.1"),
        ([_rule("is", f"c{n}") for n in range(51)], "rules"),
    ],
)
async def test_rule_values_are_bounded(
    client: httpx.AsyncClient, db: Database, rules: list[dict[str, Any]], field: str
) -> None:
    admin = await make_workspace(db)
    await make_attribute(client, admin, label="Country", key="country")
    created = await client.post(GROUPS, json={"name": "Big", "rules": rules}, headers=admin.headers)
    assert created.status_code == 422, created.text
    assert field in [e["field"] for e in created.json()["errors"]]
    fine = {"name": "Fine", "rules": [_rule("is", "x" * 500), _rule("any_of", ["es"] * 100)]}
    made = await client.post(GROUPS, json=fine, headers=admin.headers)
    assert made.status_code == 201, made.text
    updated = await client.patch(
        f"{GROUPS}/{made.json()['key']}", json={"rules": rules}, headers=admin.headers
    )
    assert updated.status_code == 422, updated.text
    assert field in [e["field"] for e in updated.json()["errors"]]

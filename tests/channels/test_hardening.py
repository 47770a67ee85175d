"""Inbound times carry a zone: a naive `sent_at` is a 422 naming it."""

from __future__ import annotations

import httpx

from builders import inbound_body, make_channel, make_workspace
from rolodex.db import Database


async def test_a_naive_sent_at_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin)
    path = f"/api/v1/channels/{chat}/inbound"
    naive = inbound_body("ana", sent_at="2020-01-01T00:00:00")
    refused = await client.post(path, json=naive, headers=admin.headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["sent_at"]
    for zoned in ("2020-01-01T00:00:00Z", "2020-01-01T02:00:00+02:00"):
        accepted = await client.post(
            path, json=inbound_body("ana", sent_at=zoned), headers=admin.headers
        )
        assert accepted.status_code == 201, accepted.text

"""Registering bots (SPEC R13.1): settings, the hex secret, client credentials and both token
paths (the current and the former one), admins of Enterprise workspaces only."""

from __future__ import annotations

import base64

import httpx

from builders import make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.db import Database
from rolodex.plans import Plan


def _bot(channel_id: str, **extra: object) -> dict[str, object]:
    return {
        "name": "Concierge",
        "webhook_url": "https://bots.example.com/events",
        "activation": "inception",
        "channel_ids": [channel_id],
        **extra,
    }


async def test_admins_register_bots_with_a_secret_and_credentials(
    db: Database, client: httpx.AsyncClient
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "webchat", "Chat")
    created = await client.post("/api/v1/bots", json=_bot(channel_id), headers=admin.headers)
    assert created.status_code == 201, created.text
    bot = created.json()
    assert bot["display_name"] == "Concierge VA"
    assert len(bot["secret"]) == 64
    int(bot["secret"], 16)  # hex
    assert (bot["handoff"], bot["on_error"], bot["response_timeout_seconds"]) == (
        "new_queue",
        "new",
        300,
    )

    changed = await client.patch(
        f"/api/v1/bots/{bot['id']}",
        json={"activation": "delegation", "response_timeout_seconds": 30},
        headers=admin.headers,
    )
    assert changed.json()["activation"] == "delegation"
    rotated = await client.post(f"/api/v1/bots/{bot['id']}/secret", headers=admin.headers)
    assert rotated.json()["secret"] != bot["secret"]
    listed = await client.get("/api/v1/bots", headers=admin.headers)
    assert [b["id"] for b in listed.json()["items"]] == [bot["id"]]

    # Client credentials: a token at /oauth2/token (HTTP Basic) and at the former path (form).
    credentials = (
        await client.post(f"/api/v1/bots/{bot['id']}/credentials", headers=admin.headers)
    ).json()
    pair = f"{credentials['client_id']}:{credentials['client_secret']}".encode()
    basic = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    current = await client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, headers=basic
    )
    assert current.status_code == 200, current.text
    former = await client.post(
        "/virtual-agent/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "client-read", **credentials},
    )
    assert former.status_code == 200, former.text
    assert former.json()["token_type"] == "bearer"

    # Removing the bot revokes its credentials.
    deleted = await client.delete(f"/api/v1/bots/{bot['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    again = await client.post(
        "/virtual-agent/oauth2/token", data={"grant_type": "client_credentials", **credentials}
    )
    assert again.status_code == 401
    assert (await client.get(f"/api/v1/bots/{bot['id']}", headers=admin.headers)).status_code == 404


async def test_bad_settings_agents_and_smaller_plans_are_refused(
    db: Database, client: httpx.AsyncClient
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "webchat", "Chat")
    unknown = await client.post("/api/v1/bots", json=_bot("ch_nope"), headers=admin.headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "channel_ids.0"
    unsafe = await client.post(
        "/api/v1/bots",
        json=_bot(channel_id, webhook_url="http://169.254.169.254/latest"),
        headers=admin.headers,
    )
    assert unsafe.status_code == 422
    assert unsafe.json()["errors"][0]["field"] == "webhook_url"
    bad = await client.post(
        "/api/v1/bots",
        json=_bot(channel_id, activation="sometimes", response_timeout_seconds=5000),
        headers=admin.headers,
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"activation", "response_timeout_seconds"} <= fields

    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    refused = await client.post("/api/v1/bots", json=_bot(channel_id), headers=agent.headers)
    assert refused.status_code == 403
    small = await make_workspace(db, plan=Plan.BUSINESS, name="Small")
    small_channel = await make_channel(db, small, "webchat", "Chat")
    gated = await client.post("/api/v1/bots", json=_bot(small_channel), headers=small.headers)
    assert gated.status_code == 403

    # A CRM's credentials never get a token at the virtual-agent path.
    crm = await client.post("/api/v1/integrations/crm/credentials", json={}, headers=admin.headers)
    assert crm.status_code == 201, crm.text
    form = {
        "grant_type": "client_credentials",
        "client_id": crm.json()["client_id"],
        "client_secret": crm.json()["client_secret"],
    }
    assert (await client.post("/virtual-agent/oauth2/token", data=form)).status_code == 401
    assert (await client.post("/oauth2/token", data=form)).status_code == 200

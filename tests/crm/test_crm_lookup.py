"""CRM look-ups against the reference CRM over real HTTP on loopback (R6, B2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import httpx

from builders import inbound_body
from rolodex.config import Settings
from rolodex.db import Database
from support.crm import Connected, connect, run_jobs
from support.reference_crm import ReferenceCrm


def assert_all_signed(connected: Connected, at_least: int = 1) -> None:
    """An independent check: every request's signature is HMAC-SHA256 with the hex key."""
    requests = connected.crm.requests()
    assert len(requests) >= at_least
    key = bytes.fromhex(connected.secret)
    for request in requests:
        expected = hmac.new(key, request["body"], hashlib.sha256).hexdigest()
        assert request["headers"]["x-hootsuite-signature"] == expected, request["path"]
        assert request["headers"]["x-sparkcentral-signature"] == expected
        assert request["signature_ok"] == 1


async def _inbound(client: httpx.AsyncClient, c: Connected, sender: str, **attrs: str) -> str:
    response = await client.post(
        f"/api/v1/channels/{c.channel_id}/inbound",
        json=inbound_body(sender, attributes=attrs),
        headers=c.admin.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["contact_id"])


async def _contact(client: httpx.AsyncClient, c: Connected, contact_id: str) -> dict[str, str]:
    response = await client.get(f"/api/v1/contacts/{contact_id}", headers=c.agent.headers)
    assert response.status_code == 200
    attributes: dict[str, str] = response.json()["attributes"]
    return attributes


async def _crm_state(client: httpx.AsyncClient, c: Connected, contact_id: str) -> dict[str, object]:
    response = await client.get(f"/api/v1/contacts/{contact_id}/crm", headers=c.agent.headers)
    assert response.status_code == 200, response.text
    state: dict[str, object] = response.json()
    return state


async def test_an_inbound_lookup_value_fills_crm_managed_attributes(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    contact_id = await _inbound(client, connected, "v1", email="Maria@Example.com")
    assert await run_jobs(settings, db) >= 1
    values = await _contact(client, connected, contact_id)
    assert values["customer_id"] == "C-1001"
    assert values["tier"] == "gold"
    assert values["account_manager"] == "Sam Lee"
    state = await _crm_state(client, connected, contact_id)
    assert state["validated"] is True
    assert state["last_outcome"] == "updated"
    assert state["last_lookup_at"] is not None
    (lookup,) = connected.crm.requests("/lookup")
    assert json.loads(lookup["body"]) == {"webchat-email": "Maria@Example.com"}
    assert lookup["headers"]["x-rolodex-contact-profile-id"] == contact_id
    history = await client.get(
        f"/api/v1/contacts/{contact_id}/history?key=tier", headers=connected.agent.headers
    )
    assert history.json()["items"][0]["source"] == "crm"
    # The same message again changes no lookup value: no second look-up.
    await _inbound(client, connected, "v1", email="Maria@Example.com")
    await run_jobs(settings, db)
    assert len(connected.crm.requests("/lookup")) == 1
    assert_all_signed(connected)


async def test_without_auto_confirm_values_wait_for_confirm(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    connected.crm.behave(auto_confirm=False)
    contact_id = await _inbound(client, connected, "v1", email="jon@example.com")
    await run_jobs(settings, db)
    assert "tier" not in await _contact(client, connected, contact_id)
    conversation = await client.get(
        f"/api/v1/conversations?contact_id={contact_id}", headers=connected.agent.headers
    )
    conversation_id = conversation.json()["items"][0]["id"]
    tab = await client.get(
        f"/api/v1/conversations/{conversation_id}/contact-tab", headers=connected.agent.headers
    )
    body = tab.json()
    assert body["crm"]["last_outcome"] == "pending_confirmation"
    assert body["crm"]["validated"] is False
    tier = next(a for a in body["attributes"] if a["key"] == "tier")
    assert (tier["pending"], tier["pending_value"], tier["value"]) == (True, "silver", None)
    assert tier["crm_managed"] is True
    assert tier["editable"] is False
    confirmed = await client.post(
        f"/api/v1/contacts/{contact_id}/crm/confirm", headers=connected.agent.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    assert "tier" in confirmed.json()["applied"]
    values = await _contact(client, connected, contact_id)
    assert (values["tier"], values["customer_id"]) == ("silver", "C-1002")
    state = await _crm_state(client, connected, contact_id)
    assert (state["validated"], state["pending"]) == (True, None)
    again = await client.post(
        f"/api/v1/contacts/{contact_id}/crm/confirm", headers=connected.agent.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "nothing_pending"


async def test_a_null_clears_and_an_invalid_value_is_skipped_and_notified(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    contact_id = await _inbound(client, connected, "v1", email="aiko@example.com")
    await run_jobs(settings, db)
    assert (await _contact(client, connected, contact_id))["tier"] == "bronze"
    # The CRM now sends a tier outside the options, a null manager and no plan at all.
    connected.crm.http.post(
        "/_admin/customers",
        json={
            "customer_id": "C-1003",
            "email": "aiko@example.com",
            "attributes": {"tier": "platinum", "account_manager": None},
        },
    ).raise_for_status()
    pressed = await client.post(
        f"/api/v1/contacts/{contact_id}/crm/lookup", headers=connected.agent.headers
    )
    assert pressed.status_code == 202, pressed.text
    assert pressed.json()["last_outcome"] == "queued"
    await run_jobs(settings, db)
    values = await _contact(client, connected, contact_id)
    assert values["tier"] == "bronze"  # the invalid value is skipped, the old one kept
    assert "account_manager" not in values  # null: cleared
    assert "plan" not in values  # missing: cleared
    assert values["customer_id"] == "C-1003"
    notifications = connected.crm.get("notifications")
    assert {n["eventType"] for n in notifications} == {"DATA_IMPORT_ERROR"}
    assert {n["version"] for n in notifications} == {2}
    messages = [m for n in notifications for m in n["messages"]]
    # The seed's first_name is no attribute here; the tier is outside the options.
    assert any("'first_name'" in m and "no such attribute" in m for m in messages)
    assert any("'tier'" in m and "must be one of" in m for m in notifications[-1]["messages"])
    assert_all_signed(connected, at_least=3)


async def test_a_lookup_failure_is_shown_and_not_found_leaves_values(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    contact_id = await _inbound(client, connected, "v1", email="nobody@example.com")
    await run_jobs(settings, db)
    state = await _crm_state(client, connected, contact_id)
    assert state["last_outcome"] == "not_found"
    assert "404" in str(state["last_error"])
    bare = await _inbound(client, connected, "v2")
    refused = await client.post(
        f"/api/v1/contacts/{bare}/crm/lookup", headers=connected.agent.headers
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_lookup_values"


async def test_the_answer_can_come_later_through_put_with_an_oauth2_token(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    connected.crm.behave(defer=True, defer_delay_seconds=60)
    contact_id = await _inbound(client, connected, "v1", email="li.wei@example.com")
    await run_jobs(settings, db)
    assert (await _crm_state(client, connected, contact_id))["last_outcome"] == "waiting_for_crm"
    created = await client.post(
        "/api/v1/integrations/crm/credentials",
        json={"name": "Acme CRM"},
        headers=connected.admin.headers,
    )
    assert created.status_code == 201, created.text
    client_id, secret = created.json()["client_id"], created.json()["client_secret"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "bearer"
    access = token.json()["access_token"]
    body = {
        "autoConfirm": True,
        "contactAttributes": [
            {"attribute": "customer_id", "value": "C-1004"},
            {"attribute": "tier", "value": "gold"},
        ],
    }
    path = f"/inbox/v2/contact/{contact_id}/contact-attributes"
    refused = await client.put(path, json=body, headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    wrong = base64.b64encode(f"{client_id}:wrong".encode()).decode()
    bad = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {wrong}"},
    )
    assert bad.status_code == 401
    agent_try = await client.put(path, json=body, headers=connected.agent.headers)
    assert agent_try.status_code == 403
    put = await client.put(path, json=body, headers={"Authorization": f"Bearer {access}"})
    assert put.status_code == 200, put.text
    assert sorted(put.json()["applied"]) == ["customer_id", "tier"]
    assert put.json()["cleared"] == []  # nothing was set yet, so nothing to clear
    values = await _contact(client, connected, contact_id)
    assert (values["customer_id"], values["tier"]) == ("C-1004", "gold")
    missing = await client.put(
        "/inbox/v2/contact/ct_missing/contact-attributes",
        json=body,
        headers={"Authorization": f"Bearer {access}"},
    )
    assert missing.status_code == 404
    # Revoked credentials take their tokens with them.
    revoked = await client.delete(
        f"/api/v1/integrations/crm/credentials/{client_id}", headers=connected.admin.headers
    )
    assert revoked.status_code == 204
    after = await client.put(path, json=body, headers={"Authorization": f"Bearer {access}"})
    assert after.status_code == 401


async def test_oauth2_auth_fetches_a_token_caches_it_and_retries_once_on_401(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    connected: Connected,
    tmp_path: Path,
) -> None:
    guarded = ReferenceCrm(
        connected.secret, tmp_path / "guarded.db", "--client-id", "rolodex", "--client-secret", "pw"
    )
    try:
        auth = {
            "type": "oauth2",
            "token_url": f"{guarded.url}/oauth/token",
            "client_id": "rolodex",
            "client_secret": "pw",
            "scope": "contacts",
        }
        await connect(client, connected.admin, guarded.url, auth=auth)
        first = await _inbound(client, connected, "v1", email="maria@example.com")
        second = await _inbound(client, connected, "v2", email="jon@example.com")
        await run_jobs(settings, db)
        assert (await _contact(client, connected, first))["customer_id"] == "C-1001"
        assert (await _contact(client, connected, second))["customer_id"] == "C-1002"
        # The CRM forgets its tokens: the next call gets 401, a new token, and goes through.
        guarded.behave(revoke_tokens=True)
        pressed = await client.post(
            f"/api/v1/contacts/{first}/crm/lookup", headers=connected.agent.headers
        )
        assert pressed.status_code == 202
        await run_jobs(settings, db)
        assert (await _crm_state(client, connected, first))["last_outcome"] == "updated"
        statuses = [
            (r["path"], r["status"]) for r in guarded.requests() if r["path"] != "/notifications"
        ]
        assert statuses == [
            ("/oauth/token", 200),
            ("/lookup", 200),
            ("/lookup", 200),  # the cached token
            ("/lookup", 401),
            ("/oauth/token", 200),
            ("/lookup", 200),
        ]
        lookups = [r for r in guarded.requests("/lookup") if r["status"] == 200]
        assert all(r["headers"]["authorization"].startswith("Bearer ") for r in lookups)
    finally:
        guarded.stop()

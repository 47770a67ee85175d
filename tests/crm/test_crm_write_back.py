"""CRM write-backs: agents' edits of CRM-managed values reach the CRM on the next status
change, retried on the contract's schedule with one idempotency key, never lost (R5.2)."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import httpx
from sqlalchemy import select

from builders import inbound_body
from crm.test_crm_lookup import assert_all_signed
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import Job
from support.crm import Connected, run_jobs
from support.processes import spawn_cli


async def _conversation(client: httpx.AsyncClient, c: Connected, **attrs: str) -> dict[str, str]:
    response = await client.post(
        f"/api/v1/channels/{c.channel_id}/inbound",
        json=inbound_body("v1", attributes=attrs),
        headers=c.admin.headers,
    )
    assert response.status_code == 201, response.text
    sent: dict[str, str] = response.json()
    return sent


async def _resolve(client: httpx.AsyncClient, c: Connected, conversation_id: str) -> None:
    response = await client.patch(
        f"/api/v1/conversations/{conversation_id}",
        json={"status": "resolved", "reason": "answered", "comment": "all good"},
        headers=c.agent.headers,
    )
    assert response.status_code == 200, response.text


async def _run_until(settings: Settings, db: Database, done: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await run_jobs(settings, db)
        if callable(done) and done():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not done in time")


async def test_an_agent_edit_is_refused_until_the_switch_then_written_back(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    sent = await _conversation(client, connected, email="maria@example.com")
    await run_jobs(settings, db)
    patch = {"attributes": {"tier": "silver"}}
    path = f"/api/v1/contacts/{sent['contact_id']}/attributes"
    refused = await client.patch(path, json=patch, headers=connected.agent.headers)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "attributes.tier"
    on = await client.put(
        "/api/v1/integrations/crm",
        json={
            "lookup_url": f"{connected.crm.url}/lookup",
            "write_back_url": f"{connected.crm.url}/write-back",
            "agents_can_edit_crm_managed": True,
        },
        headers=connected.admin.headers,
    )
    assert on.status_code == 200, on.text
    assert on.json()["agents_can_edit_crm_managed"] is True
    edited = await client.patch(path, json=patch, headers=connected.agent.headers)
    assert edited.status_code == 200, edited.text
    await _resolve(client, connected, sent["conversation_id"])
    await run_jobs(settings, db)
    (stored,) = connected.crm.get("write-backs")
    body = stored["body"]
    assert body["type"] == "CONVERSATION_RESOLVED"
    assert body["version"] == 1
    data = body["data"]
    assert data["conversation"]["id"] == sent["conversation_id"]
    assert data["conversation"]["previousStatus"] == "new"
    assert data["conversation"]["currentStatus"] == "resolved"
    assert (data["statusUpdatedReason"], data["statusUpdatedComment"]) == ("answered", "all good")
    assert data["medium"] == {"id": "rtm"}
    assert data["agent"]["id"] == connected.agent.user_id
    assert data["contactProfile"]["id"] == sent["contact_id"]
    assert [m["direction"] for m in data["messages"]] == ["INBOUND"]
    attributes = {a["attribute"]: a for a in data["contactAttributes"]}
    assert attributes["tier"] == {"attribute": "tier", "value": "silver", "source": "AGENT"}
    assert attributes["customer_id"]["source"] == "CRM_CONFIRMED"
    assert attributes["webchat-email"]["source"] == "MEDIUM"
    # The reference CRM took the agent's edit into its own record.
    customer = next(c for c in connected.crm.get("customers") if c["customer_id"] == "C-1001")
    assert customer["attributes"]["tier"] == "silver"
    assert_all_signed(connected, at_least=2)


async def test_a_crm_down_for_three_attempts_gets_the_event_once_with_one_key(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    sent = await _conversation(client, connected)
    connected.crm.behave(fail_next=3, fail_paths=["/write-back"])
    await _resolve(client, connected, sent["conversation_id"])
    await _run_until(settings, db, lambda: connected.crm.get("write-backs"), 15)
    (stored,) = connected.crm.get("write-backs")
    attempts = connected.crm.requests("/write-back")
    assert [a["status"] for a in attempts] == [503, 503, 503, 200]
    keys = {json.loads(a["body"])["idempotencyKey"] for a in attempts}
    assert keys == {stored["idempotency_key"]}
    assert len({a["body"] for a in attempts}) == 1  # the same bytes every time
    deliveries = await client.get(
        "/api/v1/integrations/crm/deliveries", headers=connected.admin.headers
    )
    (delivery,) = deliveries.json()["items"]
    assert (delivery["status"], delivery["attempts"]) == ("done", 4)
    assert delivery["idempotency_key"] == stored["idempotency_key"]


async def test_after_six_failures_the_delivery_is_failed_listed_and_retried_now(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    sent = await _conversation(client, connected)
    connected.crm.behave(fail_next=6, fail_paths=["/write-back"])
    await _resolve(client, connected, sent["conversation_id"])
    listed = "/api/v1/integrations/crm/deliveries?status=failed"

    async def failed() -> list[dict[str, object]]:
        response = await client.get(listed, headers=connected.admin.headers)
        items: list[dict[str, object]] = response.json()["items"]
        return items

    deadline = time.monotonic() + 20
    while not await failed():
        assert time.monotonic() < deadline, "the delivery never failed"
        await run_jobs(settings, db)
        await asyncio.sleep(0.1)
    (delivery,) = await failed()
    assert delivery["attempts"] == 6
    assert "503" in str(delivery["last_error"])
    assert len(connected.crm.requests("/write-back")) == 6
    assert connected.crm.get("write-backs") == []
    retried = await client.post(
        f"/api/v1/integrations/crm/deliveries/{delivery['id']}/retry",
        headers=connected.admin.headers,
    )
    assert retried.status_code == 200, retried.text
    await run_jobs(settings, db)
    assert len(connected.crm.get("write-backs")) == 1
    assert await failed() == []


async def test_a_worker_killed_mid_delivery_delivers_after_restart(
    client: httpx.AsyncClient, db: Database, settings: Settings, connected: Connected
) -> None:
    sent = await _conversation(client, connected)
    connected.crm.behave(delay_seconds=30)
    await _resolve(client, connected, sent["conversation_id"])
    env = {"ROLODEX_ALLOW_PRIVATE_WEBHOOK_TARGETS": "1", "ROLODEX_CRM_JOB_LEASE_SECONDS": "3"}
    put = await client.put(
        "/api/v1/integrations/crm",
        json={
            "lookup_url": f"{connected.crm.url}/lookup",
            "write_back_url": f"{connected.crm.url}/write-back",
            "timeout_seconds": 2,
        },
        headers=connected.admin.headers,
    )
    assert put.status_code == 200
    worker = spawn_cli(settings, "worker", **env)
    try:
        deadline = time.monotonic() + 20
        while True:
            async with db.reader() as session:
                job = (
                    await session.execute(select(Job).where(Job.kind == "crm.write_back"))
                ).scalar_one()
            if job.status == "running":
                break
            assert time.monotonic() < deadline, "the worker never took the delivery"
            await asyncio.sleep(0.1)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    connected.crm.behave(delay_seconds=0)
    restarted = spawn_cli(settings, "worker", **env)
    try:
        deadline = time.monotonic() + 30
        while not connected.crm.get("write-backs"):
            assert time.monotonic() < deadline, "not delivered after the restart"
            await asyncio.sleep(0.2)
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
    (stored,) = connected.crm.get("write-backs")
    assert stored["type"] == "CONVERSATION_RESOLVED"

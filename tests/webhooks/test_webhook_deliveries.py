"""Webhook deliveries (B8) to the reference receiver, a real process on loopback: signed per
Standard Webhooks, at least once with one `webhook-id`, retried, logged, retried by hand, and
a webhook that keeps failing for 3 days is disabled."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from rolodex.config import Settings
from rolodex.db import Database
from rolodex.kit.clock import utcnow
from rolodex.models import Job, Webhook
from rolodex.webhooks.jobs import RETRY_DELAYS
from support.webhooks import Subscribed, make_due, run_jobs, verified


async def _send_test(client: httpx.AsyncClient, s: Subscribed) -> dict[str, object]:
    response = await client.post(f"{s.path}/test", headers=s.admin.headers)
    assert response.status_code == 202, response.text
    delivery: dict[str, object] = response.json()
    assert delivery["event"] == "webhook.test"
    assert delivery["status"] == "queued"
    return delivery


async def _deliveries(
    client: httpx.AsyncClient, s: Subscribed, status: str | None = None
) -> list[dict[str, object]]:
    query = f"?status={status}" if status else ""
    response = await client.get(f"{s.path}/deliveries{query}", headers=s.admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_a_test_event_is_delivered_signed_and_logged(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    sent = await _send_test(client, subscribed)
    assert await run_jobs(settings, db) == 1
    (delivery,) = verified(subscribed.receiver, subscribed.webhook["secret"])
    event, headers = delivery["event"], delivery["headers"]
    assert event["type"] == "webhook.test"
    assert event["data"]["webhook_id"] == subscribed.webhook["id"]
    assert event["timestamp"].endswith("Z")
    assert headers["webhook-id"] == sent["message_id"]
    assert headers["webhook-signature"].startswith("v1,")
    assert abs(int(headers["webhook-timestamp"]) - utcnow().timestamp()) < 60
    assert headers["content-type"] == "application/json"
    (stored,) = subscribed.receiver.events()
    assert stored["webhook_id"] == sent["message_id"]

    (logged,) = await _deliveries(client, subscribed, "done")
    assert logged["id"] == sent["id"]
    assert logged["status"] == "done"
    assert logged["attempts"] == 1
    assert logged["last_error"] is None
    assert logged["finished_at"] is not None
    assert logged["next_attempt_at"] is None
    assert await _deliveries(client, subscribed, "failed") == []


async def test_a_receiver_down_three_times_gets_it_once_with_one_webhook_id(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    subscribed.receiver.fail_next(3)
    sent = await _send_test(client, subscribed)
    for attempt in (1, 2, 3):
        await run_jobs(settings, db)
        (waiting,) = await _deliveries(client, subscribed)
        assert waiting["status"] == "queued"
        assert waiting["attempts"] == attempt
        assert "503" in str(waiting["last_error"])
        # The schedule: about 30 s, 2 min, 10 min after each failure.
        due = waiting["next_attempt_at"]
        assert isinstance(due, str)
        wait = RETRY_DELAYS[attempt - 1].total_seconds()
        ahead = (utcnow() - timedelta(seconds=wait)).isoformat()
        assert due.replace("Z", "+00:00") > ahead
        assert await run_jobs(settings, db) == 0  # not due yet
        webhook = await client.get(subscribed.path, headers=subscribed.admin.headers)
        assert webhook.json()["failing_since"] is not None
        await make_due(db)
    await run_jobs(settings, db)
    (done,) = await _deliveries(client, subscribed)
    assert done["status"] == "done"
    assert done["attempts"] == 4

    requests = subscribed.receiver.requests()
    assert [r["status"] for r in requests] == [503, 503, 503, 200]
    assert {r["headers"]["webhook-id"] for r in requests} == {sent["message_id"]}
    assert len({r["body"] for r in requests}) == 1  # the same bytes on every attempt
    for delivery in verified(subscribed.receiver, subscribed.webhook["secret"]):
        assert delivery["event"]["type"] == "webhook.test"
    (stored,) = subscribed.receiver.events()
    assert stored["deliveries"] == 1
    webhook = await client.get(subscribed.path, headers=subscribed.admin.headers)
    assert webhook.json()["failing_since"] is None  # a success resets the failing run

    # At least once: a worker that died after sending sends again; the receiver keeps one.
    async with db.transaction() as session:
        await session.execute(
            update(Job).where(Job.id == sent["id"]).values(status="queued", run_at=utcnow())
        )
    await run_jobs(settings, db)
    again = subscribed.receiver.requests()[-1]
    assert again["headers"]["webhook-id"] == sent["message_id"]
    assert again["body"] == requests[0]["body"]
    assert json.loads(again["body"])["type"] == "webhook.test"
    (stored,) = subscribed.receiver.events()
    assert stored["deliveries"] == 2


async def test_a_delivery_that_ran_out_of_attempts_is_failed_and_retried_by_hand(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    subscribed.receiver.fail_next(len(RETRY_DELAYS) + 1, status=500)
    sent = await _send_test(client, subscribed)
    for _ in range(len(RETRY_DELAYS) + 1):
        await make_due(db)
        await run_jobs(settings, db)
    (failed,) = await _deliveries(client, subscribed, "failed")
    assert failed["attempts"] == failed["max_attempts"] == len(RETRY_DELAYS) + 1
    assert "500" in str(failed["last_error"])
    assert subscribed.receiver.events() == []

    retry = f"{subscribed.path}/deliveries/{sent['id']}/retry"
    retried = await client.post(retry, headers=subscribed.admin.headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "queued"
    await run_jobs(settings, db)
    (done,) = await _deliveries(client, subscribed, "done")
    assert done["id"] == sent["id"]
    (stored,) = subscribed.receiver.events()
    assert stored["webhook_id"] == sent["message_id"]
    again = await client.post(retry, headers=subscribed.admin.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "delivery_not_retryable"
    missing = await client.post(
        f"{subscribed.path}/deliveries/job_nope/retry", headers=subscribed.admin.headers
    )
    assert missing.status_code == 404


async def test_a_rotated_secret_signs_the_next_attempt(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    subscribed.receiver.fail_next(1)
    await _send_test(client, subscribed)
    await run_jobs(settings, db)
    rotated = await client.post(f"{subscribed.path}/secret", headers=subscribed.admin.headers)
    secret = rotated.json()["secret"]
    subscribed.receiver.use_secrets(secret)
    await make_due(db)
    await run_jobs(settings, db)
    last = subscribed.receiver.requests()[-1]
    assert last["status"] == 200
    assert last["verified"] is True
    (stored,) = subscribed.receiver.events()
    assert stored["type"] == "webhook.test"


async def test_a_webhook_failing_for_three_days_is_disabled(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    subscribed.receiver.fail_next(100)
    await _send_test(client, subscribed)
    await _send_test(client, subscribed)
    await run_jobs(settings, db)
    webhook = (await client.get(subscribed.path, headers=subscribed.admin.headers)).json()
    assert webhook["enabled"] is True
    assert webhook["failing_since"] is not None

    # Two days of failures: still on.
    async with db.transaction() as session:
        two_days = utcnow() - timedelta(days=2)
        await session.execute(
            update(Webhook)
            .where(Webhook.id == subscribed.webhook["id"])
            .values(failing_since=two_days)
        )
    await make_due(db)
    await run_jobs(settings, db)
    webhook = (await client.get(subscribed.path, headers=subscribed.admin.headers)).json()
    assert webhook["enabled"] is True

    # Its oldest unbroken failure is now older than 3 days: the next failure disables it.
    async with db.transaction() as session:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == subscribed.webhook["id"])
            .values(failing_since=utcnow() - timedelta(days=3, minutes=1))
        )
    await make_due(db)
    await run_jobs(settings, db)
    webhook = (await client.get(subscribed.path, headers=subscribed.admin.headers)).json()
    assert webhook["enabled"] is False
    assert "3 days" in webhook["disabled_reason"]
    assert "503" in webhook["disabled_reason"]
    # Nothing more is attempted: the failing attempt and the waiting delivery end cancelled.
    statuses = [d["status"] for d in await _deliveries(client, subscribed)]
    assert statuses == ["cancelled", "cancelled"]
    sent_before = len(subscribed.receiver.requests())
    await make_due(db)
    await run_jobs(settings, db)
    assert len(subscribed.receiver.requests()) == sent_before  # nothing goes to it now
    refused = await client.post(f"{subscribed.path}/test", headers=subscribed.admin.headers)
    assert refused.status_code == 409

    # The admin fixes the receiver and enables it again: the reason and the failing run go.
    subscribed.receiver.fail_next(0)
    on = await client.patch(
        subscribed.path, json={"enabled": True}, headers=subscribed.admin.headers
    )
    assert on.status_code == 200
    assert on.json()["disabled_reason"] is None
    assert on.json()["failing_since"] is None
    (cancelled, *_) = await _deliveries(client, subscribed, "cancelled")
    retried = await client.post(
        f"{subscribed.path}/deliveries/{cancelled['id']}/retry", headers=subscribed.admin.headers
    )
    assert retried.status_code == 200
    await run_jobs(settings, db)
    assert subscribed.receiver.events()


async def test_a_deleted_webhook_gets_nothing_more(
    client: httpx.AsyncClient, db: Database, settings: Settings, subscribed: Subscribed
) -> None:
    await _send_test(client, subscribed)
    deleted = await client.delete(subscribed.path, headers=subscribed.admin.headers)
    assert deleted.status_code == 204
    await run_jobs(settings, db)
    assert subscribed.receiver.requests() == []
    async with db.reader() as session:
        rows = await session.execute(select(Job.status).where(Job.kind == "webhooks.deliver"))
        assert [r[0] for r in rows] == ["cancelled"]

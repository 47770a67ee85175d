"""Webhook test helpers: a subscribed workspace, running deliveries, moving time, verifying."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import update
from standardwebhooks import Webhook as Verifier

from builders import Actor
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.kit.clock import utcnow
from rolodex.models import Job
from rolodex.webhooks.schemas import EventType
from rolodex.worker import Worker
from support.webhook_receiver import WebhookReceiver

ALL_EVENTS = [e.value for e in EventType]


@dataclass
class Subscribed:
    """A Business workspace, an agent, a channel, and a webhook pointing at the receiver."""

    admin: Actor
    agent: Actor
    channel_id: str
    webhook: dict[str, Any]
    receiver: WebhookReceiver

    @property
    def path(self) -> str:
        """The webhook's API path."""
        return f"/api/v1/webhooks/{self.webhook['id']}"


async def create_webhook(
    client: httpx.AsyncClient, admin: Actor, url: str, events: Sequence[str] = ALL_EVENTS
) -> dict[str, Any]:
    """POST a webhook and return it."""
    body = {"url": url, "events": list(events), "description": "test receiver"}
    response = await client.post("/api/v1/webhooks", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def run_jobs(settings: Settings, db: Database) -> int:
    """Run every due job to completion, in this process."""
    return await Worker(db, settings).run_until_idle()


async def make_due(db: Database) -> None:
    """Move time: every waiting delivery is due now (instead of in 30 s, 2 min, …)."""
    async with db.transaction() as session:
        stmt = (
            update(Job)
            .where(Job.kind == "webhooks.deliver", Job.status == "queued")
            .values(run_at=utcnow())
        )
        await session.execute(stmt)


def verified(receiver: WebhookReceiver, secret: str) -> list[dict[str, Any]]:
    """Every delivery the receiver got, each checked with standardwebhooks' own verify."""
    out = []
    for request in receiver.requests():
        event = Verifier(secret).verify(request["body"], request["headers"])
        out.append({"event": event, "headers": request["headers"], "status": request["status"]})
    return out

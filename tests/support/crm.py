"""CRM test helpers: a workspace connected to the reference CRM, running jobs."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from builders import Actor
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.worker import Worker
from support.reference_crm import ReferenceCrm


@dataclass
class Connected:
    """An enterprise workspace connected to a running reference CRM."""

    admin: Actor
    agent: Actor
    channel_id: str
    crm: ReferenceCrm
    secret: str


async def connect(
    client: httpx.AsyncClient, admin: Actor, crm_url: str, **extra: object
) -> dict[str, object]:
    """PUT the integration pointing at the reference CRM's endpoints."""
    body = {
        "lookup_url": f"{crm_url}/lookup",
        "write_back_url": f"{crm_url}/write-back",
        "notification_url": f"{crm_url}/notifications",
        **extra,
    }
    response = await client.put("/api/v1/integrations/crm", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def run_jobs(settings: Settings, db: Database) -> int:
    """Run every due job to completion."""
    return await Worker(db, settings).run_until_idle()

"""CRM test fixtures: settings that allow loopback targets and short retries, the reference
CRM as a real process, and a connected enterprise workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from builders import make_attribute, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from support.crm import Connected, connect
from support.reference_crm import ReferenceCrm

UNIT = 0.2  # seconds per write-back retry "hour"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Test settings, with loopback webhook targets allowed and fast write-back retries."""
    return settings.model_copy(
        update={
            "allow_private_webhook_targets": True,
            "write_back_retry_unit_seconds": UNIT,
            "crm_job_lease_seconds": 3,
        }
    )


@pytest.fixture
async def connected(
    client: httpx.AsyncClient, db: Database, tmp_path: Path
) -> AsyncIterator[Connected]:
    """Custom CRM-managed attributes, web chat's email as the lookup attribute, the CRM up."""
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel_id = await make_channel(db, admin, "webchat")
    for key, extra in (
        ("customer_id", {}),
        ("tier", {"type": "dropdown", "options": ["gold", "silver", "bronze"]}),
        ("account_manager", {}),
        ("plan", {}),
    ):
        await make_attribute(client, admin, label=key, key=key, **extra)
        patch = {"crm_managed": True, "lookup": key == "customer_id"}
        response = await client.patch(
            f"/api/v1/attributes/{key}", json=patch, headers=admin.headers
        )
        assert response.status_code == 200, response.text
    response = await client.patch(
        "/api/v1/attributes/webchat-email", json={"lookup": True}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    first = await connect(client, admin, "http://127.0.0.1:9")
    secret = str(first["shared_secret"])
    crm = ReferenceCrm(secret, tmp_path / "crm.db")
    try:
        await connect(client, admin, crm.url)
        yield Connected(admin, agent, channel_id, crm, secret)
    finally:
        crm.stop()

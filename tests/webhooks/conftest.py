"""Webhook test fixtures: loopback targets allowed, the reference receiver as a real process,
and a Business workspace whose webhook points at it."""

from __future__ import annotations

import httpx
import pytest

from builders import make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.plans import Plan
from support.webhook_receiver import WebhookReceiver
from support.webhook_receiver import receiver as receiver
from support.webhooks import Subscribed, create_webhook


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Test settings with loopback webhook targets allowed (the receiver runs on 127.0.0.1)."""
    return settings.model_copy(update={"allow_private_webhook_targets": True})


@pytest.fixture
async def subscribed(
    client: httpx.AsyncClient, db: Database, receiver: WebhookReceiver
) -> Subscribed:
    """Every event of a Business workspace goes to the running receiver."""
    admin = await make_workspace(db, Plan.BUSINESS)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel_id = await make_channel(db, admin, "webchat")
    webhook = await create_webhook(client, admin, f"{receiver.url}/hooks/rolodex")
    receiver.use_secrets(webhook["secret"])
    return Subscribed(admin, agent, channel_id, webhook, receiver)

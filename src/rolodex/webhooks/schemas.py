"""Webhook schemas: the subscription an admin manages, and its deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from rolodex.jobs.schemas import DeliveryStatus
from rolodex.schemas import InputModel, OutputModel

Url = Annotated[str, Field(min_length=1, max_length=2000)]
Description = Annotated[str, Field(max_length=500)]


class EventType(StrEnum):
    """An event a webhook can subscribe to."""

    CONTACT_CREATED = "contact.created"
    CONTACT_UPDATED = "contact.updated"
    CONTACT_DELETED = "contact.deleted"
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_UPDATED = "conversation.updated"
    MESSAGE_CREATED = "message.created"


# Sent only on an admin's request (`POST …/test`); nobody subscribes to it.
TEST_EVENT = "webhook.test"

Events = Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]


class WebhookCreate(InputModel):
    """A new webhook: where to post and which events."""

    url: Url
    events: Events
    description: Description = ""
    enabled: bool = True


class WebhookUpdate(InputModel):
    """Changes to a webhook; fields left out stay as they are. Enabling clears the reason."""

    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    enabled: bool | None = None


class WebhookRead(OutputModel):
    """A webhook, with its signing secret (admins only see webhooks)."""

    id: str
    url: str
    events: list[EventType]
    description: str
    enabled: bool
    secret: str
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class SecretRead(OutputModel):
    """A webhook's (new) signing secret."""

    secret: str


class DeliveryRead(OutputModel):
    """One event sent to a webhook: its `webhook-id`, attempts and outcome."""

    id: str
    webhook_id: str
    event: str
    # The `webhook-id` header, the same on every attempt (receivers de-duplicate by it).
    message_id: str
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None

"""Channel and inbound message schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from rolodex.catalogue import Medium
from rolodex.schemas import InputModel, Instant, Name, OutputModel


class ChannelCreate(InputModel):
    """A new channel."""

    medium: Medium
    name: Name


class ChannelUpdate(InputModel):
    """Rename, disable (enabled: false) or archive a channel; each field optional."""

    name: Name | None = None
    enabled: bool | None = None
    archived: bool | None = None


class ChannelRead(OutputModel):
    """A channel."""

    id: str
    medium: Medium
    name: str
    enabled: bool
    archived: bool
    created_at: datetime


class InboundSender(InputModel):
    """The platform user who wrote: their platform id and platform attributes by short name."""

    id: Annotated[str, Field(min_length=1, max_length=200)]
    attributes: Annotated[
        dict[Annotated[str, Field(max_length=100)], Any], Field(max_length=50)
    ] = {}


class InboundAttachment(InputModel):
    """A file sent with a message, base64 encoded."""

    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_type: Annotated[str, Field(min_length=1, max_length=200)] = "application/octet-stream"
    content_base64: str


class InboundMessage(InputModel):
    """A message received on a channel (SPEC "Channels and inbound messages")."""

    external_message_id: Annotated[str, Field(min_length=1, max_length=200)]
    sender: InboundSender
    text: Annotated[str, Field(max_length=100_000)] = ""
    attachments: Annotated[list[InboundAttachment], Field(max_length=20)] = []
    sent_at: Instant | None = None


class InboundResult(OutputModel):
    """Where an inbound message landed; `duplicate` when it had been received before."""

    message_id: str
    conversation_id: str
    contact_id: str
    duplicate: bool
    ignored_attributes: list[str] = []

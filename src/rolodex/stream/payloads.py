"""What a stream event says: a record made into the JSON a caller reads, per visibility.

There are two kinds of reader: those who see every attribute (admins and integrations) and
agents, who never see a hidden attribute's key or value. A payload is built once per event
per kind, on behalf of a synthetic principal of that kind, through the same service reads the
API answers with; the caller-specific `unread` mark is left out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.auth import principals
from rolodex.auth.principals import Principal, Role
from rolodex.conversations import service as conversations
from rolodex.errors import NotFound
from rolodex.inbox import service as inbox
from rolodex.stream.records import (
    CONTACT_DELETED,
    CONTACT_UPDATED,
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    MESSAGE_CREATED,
    MESSAGE_UPDATED,
    Record,
    iso_at,
)

Payload = dict[str, Any]


class Variant(StrEnum):
    """Which readers a payload is for."""

    ALL = "all"  # admins and integrations: every attribute
    AGENT = "agent"  # agents: hidden attributes left out


def variant_of(principal: Principal) -> Variant:
    """The payload variant a caller reads."""
    return Variant.ALL if attributes.sees_hidden(principal) else Variant.AGENT


def reader(workspace_id: str, plan: str, variant: Variant) -> Principal:
    """The synthetic principal a variant's payloads are read as (no real user or token)."""
    role = Role.ADMIN if variant is Variant.ALL else Role.AGENT
    return principals.reader(workspace_id, plan, role, "stream")


async def build(session: AsyncSession, record: Record, principal: Principal) -> Payload | None:
    """The event's JSON for this reader; None when its object is gone (the event is dropped)."""
    head: Payload = {
        "type": record["t"],
        "id": record["i"],
        "workspace_id": record["w"],
        "at": iso_at(record),
    }
    kind = record["t"]
    try:
        if kind in (CONVERSATION_CREATED, CONVERSATION_UPDATED):
            body = await _conversation(session, record, principal)
        elif kind in (MESSAGE_CREATED, MESSAGE_UPDATED):
            body = await _message(session, record, principal)
        elif kind == CONTACT_UPDATED:
            body = await _contact(session, record, principal)
        elif kind == CONTACT_DELETED:
            body = {"contact_id": record["k"]}
        else:
            return None
    except NotFound:
        return None
    return {**head, **body}


def _actor(record: Record) -> dict[str, Any] | None:
    actor = record.get("a")
    return {"kind": actor[0], "id": actor[1]} if actor else None


async def _conversation(session: AsyncSession, record: Record, principal: Principal) -> Payload:
    item = await _conversation_item(session, principal, record["c"])
    item.pop("unread", None)  # per caller: the page asks for it
    return {
        "conversation_id": record["c"],
        "contact_id": item["contact_id"],
        "conversation": item,
        "changes": record.get("ch") or {},
        "actor": _actor(record),
    }


async def _conversation_item(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> dict[str, Any]:
    item = await inbox.conversation_item(session, principal, conversation_id)
    dumped: dict[str, Any] = item.model_dump(mode="json")
    return dumped


async def _message(session: AsyncSession, record: Record, principal: Principal) -> Payload:
    message = await conversations.read_message(session, principal, record["m"])
    contact_id = record.get("k")
    if contact_id is None:
        conversation = await conversations.access_conversation_by_id(
            session, principal, message.conversation_id
        )
        contact_id = conversation.contact_id
    return {
        "conversation_id": message.conversation_id,
        "message_id": message.id,
        "contact_id": contact_id,
        "message": message.model_dump(mode="json"),
    }


async def _contact(session: AsyncSession, record: Record, principal: Principal) -> Payload:
    contact = await inbox.read_contact(session, principal, record["k"])
    changed: list[str] = []
    if record.get("d"):
        # An agent's view of the definitions names them all and says which are hidden where.
        agent = reader(principal.workspace_id, principal.plan, Variant.AGENT)
        definitions = await attributes.hidden_from(session, agent)
        hidden = (
            frozenset()
            if attributes.sees_hidden(principal)
            else definitions.ids_on(contact.channel_id)
        )
        changed = [
            definitions.keys[d] for d in record["d"] if d in definitions.keys and d not in hidden
        ]
    return {
        "contact_id": contact.id,
        "contact": contact.model_dump(mode="json"),
        "changed": sorted(changed),
        "source": record.get("s"),
        "actor": _actor(record),
    }

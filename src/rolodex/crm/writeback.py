"""The write-back event of the Inbox 2.0 CRM contract, built when a conversation's status
changes (R5.2): a snapshot, so every retry sends the same body with the same key."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.schemas import VIP_KEY
from rolodex.crm import repository
from rolodex.kit.clock import utcnow

EVENT_TYPES = {"resolved": "CONVERSATION_RESOLVED", "pending": "CONVERSATION_SET_TO_PENDING"}
# Medium ids on the wire (SPEC "Compatibility"); sms and email are ours.
MEDIUM_IDS = {
    "facebook": "fb",
    "twitter": "twit",
    "instagram": "instagram",
    "whatsapp": "whatsapp",
    "webchat": "rtm",
    "sms": "sms",
    "email": "email",
}
SOURCES = {"platform": "MEDIUM", "crm": "CRM_CONFIRMED"}  # every other source: AGENT
MESSAGES_SENT = 100
# Where a contact's second identifier comes from, by medium (the first is its display name).
_SECONDARY = {
    "whatsapp": "whatsapp-phone",
    "sms": "sms-phone",
    "email": "email-address",
    "webchat": "webchat-email",
    "instagram": "instagram-username",
}


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _agent(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    first, _, last = user.name.partition(" ")
    return {"id": user.id, "firstName": first, "lastName": last, "email": user.email}


async def build(
    session: AsyncSession,
    workspace_id: str,
    conversation_id: str,
    *,
    old: str,
    new: str,
    actor_user_id: str | None,
    reason: str | None,
    comment: str | None,
) -> tuple[dict[str, Any], str] | None:
    """The contract's body for this status change and its contact's id (None: no event)."""
    event_type = EVENT_TYPES.get(new)
    facts = await repository.write_back_facts(session, workspace_id, conversation_id)
    if event_type is None or facts is None:
        return None
    agent_id = actor_user_id or facts.assignee_id
    agent = await repository.user(session, workspace_id, agent_id) if agent_id else None
    twitter = facts.medium == "twitter"
    attributes, profile = await _contact(session, workspace_id, facts)
    messages = (
        []
        if twitter
        else [
            {"id": i, "direction": direction.upper(), "text": text}
            for i, direction, text in await repository.last_messages(
                session, workspace_id, conversation_id, MESSAGES_SENT
            )
        ]
    )
    notes, topics = await repository.notes_and_topics(session, workspace_id, conversation_id)
    body = {
        "timestamp": _iso(utcnow()),
        "idempotencyKey": str(uuid.uuid4()),
        "version": 1,
        "type": event_type,
        "data": {
            "conversation": {
                "id": facts.id,
                "createdAt": _iso(facts.created_at),
                "previousStatus": old,
                "currentStatus": new,
            },
            "medium": {"id": MEDIUM_IDS.get(facts.medium, facts.medium)},
            "channel": {"id": facts.channel_id, "name": facts.channel_name},
            "agent": _agent(agent),
            "contactProfile": profile,
            "statusUpdatedReason": reason,
            "statusUpdatedComment": comment,
            "messages": messages,
            "contactAttributes": attributes,
            "notes": notes,
            "topics": topics,
        },
    }
    return body, facts.contact_id


async def _contact(
    session: AsyncSession, workspace_id: str, facts: Any, *, enabled_only: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    # The contact's attributes and profile on the wire. Twitter's terms: no contact profile
    # and no twitter attributes.
    twitter = facts.medium == "twitter"
    values = await repository.contact_values(
        session, workspace_id, facts.contact_id, enabled_only=enabled_only
    )
    attributes = [
        {"attribute": key, "value": value, "source": SOURCES.get(source, "AGENT")}
        for key, kind, value, source in values
        if not (twitter and kind == "platform")
    ]
    by_key = {key: value for key, _, value, _ in values}
    profile = None
    if not twitter:
        profile = {
            "id": facts.contact_id,
            "mediumContactProfileId": facts.platform_user_id,
            "primaryIdentifier": facts.display_name,
            "secondaryIdentifier": by_key.get(_SECONDARY.get(facts.medium, "")),
            "pictureUrl": by_key.get("facebook-profile-image"),
        }
    return attributes, profile


# Where a contact's language is read from, first found wins (web chat's browser, Twitter's).
_LANGUAGE_KEYS = ("browser-language", "language")


async def conversation_snapshot(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> dict[str, Any] | None:
    """The virtual-agent contract's picture of a conversation (None: gone): conversationId,
    medium, channel, language, contactProfile (with `vip`), contactAttributes (enabled ones)."""
    facts = await repository.write_back_facts(session, workspace_id, conversation_id)
    if facts is None:
        return None
    attributes, profile = await _contact(session, workspace_id, facts, enabled_only=True)
    by_key = {a["attribute"]: a["value"] for a in attributes}
    if profile is not None:
        profile["vip"] = by_key.get(VIP_KEY) == "true"
    language = next((by_key[k] for k in _LANGUAGE_KEYS if by_key.get(k)), None)
    return {
        "conversationId": facts.id,
        "medium": {"id": MEDIUM_IDS.get(facts.medium, facts.medium)},
        "channel": {"id": facts.channel_id, "name": facts.channel_name},
        "language": language.split("-")[0].lower() if language else None,
        "contactProfile": profile,
        "contactAttributes": attributes,
    }

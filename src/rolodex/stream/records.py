"""Stream records: the compact form of a domain event that travels between processes.

A record names what changed (ids, the changes, who) and never carries a representation:
each receiving process reads the current one, as each kind of caller may see it. Records are
plain JSON objects with short keys, because PostgreSQL's NOTIFY payload holds under 8,000 bytes
and a transaction's records travel together.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from rolodex.attributes.events import AttributeValuesChanged
from rolodex.contacts.events import ContactDeleted, ContactRenamed
from rolodex.conversations.events import (
    ConversationAssigned,
    ConversationStarted,
    ConversationStatusChanged,
    LabelsApplied,
    MessageChanged,
    MessageDeliveryChanged,
    MessageEchoed,
    MessageReceived,
    MessageSent,
    NoteAdded,
)
from rolodex.kit.events import Event

Record = dict[str, Any]

CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
CONTACT_UPDATED = "contact.updated"
CONTACT_DELETED = "contact.deleted"
RELOAD = "reload"

# The events the stream carries (subscribers register for exactly these).
EVENT_TYPES: tuple[type[Event], ...] = (
    ConversationStarted,
    ConversationStatusChanged,
    ConversationAssigned,
    LabelsApplied,
    MessageReceived,
    MessageSent,
    MessageEchoed,
    NoteAdded,
    MessageDeliveryChanged,
    MessageChanged,
    AttributeValuesChanged,
    ContactRenamed,
    ContactDeleted,
)

# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; keep a margin.
MAX_CHUNK_BYTES = 7_900


def new_event_id() -> str:
    """A global event id: 13 digits of epoch milliseconds, then 8 random hex digits.

    Generated where the event is emitted, so every process names it alike; time-ordered
    enough to read, but order on the stream is commit order, never the id's.
    """
    return f"{time.time_ns() // 1_000_000:013d}{secrets.token_hex(4)}"


def iso_at(record: Record) -> str:
    """The record's time as ISO 8601 UTC."""
    at = datetime.fromtimestamp(record["at"] / 1000, tz=UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _base(kind: str, event: Event) -> Record:
    return {"i": new_event_id(), "t": kind, "w": event.workspace_id, "at": time.time_ns() // 10**6}


def _actor(kind: str | None, actor_id: str | None) -> list[str | None] | None:
    return None if kind is None else [kind, actor_id]


def record_of(event: Event) -> Record | None:
    """The stream record of a domain event (None: the stream does not show it)."""
    if isinstance(event, ConversationStarted):
        return {
            **_base(CONVERSATION_CREATED, event),
            "c": event.conversation_id,
            "k": event.contact_id,
            "ch": {},
        }
    if isinstance(event, ConversationStatusChanged):
        return {
            **_base(CONVERSATION_UPDATED, event),
            "c": event.conversation_id,
            "k": event.contact_id,
            "ch": {"status": {"from": event.previous, "to": event.current}},
            "a": _actor(event.actor_kind, event.actor_id),
        }
    if isinstance(event, ConversationAssigned):
        changes: dict[str, Any] = {}
        if event.assignee_id != event.previous_assignee_id:
            changes["assignee_id"] = {"from": event.previous_assignee_id, "to": event.assignee_id}
        if event.team_id != event.previous_team_id:
            changes["team_id"] = {"from": event.previous_team_id, "to": event.team_id}
        if event.bot_id != event.previous_bot_id:
            changes["bot_id"] = {"from": event.previous_bot_id, "to": event.bot_id}
        return {
            **_base(CONVERSATION_UPDATED, event),
            "c": event.conversation_id,
            "ch": changes,
            "a": _actor(event.actor_kind, event.actor_id),
        }
    if isinstance(event, LabelsApplied):
        return {
            **_base(CONVERSATION_UPDATED, event),
            "c": event.conversation_id,
            "k": event.contact_id,
            "ch": {"labels": {"from": None, "to": list(event.names)}},
            "a": None,
        }
    if isinstance(event, MessageReceived | MessageSent | MessageEchoed | NoteAdded):
        return {
            **_base(MESSAGE_CREATED, event),
            "c": event.conversation_id,
            "k": event.contact_id,
            "m": event.message_id,
        }
    if isinstance(event, MessageDeliveryChanged | MessageChanged):
        return {**_base(MESSAGE_UPDATED, event), "c": event.conversation_id, "m": event.message_id}
    if isinstance(event, AttributeValuesChanged):
        return {
            **_base(CONTACT_UPDATED, event),
            "k": event.contact_id,
            "d": sorted({c.definition_id for c in event.changes}),
            "s": event.source,
            "a": _actor(event.actor_kind, event.actor_id),
        }
    if isinstance(event, ContactRenamed):
        return {
            **_base(CONTACT_UPDATED, event),
            "k": event.contact_id,
            "d": [],
            "s": "platform",
            "a": None,
        }
    if isinstance(event, ContactDeleted):
        return {**_base(CONTACT_DELETED, event), "k": event.contact_id}
    return None


def merge(pending: list[Record], record: Record) -> None:
    """Add a record to a transaction's records, folded into an earlier one about the same thing.

    Payloads are read after commit, so two records about one object in one transaction would
    show the same representation twice: one is enough, with both changes.
    """
    for earlier in pending:
        if _same_object(earlier, record):
            _fold(earlier, record)
            return
    created = _CREATES.get(record["t"])
    if created is not None:
        # A reaction to the creation ran first (a reply's delivery queued by the channels'
        # subscriber): its update becomes the creation, in its place.
        updated, key = created
        for n, earlier in enumerate(pending):
            if earlier["t"] == updated and earlier.get(key) == record.get(key):
                pending[n] = {**earlier, **record, "i": earlier["i"]}
                pending[n].pop("ch", None)
                return
    pending.append(record)


# A creation's type → the update of the same object it absorbs, and the key naming the object.
_CREATES = {
    MESSAGE_CREATED: (MESSAGE_UPDATED, "m"),
    CONVERSATION_CREATED: (CONVERSATION_UPDATED, "c"),
}


def _same_object(earlier: Record, record: Record) -> bool:
    kind, other = record["t"], earlier["t"]
    if kind == CONVERSATION_UPDATED:
        return other in (CONVERSATION_CREATED, CONVERSATION_UPDATED) and earlier["c"] == record["c"]
    if kind == MESSAGE_UPDATED:
        return other in (MESSAGE_CREATED, MESSAGE_UPDATED) and earlier["m"] == record["m"]
    if kind == CONTACT_UPDATED:
        return (
            other == CONTACT_UPDATED
            and earlier["k"] == record["k"]
            and (earlier["s"], earlier["a"]) == (record["s"], record["a"])
        )
    return False


def _fold(earlier: Record, record: Record) -> None:
    if record["t"] == CONVERSATION_UPDATED:
        changes = earlier.setdefault("ch", {})
        for key, change in record["ch"].items():
            start = changes[key]["from"] if key in changes else change["from"]
            changes[key] = {"from": start, "to": change["to"]}
        if not earlier.get("a"):
            earlier["a"] = record.get("a")
        if "k" in record:
            earlier.setdefault("k", record["k"])
    elif record["t"] == CONTACT_UPDATED:
        earlier["d"] = sorted(set(earlier["d"]) | set(record["d"]))


def chunks(records: list[Record]) -> Iterator[str]:
    """The records as JSON arrays, each under MAX_CHUNK_BYTES, in order."""
    batch: list[str] = []
    size = 2
    for record in records:
        encoded = _encode(record)
        if batch and size + len(encoded) + 1 > MAX_CHUNK_BYTES:
            yield "[" + ",".join(batch) + "]"
            batch, size = [], 2
        batch.append(encoded)
        size += len(encoded) + 1
    if batch:
        yield "[" + ",".join(batch) + "]"


def _encode(record: Record) -> str:
    encoded = json.dumps(record, separators=(",", ":"))
    if len(encoded.encode()) + 2 > MAX_CHUNK_BYTES:
        # Thousands of definitions changed at once: the receivers read the contact anyway,
        # and say "changed" is unknown (empty) rather than drop the event.
        encoded = json.dumps({**record, "d": []}, separators=(",", ":"))
    return encoded


def decode(payload: str) -> list[Record]:
    """The records of one NOTIFY payload (a JSON array); [] for anything else."""
    try:
        records = json.loads(payload)
    except ValueError:
        return []
    if not isinstance(records, list):
        return []
    return [r for r in records if isinstance(r, dict) and "i" in r and "t" in r and "w" in r]

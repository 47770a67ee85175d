"""Stream records: what a domain event becomes, folded per transaction, chunked for NOTIFY."""

from __future__ import annotations

import json

from rolodex.attributes.events import AttributeValuesChanged, ValueChange
from rolodex.contacts.events import ContactDeleted
from rolodex.conversations.events import (
    ConversationAssigned,
    ConversationStatusChanged,
    MessageDeliveryChanged,
    MessageSent,
)
from rolodex.stream.records import MAX_CHUNK_BYTES, chunks, decode, merge, record_of


def _status(old: str, new: str) -> ConversationStatusChanged:
    return ConversationStatusChanged(
        workspace_id="ws_1", conversation_id="cv_1", contact_id="ct_1", previous=old,
        current=new, actor_kind="user", actor_id="usr_1",
    )  # fmt: skip


def test_changes_to_one_conversation_in_one_transaction_are_one_event() -> None:
    pending: list[dict[str, object]] = []
    merge(pending, record_of(_status("new", "pending")) or {})
    assigned = ConversationAssigned(
        workspace_id="ws_1", conversation_id="cv_1", assignee_id="usr_2", team_id=None,
        previous_assignee_id=None, previous_team_id=None,
    )  # fmt: skip
    merge(pending, record_of(assigned) or {})
    merge(pending, record_of(_status("pending", "resolved")) or {})
    assert len(pending) == 1
    assert pending[0]["ch"] == {
        "status": {"from": "new", "to": "resolved"},
        "assignee_id": {"from": None, "to": "usr_2"},
    }
    assert pending[0]["a"] == ["user", "usr_1"]


def test_a_new_message_and_its_delivery_in_one_transaction_are_one_event() -> None:
    pending: list[dict[str, object]] = []
    sent = MessageSent(
        workspace_id="ws_1", message_id="msg_1", conversation_id="cv_1", contact_id="ct_1",
        channel_id="ch_1", author_kind="user", author_id="usr_1",
    )  # fmt: skip
    merge(pending, record_of(sent) or {})
    queued = MessageDeliveryChanged(
        workspace_id="ws_1", message_id="msg_1", conversation_id="cv_1", status="queued"
    )
    merge(pending, record_of(queued) or {})
    assert [r["t"] for r in pending] == ["message.created"]


def test_value_changes_keep_their_definitions_and_provenance_apart() -> None:
    def change(definition: str, source: str) -> AttributeValuesChanged:
        return AttributeValuesChanged(
            workspace_id="ws_1", contact_id="ct_1", changes=(ValueChange(definition, None, "x"),),
            source=source, actor_kind="user", actor_id="usr_1",
        )  # fmt: skip

    pending: list[dict[str, object]] = []
    for definition, source in (("d2", "agent"), ("d1", "agent"), ("d3", "crm")):
        merge(pending, record_of(change(definition, source)) or {})
    assert [(r["d"], r["s"]) for r in pending] == [(["d1", "d2"], "agent"), (["d3"], "crm")]


def test_records_travel_in_chunks_under_the_notify_limit_in_order() -> None:
    records = [
        record_of(ContactDeleted(workspace_id="ws_1", contact_id=f"ct_{n}", hint="", medium="x"))
        for n in range(500)
    ]
    sent = list(chunks([r for r in records if r]))
    assert len(sent) > 1
    assert all(len(c.encode()) < MAX_CHUNK_BYTES for c in sent)
    back = [r for c in sent for r in decode(c)]
    assert back == records


def test_a_huge_record_loses_its_definition_list_not_the_event() -> None:
    huge = AttributeValuesChanged(
        workspace_id="ws_1", contact_id="ct_1", source="import", actor_kind="system",
        changes=tuple(ValueChange(f"def_{n:040d}", None, "x") for n in range(400)),
    )  # fmt: skip
    (chunk,) = chunks([record_of(huge) or {}])
    assert len(chunk.encode()) < MAX_CHUNK_BYTES
    assert json.loads(chunk)[0]["d"] == []


def test_garbage_on_the_channel_is_ignored() -> None:
    assert decode("not json") == []
    assert decode('{"i": 1}') == []
    assert decode('[{"i": "1"}, 3]') == []

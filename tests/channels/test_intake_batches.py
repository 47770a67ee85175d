"""The webhook drain in batches: many deliveries of a channel per transaction, none lost.

A batch runs in one savepoint; a delivery that fails undoes the run, which is done again
without it. These tests hold what that must keep: every other delivery stored exactly once,
duplicates counted as such, arrival order per contact, the failing one kept failed and
undone whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from builders import make_workspace
from rolodex.channels import intake
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import Contact, Conversation, Message, WebhookEvent
from rolodex.worker import Worker
from support.meta import PHONE_NUMBER_ID, connected_whatsapp, signed, wa_text

APP_SECRET = "wa-app-secret"
BATCH = 25


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Small batches, so that a burst spans several of them."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        run_worker=False,
        allow_private_webhook_targets=True,
        intake_batch_size=BATCH,
    )


async def _channel(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await connected_whatsapp(client, headers, APP_SECRET))["id"])


def _two_messages(first: tuple[str, str], second: tuple[str, str]) -> bytes:
    """One delivery carrying two text messages: (wamid, wa_id) each."""
    messages = [
        {
            "from": wa_id,
            "id": wamid,
            "timestamp": "1733230000",
            "type": "text",
            "text": {"body": "x"},
        }
        for wamid, wa_id in (first, second)
    ]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Kim"}, "wa_id": first[1]}],
        "messages": messages,
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


async def _post(client: httpx.AsyncClient, channel_id: str, bodies: list[bytes]) -> None:
    for body in bodies:
        answer = await client.post(
            f"/webhooks/{channel_id}", content=body, headers=signed(body, APP_SECRET)
        )
        assert answer.status_code == 200, answer.text


async def _events(db: Database) -> list[WebhookEvent]:
    """Every stored delivery, in arrival order."""
    async with db.reader() as session:
        return list(
            (await session.execute(select(WebhookEvent).order_by(WebhookEvent.id))).scalars()
        )


async def _rows(db: Database, *columns: Any) -> list[Any]:
    async with db.reader() as session:
        return list((await session.execute(select(*columns))).all())


def _outcome(event: WebhookEvent) -> tuple[str, int, int]:
    outcome = event.outcome or {}
    return event.status, int(outcome.get("messages", 0)), int(outcome.get("duplicates", 0))


async def test_a_burst_from_many_senders_ends_with_one_message_each(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    """N deliveries from M senders over several batches: N messages, M contacts, M open
    conversations, every delivery processed once, each sender's messages in arrival order."""
    admin = await make_workspace(db)
    channel_id = await _channel(client, admin.headers)
    senders = [f"3460000{n:04d}" for n in range(7)]
    count = 2 * BATCH + 10
    arrival = [(f"wamid.burst-{n}", senders[n % len(senders)]) for n in range(count)]
    await _post(client, channel_id, [wa_text(w, wa_id=s, name=f"C{s}") for w, s in arrival])

    await Worker(db, settings).run_until_idle()
    events = await _events(db)
    assert [_outcome(e) for e in events] == [("processed", 1, 0)] * count
    assert len(await _rows(db, Contact.id)) == len(senders)
    assert len(await _rows(db, Conversation.id)) == len(senders)
    stored = await _rows(db, Message.external_id, Message.created_at, Message.author_id)
    assert sorted(r[0] for r in stored) == sorted(w for w, _ in arrival)
    created = {r[0]: r[1] for r in stored}
    for sender in senders:
        theirs = [created[w] for w, s in arrival if s == sender]
        assert theirs == sorted(theirs), f"{sender}'s messages out of arrival order"


async def test_a_failing_delivery_is_undone_whole_and_holds_up_none(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    """In one batch: deliveries before and after a failing one are stored once each (a
    duplicate before it still counts once as a message, once as a duplicate); the failing
    one's first, valid message is undone with it and the delivery is kept failed."""
    admin = await make_workspace(db)
    channel_id = await _channel(client, admin.headers)
    before = [wa_text(f"wamid.before-{n}", wa_id=f"3460000100{n}") for n in range(3)]
    # "+12" is no phone number: the WhatsApp phone value is refused when applied (not parsed).
    failing = _two_messages(("wamid.undone", "34600009999"), ("wamid.bad", "12"))
    after = [wa_text(f"wamid.after-{n}", wa_id=f"3460000100{n}") for n in range(3)]
    await _post(client, channel_id, [*before, before[0], failing, *after])

    await Worker(db, settings).run_until_idle()
    events = await _events(db)
    assert [_outcome(e) for e in events[:4] + events[5:]] == [
        ("processed", 1, 0),
        ("processed", 1, 0),
        ("processed", 1, 0),
        ("processed", 0, 1),  # before[0] again
        ("processed", 1, 0),
        ("processed", 1, 0),
        ("processed", 1, 0),
    ]
    assert events[4].status == "failed"
    assert "sender.attributes.phone" in (events[4].error or "")
    ids = sorted(r[0] for r in await _rows(db, Message.external_id))
    assert ids == sorted(
        [*(f"wamid.before-{n}" for n in range(3)), *(f"wamid.after-{n}" for n in range(3))]
    )
    platform_ids = {r[0] for r in await _rows(db, Contact.platform_user_id)}
    assert "34600009999" not in platform_ids  # its contact was undone with its message


async def test_parser_rejections_in_a_batch_cost_no_undo(
    client: httpx.AsyncClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bodies the parser refuses are kept failed without splitting the run of the others."""
    admin = await make_workspace(db)
    channel_id = await _channel(client, admin.headers)
    runs: list[int] = []
    original = intake._process_run

    async def counted(session: Any, batch: Any, run: Any) -> Any:
        runs.append(len(run))
        return await original(session, batch, run)

    monkeypatch.setattr(intake, "_process_run", counted)
    broken = json.dumps({"object": "whatsapp_business_account", "entry": "nope"}).encode()
    good = [wa_text(f"wamid.ok-{n}", wa_id=f"3460000200{n}") for n in range(4)]
    await _post(client, channel_id, [good[0], broken, good[1], broken, good[2], good[3]])

    await Worker(db, settings).run_until_idle()
    assert [e.status for e in await _events(db)] == [
        "processed",
        "failed",
        "processed",
        "failed",
        "processed",
        "processed",
    ]
    assert runs == [4]  # one run, never undone
    assert len(await _rows(db, Message.id)) == 4


async def test_a_message_stored_meanwhile_counts_as_a_duplicate(
    client: httpx.AsyncClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message another writer stored after the batch looked its ids up (here: the ids the
    look-up found are forgotten) undoes the run; it is then a duplicate, the rest stored."""
    admin = await make_workspace(db)
    channel_id = await _channel(client, admin.headers)
    inbound = await client.post(
        f"/api/v1/channels/{channel_id}/inbound",
        headers=admin.headers,
        json={
            "sender": {"id": "34600003000", "attributes": {}},
            "external_message_id": "wamid.raced",
            "text": "sent through the API first",
        },
    )
    assert inbound.status_code == 201, inbound.text

    async def nothing_known(*_args: Any) -> set[str]:
        return set()

    monkeypatch.setattr(intake, "_known_ids", nothing_known)
    bodies = [
        wa_text("wamid.first", wa_id="34600003001"),
        wa_text("wamid.raced", wa_id="34600003000"),
        wa_text("wamid.last", wa_id="34600003002"),
    ]
    await _post(client, channel_id, bodies)

    await Worker(db, settings).run_until_idle()
    assert [_outcome(e) for e in await _events(db)] == [
        ("processed", 1, 0),
        ("processed", 0, 1),
        ("processed", 1, 0),
    ]
    ids = sorted(r[0] for r in await _rows(db, Message.external_id))
    assert ids == ["wamid.first", "wamid.last", "wamid.raced"]

"""Platform webhooks: verified, stored, acknowledged; processed afterwards (R11.3).

The webhook request does three things only: find the channel, check the signature over the
raw body, insert the body into webhook_events. It answers as soon as that commits, and the
commit wakes the worker. The worker (`drain`) takes a batch of one channel's pending
deliveries in arrival order, under that channel's row lock, in one transaction, and turns
each into messages, statuses and reactions through the one inbound path (inbound.store).
The batch runs in one savepoint, not one per delivery (two statements per delivery fewer):
when a delivery fails, the run is undone, the deliveries before it are done again together,
the failing one alone in its own savepoint (kept `failed` with its error) and the next ones
go on together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.catalogue import Medium
from rolodex.channels import connections, inbound, media, repository
from rolodex.channels.connectors import base
from rolodex.channels.connectors.base import Connection, Connector
from rolodex.config import Settings
from rolodex.contacts import service as contacts
from rolodex.conversations import service as conversations
from rolodex.db import Database
from rolodex.errors import AppError, NotFound, Unauthorized
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.models import Channel
from rolodex.workspaces import service as workspaces

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1024 * 1024  # Meta batches at most 1,000 updates; far below this


async def _connected(
    session: AsyncSession, channel_id: str, settings: Settings
) -> tuple[Channel, Connector, Connection]:
    channel = await repository.get_any(session, channel_id)
    if channel is None or channel.provider is None:
        raise NotFound(_("Channel not found."))
    connector, connection = connections.load(channel, settings)
    return channel, connector, connection


async def handshake(
    session: AsyncSession, channel_id: str, query: Mapping[str, str], settings: Settings
) -> base.Handshake:
    """Answer a platform's verification GET on the channel's webhook URL."""
    _channel, connector, connection = await _connected(session, channel_id, settings)
    return connector.handshake(connection, dict(query))


@dataclass(frozen=True)
class _Receiver:
    # What the webhook path needs of a channel, kept briefly so that a burst of deliveries
    # does not read and decrypt the channel for each one.
    workspace_id: str
    connector: Connector
    connection: Connection
    expires: float


_receivers: dict[str, _Receiver] = {}
_RECEIVER_SECONDS = 5.0


def forget(channel_id: str) -> None:
    """Drop a channel's cached connection (it changed); other processes follow within 5 s."""
    _receivers.pop(channel_id, None)


async def _receiver(db: Database, channel_id: str, settings: Settings) -> _Receiver:
    found = _receivers.get(channel_id)
    if found is not None and found.expires > time.monotonic():
        return found
    async with db.reader() as session:
        channel, connector, connection = await _connected(session, channel_id, settings)
    found = _Receiver(
        channel.workspace_id, connector, connection, time.monotonic() + _RECEIVER_SECONDS
    )
    _receivers[channel_id] = found
    return found


async def accept(
    db: Database,
    channel_id: str,
    *,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    settings: Settings,
) -> base.Handshake:
    """Store a signed delivery, then answer (401 and nothing stored for a wrong signature)."""
    receiver = await _receiver(db, channel_id, settings)
    lowered = {k.lower(): v for k, v in headers.items()}
    if not receiver.connector.verify(receiver.connection, url, lowered, body):
        raise Unauthorized(
            _("The webhook signature does not match this channel's secret."),
            code="bad_signature",
        )
    content_type = lowered.get("content-type", "")
    await store_delivery(db, receiver.workspace_id, channel_id, content_type, body)
    return receiver.connector.acknowledgement()


async def store_delivery(
    db: Database, workspace_id: str, channel_id: str, content_type: str, body: bytes
) -> None:
    """Keep one delivery for processing; returns once it is committed (webhooks, mail)."""
    row = {
        "id": new_id("whe"),
        "workspace_id": workspace_id,
        "channel_id": channel_id,
        "content_type": content_type[:200],
        "body": body,
        "status": "pending",
        "attempts": 0,
        "received_at": utcnow(),
    }
    await _writer(db).store(row)


class _Writer:
    """Stores deliveries arriving together in one transaction (group commit).

    Each request waits until its own row is committed, so a 200 still means "stored"; but
    fifty concurrent deliveries cost one commit instead of fifty, and on SQLite they no
    longer queue one by one for the write lock.
    """

    MAX_BATCH = 500

    def __init__(self, db: Database) -> None:
        self.db = db
        self.waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self.task: asyncio.Task[None] | None = None

    async def store(self, row: dict[str, Any]) -> None:
        """Return once the row is committed (or raise what the commit raised)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((row, done))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())
        await done

    async def _run(self) -> None:
        while self.waiting:
            batch = self.waiting[: self.MAX_BATCH]
            del self.waiting[: self.MAX_BATCH]
            try:
                async with self.db.transaction() as session:
                    await repository.insert_events(session, [row for row, _done in batch])
                    jobs.wake_after_commit(session)
            except Exception as exc:
                for _row, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _row, done in batch:
                if not done.done():
                    done.set_result(None)


_writers: dict[int, _Writer] = {}


def _writer(db: Database) -> _Writer:
    # One per database of this process (tests open several); it holds the database, so an
    # id is never reused while its writer lives.
    found = _writers.get(id(db))
    if found is None or found.db is not db:
        found = _writers[id(db)] = _Writer(db)
    return found


@dataclass
class Outcome:
    """What one delivery carried and what processing it did."""

    messages: int = 0
    echoes: int = 0
    duplicates: int = 0
    statuses: int = 0
    reactions: int = 0
    ignored: dict[str, int] = field(default_factory=dict)

    def ignore(self, reason: str) -> None:
        """Count a part left aside on purpose."""
        self.ignored[reason] = self.ignored.get(reason, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """The outcome as stored and listed."""
        return {
            "messages": self.messages,
            "echoes": self.echoes,
            "duplicates": self.duplicates,
            "statuses": self.statuses,
            "reactions": self.reactions,
            "ignored": dict(self.ignored),
        }


@dataclass
class _Batch:
    # One channel's deliveries being processed, and what it needs for each: read once per
    # batch, not once per message (the platform definitions, the message ids already known).
    channel: Channel
    connector: Connector
    connection: Connection
    target: inbound.Target
    settings: Settings
    definitions: dict[str, str]
    known: set[str]


async def drain(db: Database, settings: Settings) -> int:
    """Process one channel's oldest pending deliveries in one transaction; how many."""
    await _prune_when_due(db, settings)
    async with db.transaction() as session:
        channel = await repository.claim_channel_with_pending(session)
        if channel is None:
            return 0
        events = await repository.pending_events(session, channel.id, settings.intake_batch_size)
        finished: list[dict[str, Any]] = []
        try:
            connector, connection = connections.load(channel, settings)
        except AppError as exc:
            # Disconnected since (or the secret key changed): kept failed, retried later.
            now = utcnow()
            for event_id, *_rest in events:
                finished.append(_finished(event_id, "failed", exc.detail, None, now))
            await repository.finish_events(session, finished)
            return len(events)
        region = await channel_region(session, channel)
        target = inbound.Target(channel.workspace_id, channel.id, Medium(channel.medium), region)
        parsed = [
            (event_id, _parse(channel, connector, connection, body, content_type))
            for event_id, _ws, body, content_type in events
        ]
        batch = _Batch(
            channel,
            connector,
            connection,
            target,
            settings,
            await attributes.ensure_definitions(session, target.workspace_id, target.medium),
            await _known_ids(session, target, parsed),
        )
        finished += await _process_all(session, batch, parsed)
        await repository.finish_events(session, finished)
        return len(events)


def _parse(
    channel: Channel, connector: Connector, connection: Connection, body: bytes, content_type: str
) -> base.Parsed | Exception:
    # Parsing is pure: done for the whole batch first, a rejection kept as the event's error.
    try:
        if not channel.enabled or channel.archived:
            raise base.PayloadRejected("the channel is disabled or archived")
        return connector.parse(connection, body, content_type)
    except Exception as exc:
        return exc


async def _known_ids(
    session: AsyncSession,
    target: inbound.Target,
    parsed: list[tuple[str, base.Parsed | Exception]],
) -> set[str]:
    # A platform re-delivers for days: the ids the channel has already, in one look-up.
    wanted = [
        item.external_id
        for _event_id, delivery in parsed
        if isinstance(delivery, base.Parsed)
        for item in delivery.items
        if isinstance(item, base.InboundItem)
    ]
    return await conversations.received_ids(session, target.workspace_id, target.channel_id, wanted)


async def channel_region(session: AsyncSession, channel: Channel) -> str:
    """The default phone region of the channel's workspace."""
    found = await repository.receiving(session, channel.workspace_id, channel.id)
    if found is None:
        return "US"
    # The same read carries the configuration version: the inbound writes need no read of it.
    workspaces.note_config_version(session, channel.workspace_id, found.config_version)
    return found.region


def _finished(
    event_id: str, status: str, error: str | None, outcome: Outcome | None, at: Any
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "status": status,
        "error": error,
        "outcome": outcome.as_dict() if outcome else None,
        "processed_at": at,
    }


Delivery = tuple[str, base.Parsed]  # (event id, what its body parsed into)


async def _process_all(
    session: AsyncSession, batch: _Batch, parsed: list[tuple[str, base.Parsed | Exception]]
) -> list[dict[str, Any]]:
    # Runs of deliveries, each in one savepoint, in arrival order; a run that fails at its
    # k-th delivery is replaced by: the k before it (again a run), that one alone, the rest.
    # What the parser rejected wrote nothing: kept failed at once, in no run.
    finished = [_failed(e, d, Outcome()) for e, d in parsed if isinstance(d, Exception)]
    runs = [(e, d) for e, d in parsed if not isinstance(d, Exception)]
    todo: list[tuple[bool, list[Delivery]]] = [(False, runs)]  # (alone, deliveries)
    while todo:
        alone, run = todo.pop(0)
        if not run:
            continue
        if alone or len(run) == 1:
            finished.append(await _process_one(session, batch, *run[0]))
            continue
        done = await _process_run(session, batch, run)
        if isinstance(done, list):
            finished += done
        else:
            before, failing, after = run[:done], run[done : done + 1], run[done + 1 :]
            todo[0:0] = [(False, before), (True, failing), (False, after)]
    return finished


async def _process_run(
    session: AsyncSession, batch: _Batch, run: list[Delivery]
) -> list[dict[str, Any]] | int:
    # Every delivery of the run in one savepoint: how each ended, or, when one raised, its
    # index (the whole run undone, including the ids it added to the known ones).
    known = set(batch.known)
    finished: list[dict[str, Any]] = []
    try:
        async with session.begin_nested():
            for event_id, delivery in run:
                outcome = Outcome(ignored=dict(delivery.ignored))
                for item in delivery.items:
                    await _apply(session, batch, item, outcome)
                finished.append(_finished(event_id, "processed", None, outcome, utcnow()))
    except Exception:
        batch.known = known
        # Never the whole run again (its savepoint's release may be what failed).
        return min(len(finished), len(run) - 1)
    return finished


async def _process_one(
    session: AsyncSession, batch: _Batch, event_id: str, delivery: base.Parsed
) -> dict[str, Any]:
    outcome = Outcome()
    try:
        for attempt in (1, 2):
            outcome = Outcome(ignored=dict(delivery.ignored))
            try:
                # One savepoint per delivery: a failure undoes this delivery only.
                async with session.begin_nested():
                    for item in delivery.items:
                        await _apply(session, batch, item, outcome)
                break
            except inbound.Replay as replay:
                # Another writer stored this message meanwhile: undo the delivery and do it
                # again, now knowing the id (it counts as a duplicate).
                batch.known.add(str(replay))
                if attempt == 2:
                    raise
    except Exception as exc:
        return _failed(event_id, exc, outcome)
    return _finished(event_id, "processed", None, outcome, utcnow())


def _failed(event_id: str, exc: Exception, outcome: Outcome) -> dict[str, Any]:
    error = f"{type(exc).__name__}: {exc}"[:4000]
    if not isinstance(exc, base.PayloadRejected | AppError):
        log.error("webhook event %s failed", event_id, exc_info=exc)
    return _finished(event_id, "failed", error, outcome, utcnow())


async def _apply(session: AsyncSession, batch: _Batch, item: base.Item, outcome: Outcome) -> None:
    if isinstance(item, base.InboundItem):
        await (_echo if item.echo else _message)(session, batch, item, outcome)
    elif isinstance(item, base.StatusItem):
        error = (item.error_code or "", item.error_title or "") if item.error_code else None
        moved = await conversations.apply_status(
            session,
            batch.target.workspace_id,
            batch.target.channel_id,
            item.provider_message_id,
            item.status,
            item.at,
            error,
        )
        if moved is None:
            outcome.ignore("status:unknown_message")
        else:
            outcome.statuses += 1
    elif isinstance(item, base.WatermarkItem):
        contact_id = await _known_contact(session, batch, item.contact_id)
        if contact_id is None:
            outcome.ignore("watermark:unknown_contact")
            return
        outcome.statuses += await conversations.apply_watermark(
            session,
            batch.target.workspace_id,
            batch.target.channel_id,
            contact_id,
            item.status,
            item.watermark,
        )
    else:
        await _reaction(session, batch, item, outcome)


async def _known_contact(session: AsyncSession, batch: _Batch, platform_user_id: str) -> str | None:
    return await contacts.find(
        session,
        workspace_id=batch.target.workspace_id,
        medium=batch.target.medium,
        channel_id=batch.target.channel_id,
        platform_user_id=platform_user_id,
    )


async def _message(
    session: AsyncSession, batch: _Batch, item: base.InboundItem, outcome: Outcome
) -> None:
    target = batch.target
    if item.external_id in batch.known:
        outcome.duplicates += 1
        return
    sent = inbound.sender_values(target.medium, item.contact_id, item.attributes)
    values, _ignored = attributes.check_sender_attributes(target.medium, sent, target.region)
    thread = None
    if batch.connector.threaded:
        # A mail naming a message of the channel joins that thread; any other opens its own.
        known = await conversations.thread_of(
            session, target.workspace_id, target.channel_id, item.references
        )
        thread = known or conversations.Thread(item.external_id, item.subject)
    stored = await inbound.store(
        session,
        target,
        ("system", None),
        sender_id=item.contact_id,
        values=values,
        external_id=item.external_id,
        text=item.text,
        sent_at=item.sent_at,
        definitions=batch.definitions,
        thread=thread,
    )
    batch.known.add(item.external_id)
    outcome.messages += 1
    await _after_message(session, batch, item, stored)


async def _after_message(
    session: AsyncSession, batch: _Batch, item: base.InboundItem, stored: inbound.Stored
) -> None:
    # Files and profiles are fetched by jobs: never a platform call on the intake path.
    ws = batch.target.workspace_id
    for ref in item.media:
        await media.add_pending(session, ws, stored.message_id, stored.contact_id, ref)
    if item.files:
        await media.keep_carried(session, batch.settings, ws, stored.message_id, item.files)
    if batch.connector.fetches_profile:
        day = utcnow().date().isoformat()
        await jobs.enqueue(
            session,
            "channels.fetch_profile",
            {"channel_id": batch.channel.id, "contact_id": stored.contact_id},
            workspace_id=ws,
            contact_id=stored.contact_id,
            ref=stored.contact_id,
            # At most one fetch per contact and day (refreshed daily, never per message).
            idempotency_key=f"profile:{stored.contact_id}:{day}",
        )


async def _echo(
    session: AsyncSession, batch: _Batch, item: base.InboundItem, outcome: Outcome
) -> None:
    # The business wrote from the platform's own app: an outbound message, never a contact.
    contact_id = await _known_contact(session, batch, item.contact_id)
    if contact_id is None:
        outcome.ignore("echo:unknown_contact")
        return
    now = utcnow()
    message_id = await conversations.receive_echo(
        session,
        workspace_id=batch.target.workspace_id,
        channel_id=batch.target.channel_id,
        contact_id=contact_id,
        external_id=item.external_id,
        text=item.text,
        sent_at=item.sent_at,
        at=now,
    )
    if message_id is None:
        outcome.duplicates += 1
    else:
        outcome.echoes += 1


async def _reaction(
    session: AsyncSession, batch: _Batch, item: base.ReactionItem, outcome: Outcome
) -> None:
    target = batch.target
    contact_id = await _known_contact(session, batch, item.contact_id)
    message_id = await conversations.message_by_platform_id(
        session, target.workspace_id, target.channel_id, item.target_external_id
    )
    if contact_id is None or message_id is None:
        outcome.ignore("reaction:unknown_message")
        return
    await conversations.react(
        session, target.workspace_id, message_id, ("contact", contact_id), item.emoji, item.at
    )
    outcome.reactions += 1


_last_prune = 0.0
PRUNE_EVERY_SECONDS = 600.0


async def _prune_when_due(db: Database, settings: Settings) -> None:
    # At most every ten minutes per process, not on every batch: a delete over the table.
    global _last_prune
    now = time.monotonic()
    if now - _last_prune >= PRUNE_EVERY_SECONDS:
        _last_prune = now
        await prune(db, settings)


async def prune(db: Database, settings: Settings) -> int:
    """Forget processed deliveries older than the retention; failed ones stay until retried."""
    before = utcnow() - timedelta(days=settings.webhook_event_retention_days)
    try:
        async with db.transaction() as session:
            return await repository.prune_events(session, before)
    except Exception:
        log.exception("pruning webhook events failed")
        return 0

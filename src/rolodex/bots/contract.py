"""The virtual-agent contract (SPEC "Compatibility", R13): the events a bot is sent and the
actions it takes, whether in its synchronous answer or later over REST (one applier for both).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import files
from rolodex.attributes import service as attributes
from rolodex.attributes.schemas import ContactAttributesUpdate
from rolodex.auth.principals import Principal, TokenKind
from rolodex.bots import repository
from rolodex.bots.schemas import ActionOutcome, Actions, ActionsResult, Handoff, OnError
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import LabelKind, MessageCreate
from rolodex.crm import service as crm
from rolodex.errors import Conflict, Forbidden, InvalidInput, NotFound
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.models import Bot, Conversation
from rolodex.users import service as users

STARTED = "CONVERSATION_STARTED"
DELEGATED = "CONVERSATION_DELEGATED"
INBOUND = "INBOUND_MESSAGE_RECEIVED"
LOG_LINES_KEPT = 500


def display_name(name: str) -> str:
    """How agents see a bot: "<Name> VA"."""
    return _("%(name)s VA", name=name)


def principal_of(bot: Bot, plan: str) -> Principal:
    """The bot acting: its writes have source `bot`, its messages are authored by it."""
    return Principal(
        workspace_id=bot.workspace_id,
        plan=plan,
        kind=TokenKind.BOT,
        token_id=bot.id,
        name=display_name(bot.name),
    )


def _iso(at: Any) -> str:
    return str(at.isoformat()).replace("+00:00", "Z")


async def event_body(
    session: AsyncSession, workspace_id: str, payload: dict[str, Any], plan: str, bot: Bot
) -> bytes | None:
    """The event's bytes (None: its conversation or message is gone): the same timestamp and
    idempotencyKey on every attempt, the contact as it is now."""
    data = await crm.conversation_snapshot(session, workspace_id, str(payload["conversation_id"]))
    if data is None:
        return None
    message_id = payload.get("message_id")
    if message_id is not None:
        principal = principal_of(bot, plan)
        try:
            message = await conversations.read_message(session, principal, str(message_id))
        except NotFound:
            return None
        data["message"] = {"messageId": message.id, "text": message.text, "payload": None}
    envelope = {
        "timestamp": payload["timestamp"],
        "idempotencyKey": payload["key"],
        "version": 1,
        "type": payload["type"],
        "data": data,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


EVENT_JOB = "bots.event"
TIMEOUT_JOB = "bots.timeout"


async def send_event(
    session: AsyncSession,
    bot: Bot,
    conversation_id: str,
    contact_id: str,
    kind: str,
    *,
    message_id: str | None = None,
    then_message_id: str | None = None,
    with_timeout: bool = True,
) -> None:
    """Queue an event to the bot (the jobs outbox), and the timeout that hands the
    conversation over if the bot then says nothing to the contact."""
    now = utcnow()
    payload = {
        "bot_id": bot.id,
        "conversation_id": conversation_id,
        "contact_id": contact_id,
        "type": kind,
        "message_id": message_id,
        "then_message_id": then_message_id,
        "timestamp": _iso(now),
        "key": str(uuid.uuid4()),
    }
    ws, ref = bot.workspace_id, f"conversation:{conversation_id}"
    await jobs.enqueue(session, EVENT_JOB, payload, workspace_id=ws, ref=ref, contact_id=contact_id)
    if with_timeout:
        await jobs.enqueue(
            session,
            TIMEOUT_JOB,
            {"bot_id": bot.id, "conversation_id": conversation_id, "since": now.isoformat()},
            workspace_id=ws,
            ref=ref,
            contact_id=contact_id,
            run_at=now + timedelta(seconds=bot.response_timeout_seconds),
        )


async def log(
    session: AsyncSession,
    bot: Bot,
    direction: str,
    kind: str,
    conversation_id: str | None,
    outcome: str,
    detail: str = "",
) -> None:
    """One line of the bot's log (its page shows the newest)."""
    await log_lines(session, bot, conversation_id, [(direction, kind, outcome, detail)])


async def log_lines(
    session: AsyncSession,
    bot: Bot,
    conversation_id: str | None,
    lines: Sequence[tuple[str, str, str, str]],
) -> None:
    """Lines (direction, type, outcome, detail) of the bot's log: one insert, one prune."""
    at = utcnow()
    await repository.add_log(
        session,
        [
            {
                "id": new_id("blg"),
                "workspace_id": bot.workspace_id,
                "bot_id": bot.id,
                "at": at,
                "direction": direction,
                "type": kind,
                "conversation_id": conversation_id,
                "outcome": outcome,
                "detail": detail[:500],
            }
            for direction, kind, outcome, detail in lines
        ],
    )
    await repository.prune_log(session, bot.workspace_id, bot.id, LOG_LINES_KEPT)


async def hand_over(
    session: AsyncSession,
    bot: Bot,
    plan: str,
    conversation: Conversation,
    *,
    resolve: bool = False,
    to_previous_agent: bool = False,
    reason: str,
) -> None:
    """The bot lets go of the (locked) conversation: resolved, or to the new queue, or to the
    agent it had before the bot when that person is still active."""
    assignee = None
    previous = conversation.previous_assignee_id
    if to_previous_agent and previous is not None:
        try:
            user = await users.access_user_by_id(session, principal_of(bot, plan), previous)
            assignee = user.id if user.active else None
        except NotFound:
            assignee = None
    await conversations.release(
        session,
        conversation,
        assignee_id=assignee,
        resolve=resolve,
        reason=reason,
        actor_kind="bot",
        actor_id=bot.id,
    )


async def hand_over_after_failure(
    session: AsyncSession, bot: Bot, plan: str, conversation_id: str, reason: str
) -> bool:
    """The bot cannot be reached or stays silent: per its `on_error`, resolved or to the new
    queue; False when it no longer held the conversation."""
    conversation = await conversations.locked(session, bot.workspace_id, conversation_id)
    if conversation is None or conversation.bot_id != bot.id:
        return False
    resolve = bot.on_error == OnError.RESOLVED
    await hand_over(session, bot, plan, conversation, resolve=resolve, reason=reason)
    return True


@dataclass
class _Results:
    items: list[ActionOutcome] = field(default_factory=list)

    def add(self, action: str, outcome: str, detail: str = "") -> None:
        self.items.append(
            ActionOutcome.model_validate({"action": action, "outcome": outcome, "detail": detail})
        )


def _value(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _notes(actions: Actions) -> list[str]:
    raw = actions.applyConversationNotes
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    texts = [item if isinstance(item, str) else (item.text or "") for item in items]
    return [t for t in texts if t.strip()]


async def _uploads(
    session: AsyncSession, bot: Bot, conversation_id: str, actions: Actions, data_dir: Path
) -> dict[str, files.DecodedFile]:
    # Every file named is checked before anything is applied: a missing one is refused whole.
    messages = [m for m in [actions.sendMessage, *(actions.sendMessages or [])] if m is not None]
    found: dict[str, files.DecodedFile] = {}
    for index, message in enumerate(messages):
        name = message.attachment
        if not name or name in found:
            continue
        row = await repository.get_upload(session, bot.workspace_id, bot.id, conversation_id, name)
        path = files.path_for(data_dir, row.sha256) if row is not None else None
        if row is None or path is None or not path.exists():
            where = "sendMessage" if index == 0 and actions.sendMessage else "sendMessages"
            raise InvalidInput.for_field(
                f"{where}.attachment",
                _("No file named %(name)s was uploaded for this conversation.", name=name),
                code="attachment_not_uploaded",
            )
        data = await asyncio.to_thread(path.read_bytes)
        found[name] = files.DecodedFile(row.filename, row.content_type, data, row.sha256)
    return found


async def apply(
    session: AsyncSession,
    bot: Bot,
    plan: str,
    conversation_id: str,
    actions: Actions,
    *,
    data_dir: Path,
) -> ActionsResult:
    """Apply a bot's actions to a conversation it holds (404 otherwise), each logged.

    Attributes first (the bot's messages may depend on them), then notes and labels, then
    messages, then `complete`. A bot never overwrites a value that is set: such a key is
    ignored, the others are written.
    """
    conversation = await conversations.locked(session, bot.workspace_id, conversation_id)
    if conversation is None or conversation.bot_id != bot.id:
        raise NotFound(_("This bot does not hold this conversation."), code="not_held")
    uploads = await _uploads(session, bot, conversation.id, actions, data_dir)
    principal = principal_of(bot, plan)
    results = _Results()
    if actions.indicateTyping:
        results.add("indicateTyping", "ok")
    for alias, raw in (actions.setContactAttributes or {}).items():
        if raw is None:
            results.add("setContactAttributes", "ignored", _("%(key)s: no value", key=alias))
            continue
        update = ContactAttributesUpdate(attributes={alias: _value(raw)})
        try:
            await attributes.write_contact_attributes(
                session,
                principal,
                conversation.contact_id,
                update,
                channel_id=conversation.channel_id,
            )
        except Conflict as exc:
            results.add("setContactAttributes", "ignored", f"{alias}: {exc.detail}")
        except (InvalidInput, Forbidden, NotFound) as exc:
            results.add("setContactAttributes", "failed", f"{alias}: {exc.detail}")
        else:
            results.add("setContactAttributes", "ok", alias)
    for text in _notes(actions):
        await conversations.add_note(
            session, conversation, text, author_kind="bot", author_id=bot.id
        )
        results.add("applyConversationNotes", "ok")
    for action, kind, names in (
        ("applyTopics", LabelKind.TOPIC, actions.applyTopics),
        ("applyTags", LabelKind.TAG, actions.applyTags),
    ):
        if names:
            applied = await conversations.apply_labels(session, conversation, kind, names)
            unknown = sorted(
                {n for n in names if n.casefold() not in {a.casefold() for a in applied}}
            )
            results.add(action, "ok" if applied else "ignored", ", ".join(applied or unknown))
    for message in [m for m in [actions.sendMessage, *(actions.sendMessages or [])] if m]:
        if not (message.text or message.attachment):
            results.add("sendMessage", "ignored", _("an empty message"))
            continue
        await conversations.reply(
            session,
            principal,
            conversation.id,
            MessageCreate.model_construct(text=message.text or "", attachments=[]),
            data_dir=data_dir,
            uploaded=[uploads[message.attachment]] if message.attachment else [],
        )
        results.add("sendMessage", "ok")
    if actions.complete is not None:
        await hand_over(
            session,
            bot,
            plan,
            conversation,
            resolve=actions.complete == "RESOLVED",
            to_previous_agent=bot.handoff == Handoff.PREVIOUS_AGENT,
            reason="bot_resolved" if actions.complete == "RESOLVED" else "bot_handover",
        )
        results.add("complete", "ok", actions.complete)
    if results.items:
        lines = [("action", i.action, i.outcome, i.detail) for i in results.items]
        await log_lines(session, bot, conversation.id, lines)
    return ActionsResult(conversation_id=conversation.id, results=results.items)


def parse_answer(body: bytes) -> Actions | str | None:
    """A bot's synchronous answer: its actions, None when it has none, or what is wrong."""
    if not body.strip():
        return None
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "the answer is not JSON"
    if not isinstance(raw, dict):
        return "the answer is not a JSON object"
    if not raw:
        return None
    try:
        return Actions.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}"

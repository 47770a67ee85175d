"""Conversations: receiving messages into them, listing, status changes and replies.

Every status change is a conversation event (from, to, actor, time, reason,
comment): the CRM write-back and the bot webhooks read them later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Row, Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import files
from rolodex.auth.principals import Principal
from rolodex.contacts import service as contacts
from rolodex.conversations import deliveries, holding, repository
from rolodex.conversations.events import (
    ConversationAssigned,
    ConversationStarted,
    MessageEchoed,
    MessageReceived,
    MessageSent,
)
from rolodex.conversations.history import Actor
from rolodex.conversations.history import record as _event
from rolodex.conversations.history import status_changed as _status_event
from rolodex.conversations.schemas import (
    AppliedLabel,
    AttachmentRead,
    AuthorKind,
    ConversationCounts,
    ConversationDetail,
    ConversationEventRead,
    ConversationRead,
    ConversationUpdate,
    DeliveryError,
    DeliveryRead,
    LabelKind,
    LastMessage,
    MessageAuthor,
    MessageCreate,
    MessageRead,
    ReactionRead,
    Status,
)
from rolodex.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from rolodex.i18n import _
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import Conversation, Message
from rolodex.schemas import IfMatch, assembled
from rolodex.users import service as users
from rolodex.workspaces import service as workspaces


@dataclass(frozen=True)
class Received:
    """Where an inbound message went; message_id None when it was a duplicate."""

    conversation_id: str
    message_id: str | None


@dataclass(frozen=True)
class Thread:
    """Which thread of an email channel a message belongs to, and the thread's subject."""

    key: str
    subject: str | None = None


@dataclass(frozen=True)
class _Appended:
    conversation_id: str
    status: str  # the conversation's status before the message
    message_id: str | None  # None: the channel had this external id already
    opened: bool = False  # the message opened the conversation
    bot_id: str | None = None  # the bot holding the conversation


async def _append(
    session: AsyncSession,
    *,
    workspace_id: str,
    channel_id: str,
    contact_id: str,
    at: datetime,
    thread: Thread | None = None,
    **message: Any,
) -> _Appended:
    # A platform's message (the contact's, or an echo) into the contact's open conversation
    # on the channel (and thread), opened if none: one statement each, on the unique indexes.
    candidate = new_id("cv")
    conversation_id, status, bot_id = await repository.open_conversation(
        session,
        new_id=candidate,
        workspace_id=workspace_id,
        channel_id=channel_id,
        contact_id=contact_id,
        at=at,
        preview=str(message.get("text") or ""),
        direction=str(message["direction"]),
        thread_key=thread.key if thread else "",
        subject=thread.subject if thread else None,
    )
    message_id = new_id("msg")
    row = {
        "id": message_id,
        "workspace_id": workspace_id,
        "conversation_id": conversation_id,
        "channel_id": channel_id,
        "created_at": at,
        **message,
    }
    if not await repository.insert_inbound_message(session, row):
        return _Appended(conversation_id, status, None, bot_id=bot_id)
    if conversation_id == candidate:
        await emit(
            session,
            ConversationStarted(
                workspace_id=workspace_id,
                conversation_id=conversation_id,
                contact_id=contact_id,
                channel_id=channel_id,
            ),
        )
    opened = conversation_id == candidate
    return _Appended(conversation_id, status, message_id, opened=opened, bot_id=bot_id)


async def receive_message(
    session: AsyncSession,
    *,
    workspace_id: str,
    channel_id: str,
    contact_id: str,
    external_id: str,
    text: str,
    sent_at: datetime,
    at: datetime,
    thread: Thread | None = None,
) -> Received:
    """Append an inbound message to the contact's open conversation, or open one (new).

    A contact's reply moves a pending conversation back to new. A message whose
    external id the channel already has is not inserted (message_id None); the caller
    then discards the transaction, so a replay changes nothing.
    """
    appended = await _append(
        session,
        workspace_id=workspace_id,
        channel_id=channel_id,
        contact_id=contact_id,
        at=at,
        thread=thread,
        direction="inbound",
        author_kind="contact",
        author_id=contact_id,
        external_id=external_id,
        text=text,
        sent_at=sent_at,
    )
    conversation_id, message_id = appended.conversation_id, appended.message_id
    if message_id is None:
        return Received(conversation_id, None)
    if appended.status == Status.PENDING:
        await _back_to_new(session, workspace_id, conversation_id, contact_id)
    await emit(
        session,
        MessageReceived(
            workspace_id=workspace_id,
            message_id=message_id,
            conversation_id=conversation_id,
            contact_id=contact_id,
            channel_id=channel_id,
            first=appended.opened,
            bot_id=appended.bot_id,
        ),
    )
    return Received(conversation_id, message_id)


async def receive_echo(
    session: AsyncSession,
    *,
    workspace_id: str,
    channel_id: str,
    contact_id: str,
    external_id: str,
    text: str,
    sent_at: datetime,
    at: datetime,
) -> str | None:
    """A message the business wrote to the contact from the platform's own app (an echo).

    Stored as an outbound message by the platform, already sent, in the contact's open
    conversation (opened if none), which then waits for the contact (pending). None when the
    channel has it already (a replay, or the echo of a reply Rolodex sent).
    """
    appended = await _append(
        session,
        workspace_id=workspace_id,
        channel_id=channel_id,
        contact_id=contact_id,
        at=at,
        direction="outbound",
        author_kind=PLATFORM,
        author_id=channel_id,
        external_id=external_id,
        provider_message_id=external_id,
        delivery_status="sent",
        delivery_updated_at=at,
        text=text,
        sent_at=sent_at,
    )
    conversation_id, status = appended.conversation_id, appended.status
    if appended.message_id is None:
        return None
    await emit(
        session,
        MessageEchoed(
            workspace_id=workspace_id,
            message_id=appended.message_id,
            conversation_id=conversation_id,
            contact_id=contact_id,
            channel_id=channel_id,
        ),
    )
    if status != Status.PENDING and await repository.change_status_if(
        session, workspace_id, conversation_id, old=status, new=Status.PENDING
    ):
        await _status_event(
            session,
            workspace_id,
            conversation_id,
            contact_id,
            Actor("system", None),
            status,
            Status.PENDING,
            reason="replied_outside_rolodex",
        )
    return appended.message_id


async def _back_to_new(
    session: AsyncSession, workspace_id: str, conversation_id: str, contact_id: str
) -> None:
    # Conditional update: of concurrent replies, exactly one records the event.
    if await repository.change_status_if(
        session, workspace_id, conversation_id, old=Status.PENDING, new=Status.NEW
    ):
        await _status_event(
            session,
            workspace_id,
            conversation_id,
            contact_id,
            Actor("contact", contact_id),
            Status.PENDING,
            Status.NEW,
            reason="contact_replied",
        )


async def find_received(
    session: AsyncSession, workspace_id: str, channel_id: str, external_id: str
) -> tuple[str, str, str] | None:
    """(message id, conversation id, contact id) of a message the channel received before."""
    return await repository.find_inbound_message(session, workspace_id, channel_id, external_id)


async def received_ids(
    session: AsyncSession, workspace_id: str, channel_id: str, external_ids: Sequence[str]
) -> set[str]:
    """Which of these external ids the channel has already (one look-up)."""
    return await repository.received_ids(session, workspace_id, channel_id, external_ids)


async def thread_of(
    session: AsyncSession, workspace_id: str, channel_id: str, message_ids: Sequence[str]
) -> Thread | None:
    """The thread of the newest conversation on the channel holding one of these message ids."""
    found = await repository.thread_of(session, workspace_id, channel_id, message_ids)
    return Thread(found[0], found[1]) if found else None


async def thread_context(
    session: AsyncSession, workspace_id: str, conversation_id: str, limit: int = 20
) -> tuple[str | None, list[str]]:
    """A conversation's subject and its last `limit` platform message ids, oldest first."""
    return await repository.thread_message_ids(session, workspace_id, conversation_id, limit)


async def add_attachments(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store attachment metadata of a message."""
    await repository.insert_attachments(session, rows)


async def attach_files(
    session: AsyncSession,
    workspace_id: str,
    message_id: str,
    decoded: Sequence[files.DecodedFile],
    data_dir: Path,
) -> None:
    """Store a message's files: their bytes on disk, then their rows."""
    # Files first, rows second: a row never points at a missing file. A rolled-back
    # transaction can leave an unreferenced file behind; content addressing makes it
    # harmless and reusable.
    await asyncio.to_thread(files.store, data_dir, decoded)
    now = utcnow()
    await repository.insert_attachments(
        session,
        [
            {
                "id": new_id("att"),
                "workspace_id": workspace_id,
                "message_id": message_id,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": len(f.data),
                "sha256": f.sha256,
                "created_at": now,
            }
            for f in decoded
        ],
    )


async def channel_has_conversations(
    session: AsyncSession, workspace_id: str, channel_id: str
) -> bool:
    """Whether a channel has any conversation."""
    return await repository.any_on_channel(session, workspace_id, channel_id)


async def access_conversation_by_id(
    session: AsyncSession, principal: Principal, conversation_id: str, *, for_update: bool = False
) -> Conversation:
    """A conversation of the caller's workspace; 404 for missing and foreign alike."""
    conversation = await repository.get(
        session, principal.workspace_id, conversation_id, for_update=for_update
    )
    if conversation is None:
        raise NotFound(_("Conversation not found."))
    return conversation


async def _flush_reopen(session: AsyncSession) -> None:
    # Reopening a resolved conversation while the contact has another open one on the
    # channel would break the one-open-conversation index: answer 409, not 500.
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            _("The contact has another open conversation on this channel."),
            code="conversation_open_elsewhere",
        ) from exc


def _read(
    conversation: Conversation | Row[Any], names: dict[str, str], bots: dict[str, str]
) -> ConversationRead:
    # Typed here from the row: built without a second validation (lists build 50 at a time).
    last_message = None
    if conversation.last_message_direction is not None:
        last_message = assembled(
            LastMessage,
            {
                "text": conversation.last_message_preview or "",
                "direction": conversation.last_message_direction,
                "at": conversation.last_message_at,
            },
        )
    return assembled(
        ConversationRead,
        {
            "id": conversation.id,
            "channel_id": conversation.channel_id,
            "contact_id": conversation.contact_id,
            "contact_display_name": names.get(conversation.contact_id, ""),
            "status": Status(conversation.status),
            "team_id": conversation.team_id,
            "assignee_id": conversation.assignee_id,
            "priority_score": conversation.priority_score,
            "last_message_at": conversation.last_message_at,
            "created_at": conversation.created_at,
            "version": conversation.version,
            "last_message": last_message,
            "subject": conversation.subject,
            "bot_id": conversation.bot_id,
            "bot_name": bots.get(conversation.bot_id or ""),
        },
    )


@dataclass(frozen=True)
class ConversationFilters:
    """What the conversation list is narrowed to."""

    status: Status | None = None
    channel_id: str | None = None
    team_id: str | None = None
    assignee_id: str | None = None  # a user id, or UNASSIGNED
    contact_id: str | None = None
    sort: str | None = None  # None: newest first; "priority": the queue order


UNASSIGNED = "none"  # the assignee filter's value for conversations assigned to no one


def conversations_statement(workspace_id: str) -> Select[Conversation]:
    """The workspace-scoped statement conversation lists start from."""
    return repository.conversations_of(workspace_id)


async def read_many(
    session: AsyncSession, principal: Principal, rows: Sequence[Conversation | Row[Any]]
) -> list[ConversationRead]:
    """Conversations as read, with their contacts' display names (one query) and the names of
    the bots holding any (one more, only then)."""
    # A page's rows carry their contacts' names; a conversation loaded alone does not.
    names = {r.contact_id: r.contact_display_name or "" for r in rows if isinstance(r, Row)}
    if not names:
        names = await contacts.display_names(session, principal, [r.contact_id for r in rows])
    bots = await repository.bot_names(
        session, principal.workspace_id, [r.bot_id for r in rows if r.bot_id]
    )
    return [_read(r, names, bots) for r in rows]


async def list_conversations(
    session: AsyncSession,
    principal: Principal,
    filters: ConversationFilters,
    *,
    cursor: str | None,
    limit: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[ConversationRead], str | None]:
    """The workspace's conversations, newest first, narrowed by the filters and `where`."""
    stmt = repository.conversations_of(principal.workspace_id)
    if filters.assignee_id == UNASSIGNED:
        # A conversation a bot holds is the bot's (R13.2), not waiting for anyone.
        stmt = stmt.where(Conversation.assignee_id.is_(None), Conversation.bot_id.is_(None))
    elif filters.assignee_id is not None:
        stmt = stmt.where(Conversation.assignee_id == filters.assignee_id)
    for column, value in (
        (Conversation.status, filters.status),
        (Conversation.channel_id, filters.channel_id),
        (Conversation.team_id, filters.team_id),
        (Conversation.contact_id, filters.contact_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    for condition in where:  # e.g. the inbox's contact-group narrowing
        stmt = stmt.where(condition)
    page = repository.priority_page if filters.sort == "priority" else repository.newest_page
    rows, next_cursor = await page(session, stmt, cursor=cursor, limit=limit)
    _note_version(session, rows)
    return await read_many(session, principal, rows), next_cursor


async def read_conversation_row(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> ConversationRead:
    """One conversation as read, without its event log (404 if missing or foreign)."""
    conversation = await access_conversation_by_id(session, principal, conversation_id)
    return (await read_many(session, principal, [conversation]))[0]


def search_condition(workspace_id: str, q: str, *, all_values: bool) -> ColumnElement[bool]:
    """Conversations whose contact's name or values, or a message of their own, hold every
    word of q (prefix match); without `all_values` a hidden attribute's value matches nothing."""
    return contacts.conversation_search(workspace_id, q, all_values=all_values)


async def read_conversation(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> ConversationDetail:
    """One conversation with its event log."""
    conversation = await access_conversation_by_id(session, principal, conversation_id)
    read = (await read_many(session, principal, [conversation]))[0]
    events = await repository.events_of(session, principal.workspace_id, conversation.id)
    labels = await repository.labels_of(session, principal.workspace_id, conversation.id)
    return ConversationDetail(
        **read.model_dump(),
        events=[ConversationEventRead.model_validate(e) for e in events],
        labels=[AppliedLabel(kind=LabelKind(k), name=n) for k, n in labels],
    )


async def check_version(
    session: AsyncSession, principal: Principal, conversation: Conversation, if_match: IfMatch
) -> None:
    """412 stale unless the conversation's version is one of `if_match` (None: no check)."""
    # Under the row lock, before any write: the version cannot move until commit.
    if if_match is not None and not if_match.matches(conversation.version):
        current = await read_conversation(session, principal, conversation.id)
        raise PreconditionFailed(
            _("Someone changed this conversation since you loaded it."),
            extra={"current": current.model_dump(mode="json")},
        )


async def update_conversation(
    session: AsyncSession,
    principal: Principal,
    conversation_id: str,
    data: ConversationUpdate,
    *,
    if_match: IfMatch = None,
) -> ConversationDetail:
    """Change a conversation's status, assignee or team; each change is an event.

    With `if_match`, only if the conversation's version is one of them (else 412 stale).
    """
    # Locked before its status, assignee and team are read: of concurrent identical
    # changes exactly one sees the old value, records the event and enqueues the write-back.
    conversation = await access_conversation_by_id(
        session, principal, conversation_id, for_update=True
    )
    await check_version(session, principal, conversation, if_match)
    ws, actor = principal.workspace_id, Actor.of(principal)
    fields = data.model_fields_set
    assignment = (conversation.assignee_id, conversation.team_id)
    held_by = conversation.bot_id
    if held_by is not None and (data.assignee_id is not None or data.status is Status.RESOLVED):
        # Assigning it to someone, or resolving it, takes it back from the bot (R13.2).
        await _event(session, ws, conversation.id, actor, held_by, None, kind="bot")
        conversation.bot_id = None
    if "assignee_id" in fields and data.assignee_id != conversation.assignee_id:
        if data.assignee_id is not None:
            assignee = await users.access_user_by_id(session, principal, data.assignee_id)
            if not assignee.active:
                raise InvalidInput.for_field(
                    "assignee_id",
                    _("This person is deactivated; assign the conversation to someone active."),
                    code="assignee_inactive",
                )
        await _event(
            session,
            ws,
            conversation.id,
            actor,
            conversation.assignee_id,
            data.assignee_id,
            kind="assignee",
        )
        conversation.assignee_id = data.assignee_id
    if "team_id" in fields and data.team_id != conversation.team_id:
        if data.team_id is not None:
            await users.access_team_by_id(session, principal, data.team_id)
        await _event(
            session, ws, conversation.id, actor, conversation.team_id, data.team_id, kind="team"
        )
        conversation.team_id = data.team_id
    if (*assignment, held_by) != (
        conversation.assignee_id,
        conversation.team_id,
        conversation.bot_id,
    ):
        await emit(
            session,
            ConversationAssigned(
                workspace_id=ws,
                conversation_id=conversation.id,
                assignee_id=conversation.assignee_id,
                team_id=conversation.team_id,
                previous_assignee_id=assignment[0],
                previous_team_id=assignment[1],
                actor_kind=actor.kind,
                actor_id=actor.id,
                bot_id=conversation.bot_id,
                previous_bot_id=held_by,
            ),
        )
    if data.status is not None and data.status != conversation.status:
        old_status = conversation.status
        conversation.status = data.status.value
        await _flush_reopen(session)
        await _status_event(
            session,
            ws,
            conversation.id,
            conversation.contact_id,
            actor,
            old_status,
            data.status.value,
            reason=data.reason,
            comment=data.comment,
        )
        if old_status == Status.PENDING and data.status is Status.NEW:
            # Routing re-scored it (its subscriber): read the new score back.
            await session.refresh(conversation, ["priority_score"])
    await _flush_reopen(session)
    return await read_conversation(session, principal, conversation.id)


# How a stored author kind is shown (R11.5): users (admins too) answer as agents; an
# integration other than a bot (a CRM) or no one at all is the system.
_AUTHOR_KINDS = {"contact": AuthorKind.CONTACT, "user": AuthorKind.AGENT, "bot": AuthorKind.BOT}
SYSTEM_NAME = "Rolodex"
# The business writing from the platform's own app (an echo): not an agent of Rolodex.
PLATFORM = "platform"


def author_kind(stored: str) -> AuthorKind:
    """The kind of author a message's stored `author_kind` stands for."""
    return _AUTHOR_KINDS.get(stored, AuthorKind.SYSTEM)


async def authors(
    session: AsyncSession, principal: Principal, refs: Iterable[tuple[str, str | None]]
) -> dict[tuple[str, str | None], MessageAuthor]:
    """Who wrote messages, by their stored (author_kind, author_id): kind, id and name.

    Contacts are named by their display name, agents by their user's name, bots by their
    token's name; three look-ups at most, whatever the number of messages.
    """
    wanted = set(refs)
    ids: dict[AuthorKind, list[str]] = {kind: [] for kind in AuthorKind}
    for stored, author_id in wanted:
        if author_id:
            ids[author_kind(stored)].append(author_id)
    contact_names = await contacts.display_names(session, principal, ids[AuthorKind.CONTACT])
    user_names, bot_names = await repository.author_names(
        session, principal.workspace_id, ids[AuthorKind.AGENT], ids[AuthorKind.BOT]
    )
    found: dict[tuple[str, str | None], MessageAuthor] = {}
    for stored, author_id in wanted:
        kind = author_kind(stored)
        key = author_id or ""
        if kind is AuthorKind.CONTACT:
            name = contact_names.get(key, "")
        elif kind is AuthorKind.AGENT:
            name = user_names.get(key, "")
        elif kind is AuthorKind.BOT:
            name = bot_names.get(key) or _("Bot")
        else:
            author_id = None
            name = _("Sent from the platform's app") if stored == PLATFORM else SYSTEM_NAME
        found[(stored, key or None)] = MessageAuthor(kind=kind, id=author_id, name=name)
    return found


async def _messages_read(
    session: AsyncSession, principal: Principal, rows: Sequence[Message]
) -> list[MessageRead]:
    ids = [m.id for m in rows]
    files = await repository.attachments_of(session, principal.workspace_id, ids)
    reactions = await deliveries.reactions_of(session, principal.workspace_id, ids)
    by = await authors(session, principal, [(m.author_kind, m.author_id) for m in rows])
    return [
        MessageRead.model_validate(
            {
                **_message_fields(m),
                "author": by[(m.author_kind, m.author_id or None)],
                "attachments": [AttachmentRead.model_validate(a) for a in files[m.id]],
                "reactions": [
                    ReactionRead(
                        emoji=r.emoji, author_kind=author_kind(r.author_kind), author_id=r.author_id
                    )
                    for r in reactions[m.id]
                ],
            }
        )
        for m in rows
    ]


_COMPUTED = ("author", "attachments", "delivery", "reactions")


def _message_fields(message: Message) -> dict[str, Any]:
    fields = {
        name: getattr(message, name) for name in MessageRead.model_fields if name not in _COMPUTED
    }
    fields["delivery"] = _delivery(message)
    return fields


def _delivery(message: Message) -> DeliveryRead | None:
    if message.delivery_status is None:
        return None
    error = None
    if message.delivery_error_code is not None:
        error = DeliveryError(
            code=message.delivery_error_code, title=message.delivery_error_title or ""
        )
    return DeliveryRead.model_validate(
        {
            "status": message.delivery_status,
            "error": error,
            "provider_message_id": message.provider_message_id,
            "updated_at": message.delivery_updated_at,
        }
    )


async def list_messages(
    session: AsyncSession,
    principal: Principal,
    conversation_id: str,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[MessageRead], str | None]:
    """A conversation's messages, oldest first, with their attachments."""
    conversation = await access_conversation_by_id(session, principal, conversation_id)
    stmt = repository.messages_of(principal.workspace_id, conversation.id)
    rows, next_cursor = await id_page(session, stmt, Message.id, cursor=cursor, limit=limit)
    return await _messages_read(session, principal, rows), next_cursor


async def open_conversation_id(
    session: AsyncSession, workspace_id: str, channel_id: str, contact_id: str
) -> str | None:
    """The contact's open conversation on the channel (None: none is open)."""
    return await repository.open_conversation_id(session, workspace_id, channel_id, contact_id)


async def contact_channel_messages(
    session: AsyncSession,
    principal: Principal,
    channel_id: str,
    contact_id: str,
    limit: int,
    conversation_id: str | None = None,
) -> list[MessageRead]:
    """A contact's last messages on one channel, across its conversations or in one of them
    (404 unless it is theirs), oldest first: what a web chat visitor sees of their history."""
    if conversation_id is not None:
        found = await repository.get(session, principal.workspace_id, conversation_id)
        if found is None or (found.contact_id, found.channel_id) != (contact_id, channel_id):
            raise NotFound(_("Conversation not found."), code="conversation_not_found")
    rows = await repository.contact_channel_messages(
        session, principal.workspace_id, channel_id, contact_id, limit, conversation_id
    )
    return await _messages_read(session, principal, rows)


async def contact_message(
    session: AsyncSession, principal: Principal, contact_id: str, message_id: str
) -> MessageRead | None:
    """One message of one of the contact's conversations (None: not theirs, or gone)."""
    row = await repository.get_message(session, principal.workspace_id, message_id)
    if row is None or row.internal:
        return None
    conversation = await repository.get(session, principal.workspace_id, row.conversation_id)
    if conversation is None or conversation.contact_id != contact_id:
        return None
    return (await _messages_read(session, principal, [row]))[0]


async def reply(
    session: AsyncSession,
    principal: Principal,
    conversation_id: str,
    data: MessageCreate,
    *,
    data_dir: Path | None = None,
    max_attachment_bytes: int = 0,
    if_match: IfMatch = None,
    uploaded: Sequence[files.DecodedFile] = (),
) -> MessageRead:
    """An agent's (or a bot's) reply: an outbound message by the caller; the conversation
    becomes pending. `uploaded`: files sent with it besides the body's (a bot's uploads).

    With `if_match`, only if the conversation's version is one of them (else 412 stale): the
    agent saw the status and assignee that it still has.
    """
    decoded = files.decode_all(data.attachments, max_attachment_bytes)  # 413/422 before writes
    decoded.extend(uploaded)
    # Locked: of concurrent replies only the first records the change to pending.
    conversation = await access_conversation_by_id(
        session, principal, conversation_id, for_update=True
    )
    await check_version(session, principal, conversation, if_match)
    now = utcnow()
    message = Message(
        id=new_id("msg"),
        workspace_id=principal.workspace_id,
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction="outbound",
        author_kind=principal.actor_kind,
        author_id=principal.actor_id,
        external_id=None,
        text=data.text,
        sent_at=now,
        created_at=now,
    )
    session.add(message)
    if conversation.status != Status.PENDING:
        old_status, conversation.status = conversation.status, Status.PENDING.value
        await _status_event(
            session,
            principal.workspace_id,
            conversation.id,
            conversation.contact_id,
            Actor.of(principal),
            old_status,
            Status.PENDING.value,
            reason="bot_replied" if principal.kind == "bot" else "agent_replied",
        )
    conversation.last_message_at = now
    conversation.last_message_preview = data.text[: repository.PREVIEW_LENGTH]
    conversation.last_message_direction = "outbound"
    await _flush_reopen(session)
    if decoded:
        assert data_dir is not None, "a reply with files needs the data dir"
        await attach_files(session, principal.workspace_id, message.id, decoded, data_dir)
    await emit(
        session,
        MessageSent(
            workspace_id=principal.workspace_id,
            message_id=message.id,
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            channel_id=conversation.channel_id,
            author_kind=principal.actor_kind,
            author_id=principal.actor_id,
        ),
    )
    # A connected channel's subscriber queued its delivery: read that back.
    await session.refresh(message, ["delivery_status", "delivery_updated_at"])
    stored = await repository.attachments_of(session, principal.workspace_id, [message.id])
    author = MessageAuthor(
        kind=author_kind(principal.actor_kind),
        id=principal.actor_id,
        name=principal.name or (_("Bot") if principal.kind == "bot" else ""),
    )
    if author.kind is AuthorKind.SYSTEM:
        author = MessageAuthor(kind=AuthorKind.SYSTEM, id=None, name=SYSTEM_NAME)
    return MessageRead.model_validate(
        {
            **_message_fields(message),
            "author": author,
            "attachments": [AttachmentRead.model_validate(a) for a in stored[message.id]],
        }
    )


# --- public face ------------------------------------------------------------------------
# For the channels domain, which delivers replies and applies what platforms report back.
Outgoing = deliveries.Outgoing
outgoing = deliveries.outgoing
set_delivery = deliveries.set_delivery
apply_status = deliveries.apply_status
apply_watermark = deliveries.apply_watermark
message_by_platform_id = deliveries.message_by_platform_id
react = deliveries.react
attachment = deliveries.attachment
attachment_fetched = deliveries.attachment_fetched
attachment_failed = deliveries.attachment_failed
# For the bots domain: holding a conversation, notes and labels (holding.py).
hold = holding.hold
release = holding.release
add_note = holding.add_note
apply_labels = holding.apply_labels
list_labels = holding.list_labels
create_label = holding.create_label
delete_label = holding.delete_label


async def locked(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> Conversation | None:
    """The conversation, its row held until commit (None: missing or foreign)."""
    return await repository.get(session, workspace_id, conversation_id, for_update=True)


async def holder(session: AsyncSession, workspace_id: str, conversation_id: str) -> str | None:
    """The bot holding the conversation (None: no bot, or no such conversation)."""
    return await repository.holder(session, workspace_id, conversation_id)


async def held_by(session: AsyncSession, workspace_id: str, bot_id: str) -> list[str]:
    """The ids of the conversations the bot holds."""
    return await repository.held_by(session, workspace_id, bot_id)


async def bot_wrote_since(
    session: AsyncSession, workspace_id: str, conversation_id: str, bot_id: str, since: datetime
) -> bool:
    """Whether the bot wrote to the contact in the conversation at or after `since`."""
    return await repository.bot_wrote_since(session, workspace_id, conversation_id, bot_id, since)


async def priority_page(
    session: AsyncSession, stmt: Select[Any], *, cursor: str | None, limit: int
) -> tuple[Sequence[Row[Any]], str | None]:
    """One page of conversations by priority score (highest first), then oldest first."""
    rows, next_cursor = await repository.priority_page(session, stmt, cursor=cursor, limit=limit)
    _note_version(session, rows)
    return rows, next_cursor


def _note_version(session: AsyncSession, rows: Sequence[Row[Any]]) -> None:
    if rows:  # the page read the configuration version: its configuration costs no read
        workspaces.note_config_version(session, rows[0].workspace_id, rows[0].config_version)


async def read_message(session: AsyncSession, principal: Principal, message_id: str) -> MessageRead:
    """One message as the conversation's messages list shows it; 404 if missing or foreign."""
    message = await repository.get_message(session, principal.workspace_id, message_id)
    if message is None:
        raise NotFound(_("Message not found."))
    return (await _messages_read(session, principal, [message]))[0]


async def mark_read(session: AsyncSession, principal: Principal, conversation_id: str) -> None:
    """Record that the calling user read the conversation now (its unread mark goes)."""
    principal.require_user()
    assert principal.user_id is not None
    conversation = await access_conversation_by_id(session, principal, conversation_id)
    await repository.mark_read(
        session,
        {
            "id": new_id("crd"),
            "workspace_id": principal.workspace_id,
            "conversation_id": conversation.id,
            "user_id": principal.user_id,
            "read_at": utcnow(),
        },
    )


async def unread_ids(
    session: AsyncSession, principal: Principal, conversation_ids: Sequence[str]
) -> set[str]:
    """Which of these conversations are unread for the caller (one query)."""
    return await repository.unread_ids(
        session, principal.workspace_id, principal.user_id, conversation_ids
    )


async def counts(session: AsyncSession, principal: Principal) -> ConversationCounts:
    """The caller's badges: waiting (new, theirs or no one's), mine_new, unassigned_new,
    mine_unread."""
    found = await repository.counts(session, principal.workspace_id, principal.user_id)
    return ConversationCounts(**found)

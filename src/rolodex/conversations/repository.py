"""Conversation, event, message and attachment rows, always scoped by workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from rolodex.db import dialect_insert, insert_for, one_of, prepared
from rolodex.errors import InvalidInput
from rolodex.i18n import _
from rolodex.kit.clock import as_utc
from rolodex.kit.pagination import decode_cursor, encode_cursor
from rolodex.models import (
    ApiToken,
    Attachment,
    Bot,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    ConversationReadMark,
    Label,
    Message,
    User,
    Workspace,
)
from rolodex.models.conversations import OPEN

_conversations = cast(Table, Conversation.__table__)
_messages = cast(Table, Message.__table__)
_reads = cast(Table, ConversationReadMark.__table__)
PREVIEW_LENGTH = 200  # characters of the last message kept on its conversation


def conversations_of(workspace_id: str) -> Select[Conversation]:
    """The workspace-scoped statement every conversation query starts from."""
    return select(Conversation).where(Conversation.workspace_id == workspace_id)


async def open_conversation(
    session: AsyncSession,
    *,
    new_id: str,
    workspace_id: str,
    channel_id: str,
    contact_id: str,
    at: datetime,
    preview: str,
    direction: str,
    thread_key: str = "",
    subject: str | None = None,
) -> tuple[str, str, str | None]:
    """The contact's open conversation on the channel, opened (status new) if there is none.

    One statement on the partial unique index of open conversations, so concurrent
    first messages all land in one conversation; it also records the message as the last
    one. Returns (id, status, the bot holding it).
    """
    params = {
        "id": new_id,
        "workspace_id": workspace_id,
        "channel_id": channel_id,
        "contact_id": contact_id,
        "status": "new",
        "priority_score": 0,
        "last_message_at": at,
        "last_message_preview": preview[:PREVIEW_LENGTH],
        "last_message_direction": direction,
        "created_at": at,
        "thread_key": thread_key,
        "subject": subject,
    }
    row = (await (await session.connection()).execute(_open_conversation(session), params)).one()
    return str(row[0]), str(row[1]), row[2]


@prepared
def _open_conversation(dialect: str) -> Any:
    stmt = insert_for(dialect, _conversations)
    return stmt.on_conflict_do_update(
        index_elements=["contact_id", "channel_id", "thread_key"],
        index_where=OPEN,
        set_={
            name: stmt.excluded[name]
            for name in ("last_message_at", "last_message_preview", "last_message_direction")
        },
    ).returning(_conversations.c.id, _conversations.c.status, _conversations.c.bot_id)


async def change_status_if(
    session: AsyncSession, workspace_id: str, conversation_id: str, *, old: str, new: str
) -> bool:
    """Move a conversation from one status to another if it still has the old one."""
    stmt = (
        update(_conversations)
        .where(
            _conversations.c.workspace_id == workspace_id,
            _conversations.c.id == conversation_id,
            _conversations.c.status == old,
        )
        .values(status=new)
        .returning(_conversations.c.id)
    )
    return (await session.execute(stmt)).first() is not None


async def insert_event(session: AsyncSession, row: dict[str, Any]) -> None:
    """Append a conversation event."""
    await session.execute(insert(cast(Table, ConversationEvent.__table__)), [row])


async def insert_inbound_message(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Insert a message unless its (channel, external id) exists; whether it was inserted."""
    inserted = await (await session.connection()).execute(_insert_inbound_message(session), row)
    return inserted.first() is not None


@prepared
def _insert_inbound_message(dialect: str) -> Any:
    return (
        insert_for(dialect, _messages)
        .on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
        .returning(_messages.c.id)
    )


async def find_inbound_message(
    session: AsyncSession, workspace_id: str, channel_id: str, external_id: str
) -> tuple[str, str, str] | None:
    """(message id, conversation id, contact id) of a received message, if any."""
    stmt = (
        select(Message.id, Message.conversation_id, Conversation.contact_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.workspace_id == workspace_id,
            Message.channel_id == channel_id,
            Message.external_id == external_id,
        )
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1], row[2])


async def received_ids(
    session: AsyncSession, workspace_id: str, channel_id: str, external_ids: Sequence[str]
) -> set[str]:
    """The external ids among these that the channel has.

    PostgreSQL: one probe of the unique (channel, external id) index per id, whatever the
    statistics (with stale ones, the IN form filtered every message of the channel).
    """
    if not external_ids:
        return set()
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        params = {"ids": sorted(set(external_ids)), "c": channel_id, "ws": workspace_id}
        rows = await (await session.connection()).execute(_RECEIVED_IDS_PG, params)
        return {str(i) for i in rows.scalars()}
    stmt = select(Message.external_id).where(
        Message.workspace_id == workspace_id,
        Message.channel_id == channel_id,
        Message.external_id.in_(list(set(external_ids))),
    )
    return {str(i) for i in (await session.execute(stmt)).scalars()}


_RECEIVED_IDS_PG = text(
    "SELECT m.external_id FROM unnest(CAST(:ids AS varchar[])) AS x(id) "
    "CROSS JOIN LATERAL (SELECT external_id FROM messages WHERE channel_id = :c "
    "AND external_id = x.id AND workspace_id = :ws LIMIT 1) AS m"
)


async def thread_of(
    session: AsyncSession, workspace_id: str, channel_id: str, message_ids: Sequence[str]
) -> tuple[str, str | None] | None:
    """(thread key, subject) of the newest conversation holding one of these platform ids."""
    wanted = list(set(message_ids))
    if not wanted:
        return None
    stmt = (
        select(Conversation.thread_key, Conversation.subject)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Message.workspace_id == workspace_id,
            Message.channel_id == channel_id,
            or_(Message.external_id.in_(wanted), Message.provider_message_id.in_(wanted)),
        )
        .order_by(Conversation.created_at.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    return (str(row[0]), row[1]) if row else None


async def thread_message_ids(
    session: AsyncSession, workspace_id: str, conversation_id: str, limit: int
) -> tuple[str | None, list[str]]:
    """A conversation's subject and its last platform message ids, oldest first."""
    subject = (
        await session.execute(
            select(Conversation.subject).where(
                Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
            )
        )
    ).scalar_one_or_none()
    platform_id = func.coalesce(Message.external_id, Message.provider_message_id)
    stmt = (
        select(platform_id)
        .where(
            Message.workspace_id == workspace_id,
            Message.conversation_id == conversation_id,
            platform_id.is_not(None),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    ids = [str(i) for i in (await session.execute(stmt)).scalars()]
    return subject, ids[::-1]


async def insert_attachments(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store attachment metadata rows."""
    if rows:
        await session.execute(insert(cast(Table, Attachment.__table__)), list(rows))


async def get(
    session: AsyncSession, workspace_id: str, conversation_id: str, *, for_update: bool = False
) -> Conversation | None:
    """One conversation of the workspace; `for_update` holds its row until commit."""
    # populate_existing: a trigger may have bumped the version since it was last loaded.
    stmt = (
        conversations_of(workspace_id)
        .where(Conversation.id == conversation_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        # NO KEY UPDATE: inserts that reference the conversation (messages, events) still
        # run. SQLite renders no clause; BEGIN IMMEDIATE already serialises its writers.
        stmt = stmt.with_for_update(key_share=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def any_on_channel(session: AsyncSession, workspace_id: str, channel_id: str) -> bool:
    """Whether the channel has any conversation."""
    stmt = (
        select(Conversation.id)
        .where(Conversation.workspace_id == workspace_id, Conversation.channel_id == channel_id)
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def open_conversation_id(
    session: AsyncSession, workspace_id: str, channel_id: str, contact_id: str
) -> str | None:
    """The contact's newest open conversation on the channel, if any."""
    stmt = (
        select(Conversation.id)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.channel_id == channel_id,
            Conversation.contact_id == contact_id,
            Conversation.status != "resolved",
        )
        .order_by(Conversation.created_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def contact_channel_messages(
    session: AsyncSession,
    workspace_id: str,
    channel_id: str,
    contact_id: str,
    limit: int,
    conversation_id: str | None = None,
) -> list[Message]:
    """The contact's last `limit` messages on one channel, across its conversations (or in
    one of them), oldest first."""
    stmt = (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.channel_id == channel_id,
            Conversation.contact_id == contact_id,
            Message.internal.is_(False),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    if conversation_id is not None:
        stmt = stmt.where(Conversation.id == conversation_id)
    return list((await session.execute(stmt)).scalars())[::-1]


def messages_of(workspace_id: str, conversation_id: str) -> Select[Message]:
    """A conversation's messages."""
    return select(Message).where(
        Message.workspace_id == workspace_id, Message.conversation_id == conversation_id
    )


async def attachments_of(
    session: AsyncSession, workspace_id: str, message_ids: Sequence[str]
) -> dict[str, list[Attachment]]:
    """The attachments of these messages, by message id, in one query."""
    out: dict[str, list[Attachment]] = {m: [] for m in message_ids}
    if not message_ids:
        return out
    stmt = (
        select(Attachment)
        .where(Attachment.workspace_id == workspace_id, Attachment.message_id.in_(message_ids))
        .order_by(Attachment.id)
    )
    for row in (await session.execute(stmt)).scalars():
        out[row.message_id].append(row)
    return out


async def author_names(
    session: AsyncSession, workspace_id: str, user_ids: Sequence[str], token_ids: Sequence[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The names of these users and of these bots (a bot, or a bot's integration token) of the
    workspace, by id; a bot is named "<Name> VA"."""
    users: dict[str, str] = {}
    tokens: dict[str, str] = {}
    if user_ids:
        stmt = select(User.id, User.name).where(
            User.workspace_id == workspace_id, User.id.in_(list(user_ids))
        )
        users = {str(i): str(n) for i, n in await session.execute(stmt)}
    if token_ids:
        stmt = select(ApiToken.id, ApiToken.name).where(
            ApiToken.workspace_id == workspace_id, ApiToken.id.in_(list(token_ids))
        )
        tokens = {str(i): str(n) for i, n in await session.execute(stmt)}
        tokens.update(await bot_names(session, workspace_id, token_ids))
    return users, tokens


async def bot_names(
    session: AsyncSession, workspace_id: str, bot_ids: Sequence[str]
) -> dict[str, str]:
    """These bots' names as agents see them ("<Name> VA"), by id."""
    if not bot_ids:
        return {}
    stmt = select(Bot.id, Bot.name).where(
        Bot.workspace_id == workspace_id, Bot.id.in_(list(set(bot_ids)))
    )
    return {str(i): _("%(name)s VA", name=n) for i, n in await session.execute(stmt)}


async def events_of(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> list[ConversationEvent]:
    """A conversation's events, oldest first."""
    stmt = (
        select(ConversationEvent)
        .where(
            ConversationEvent.workspace_id == workspace_id,
            ConversationEvent.conversation_id == conversation_id,
        )
        .order_by(ConversationEvent.id)
    )
    return list((await session.execute(stmt)).scalars())


MAX_SCORE = 2**31 - 1  # a score beyond this is no cursor of ours
_PAGE_EXTRAS = (
    select(Contact.display_name)
    .where(Contact.id == Conversation.contact_id, Contact.workspace_id == Conversation.workspace_id)
    .scalar_subquery()
    .label("contact_display_name"),
    select(Workspace.config_version)
    .where(Workspace.id == Conversation.workspace_id)
    .scalar_subquery()
    .label("config_version"),
)


async def priority_page(
    session: AsyncSession, stmt: Select[Any], *, cursor: str | None, limit: int
) -> tuple[Sequence[Row[Any]], str | None]:
    """One page of conversations by score (highest first), then oldest first, then id.

    The rows are Core rows of every column (attributes named as the model's), with the
    contact's `contact_display_name` and the workspace's `config_version`: lists read them
    once, and loading 50 entities (and two more statements) cost more than the query.
    """
    if cursor:
        score, created, last_id = decode_cursor(cursor, 3)
        try:
            at = as_utc(datetime.fromisoformat(str(created)))
            points = int(score)
            if abs(points) > MAX_SCORE:
                raise ValueError(points)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInput.for_field("query.cursor", _("Malformed cursor.")) from None
        stmt = stmt.where(
            or_(
                Conversation.priority_score < points,
                and_(Conversation.priority_score == points, Conversation.created_at > at),
                and_(
                    Conversation.priority_score == points,
                    Conversation.created_at == at,
                    Conversation.id > str(last_id),
                ),
            )
        )
    order = (Conversation.priority_score.desc(), Conversation.created_at, Conversation.id)
    rows = await _page_rows(session, stmt.order_by(*order).limit(limit + 1))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([last.priority_score, last.created_at.isoformat(), last.id])


async def newest_page(
    session: AsyncSession, stmt: Select[Any], *, cursor: str | None, limit: int
) -> tuple[Sequence[Row[Any]], str | None]:
    """One page of conversations newest first (by their time-sortable id), rows as
    `priority_page` gives them."""
    if cursor:
        (before,) = decode_cursor(cursor, 1)
        stmt = stmt.where(Conversation.id < str(before))
    rows = await _page_rows(session, stmt.order_by(Conversation.id.desc()).limit(limit + 1))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([rows[-1].id])


async def _page_rows(session: AsyncSession, stmt: Select[Any]) -> Sequence[Row[Any]]:
    columns = stmt.with_only_columns(*Conversation.__table__.columns, *_PAGE_EXTRAS)
    result = await (await session.connection()).execute(columns)
    return cast(Sequence[Row[Any]], result.all())


async def get_message(session: AsyncSession, workspace_id: str, message_id: str) -> Message | None:
    """One message of the workspace."""
    stmt = select(Message).where(Message.workspace_id == workspace_id, Message.id == message_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_read(session: AsyncSession, row: dict[str, Any]) -> None:
    """Record when a user read a conversation (one upsert on (conversation, user))."""
    await session.execute(_mark_read(session), row)


@prepared
def _mark_read(dialect: str) -> Any:
    stmt = insert_for(dialect, _reads)
    return stmt.on_conflict_do_update(
        index_elements=["conversation_id", "user_id"], set_={"read_at": stmt.excluded.read_at}
    )


def unread_expression(user_id: str | BindParameter[str] | None) -> ColumnElement[bool]:
    """Whether a conversation's last message is inbound and this user has not read it since."""
    reader = user_id if isinstance(user_id, BindParameter) else (user_id or "")
    read = (
        select(_reads.c.id)
        .where(
            _reads.c.conversation_id == Conversation.id,
            _reads.c.user_id == reader,
            _reads.c.read_at >= Conversation.last_message_at,
        )
        .exists()
    )
    return and_(Conversation.last_message_direction == "inbound", ~read)


async def unread_ids(
    session: AsyncSession, workspace_id: str, user_id: str | None, conversation_ids: Sequence[str]
) -> set[str]:
    """Which of these conversations are unread for the user (one query)."""
    if not conversation_ids:
        return set()
    params = {"workspace_id": workspace_id, "ids": list(conversation_ids), "user_id": user_id or ""}
    rows = await (await session.connection()).execute(_UNREAD(session), params)
    return {str(conversation_id) for (conversation_id,) in rows}


# Built once: every conversation list page runs it.
_UNREAD = prepared(
    lambda dialect: select(Conversation.id).where(
        Conversation.workspace_id == bindparam("workspace_id"),
        one_of(Conversation.id, "ids", dialect),
        unread_expression(bindparam("user_id")),
    )
)


async def counts(session: AsyncSession, workspace_id: str, user_id: str | None) -> dict[str, int]:
    """The badges of the views: waiting, mine_new, unassigned_new, mine_unread (one query)."""
    c = Conversation
    mine = c.assignee_id == (user_id or "")
    new = c.status == "new"
    # A conversation a bot holds waits for no one of the team (R13.2).
    unassigned = and_(c.assignee_id.is_(None), c.bot_id.is_(None))

    def count(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    stmt = select(
        count(and_(new, or_(mine, unassigned))),
        count(and_(new, mine)),
        count(and_(new, unassigned)),
        count(and_(mine, unread_expression(user_id))),
    ).where(c.workspace_id == workspace_id, c.status != "resolved")
    row = (await session.execute(stmt)).one()
    names = ("waiting", "mine_new", "unassigned_new", "mine_unread")
    return {name: int(value) for name, value in zip(names, row, strict=True)}


async def holder(session: AsyncSession, workspace_id: str, conversation_id: str) -> str | None:
    """The bot holding the conversation, if any."""
    stmt = select(Conversation.bot_id).where(
        Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def held_by(session: AsyncSession, workspace_id: str, bot_id: str) -> list[str]:
    """The conversations the bot holds."""
    stmt = select(Conversation.id).where(
        Conversation.workspace_id == workspace_id, Conversation.bot_id == bot_id
    )
    return [str(i) for i in (await session.execute(stmt)).scalars()]


async def bot_wrote_since(
    session: AsyncSession, workspace_id: str, conversation_id: str, bot_id: str, since: datetime
) -> bool:
    """Whether the bot wrote to the contact in the conversation at or after `since`."""
    stmt = (
        select(Message.id)
        .where(
            Message.workspace_id == workspace_id,
            Message.conversation_id == conversation_id,
            Message.author_kind == "bot",
            Message.author_id == bot_id,
            Message.internal.is_(False),
            Message.created_at >= since,
        )
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def labels_of(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> list[tuple[str, str]]:
    """(kind, name) of the labels applied to the conversation, by kind then name."""
    stmt = (
        select(Label.kind, Label.name)
        .join(ConversationLabel, ConversationLabel.label_id == Label.id)
        .where(
            ConversationLabel.workspace_id == workspace_id,
            ConversationLabel.conversation_id == conversation_id,
        )
        .order_by(Label.kind, Label.name)
    )
    return [(str(k), str(n)) for k, n in await session.execute(stmt)]


async def catalogue(
    session: AsyncSession, workspace_id: str, kind: str | None = None
) -> list[Label]:
    """The workspace's labels (of one kind), by kind then name."""
    stmt = select(Label).where(Label.workspace_id == workspace_id).order_by(Label.kind, Label.name)
    if kind is not None:
        stmt = stmt.where(Label.kind == kind)
    return list((await session.execute(stmt)).scalars())


async def get_label(session: AsyncSession, workspace_id: str, label_id: str) -> Label | None:
    """One label of the workspace."""
    stmt = select(Label).where(Label.workspace_id == workspace_id, Label.id == label_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def apply_labels(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Apply labels to a conversation; one already applied stays as it is."""
    if rows:
        stmt = dialect_insert(session, ConversationLabel).on_conflict_do_nothing(
            index_elements=["conversation_id", "label_id"]
        )
        await session.execute(stmt, list(rows))

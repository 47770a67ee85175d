"""Indexed search over contact names, attribute values and message text (R12.4).

Every word of the query must match (prefix match: "ord 12" finds "order 1234") one document:
a contact's display name, one of its attribute values, or one message. PostgreSQL answers from
GIN expression indexes over `to_tsvector('simple', …)` (migration a18b00000002), SQLite from
FTS5 tables that triggers keep in step with every write, erasure included. The SQL differs per
dialect, so the conditions here are compiled for the database they run on.

Words are the runs of the query between whitespace and ASCII punctuation; the indexed text is
split the same way (PostgreSQL: punctuation replaced by spaces in the indexed expression;
SQLite: the unicode61 tokenizer), so an e-mail, a phone number or "order-1234" is found by
any of its parts. Each word is quoted before it reaches the text-search syntax: a query can
never be an operator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    and_,
    bindparam,
    column,
    exists,
    false,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from rolodex.models import (
    AttributeChannelDisabled,
    AttributeDefinition,
    AttributeValue,
    Contact,
    Conversation,
    Message,
)

MAX_WORDS = 8  # more words narrow little and cost a probe each
_SPLIT = re.compile(r"[\s!-/:-@\[-`{-~]+")
# The expression the PostgreSQL indexes are built on: literal, so that the planner matches it.
_PUNCTUATION: ColumnElement[str] = literal_column("'[[:punct:]]+'")
_SIMPLE: ColumnElement[str] = literal_column("'simple'::regconfig")

_messages_fts = table("messages_fts", column("conversation_id"), column("workspace_id"))
_contacts_fts = table("contacts_fts", column("id"), column("workspace_id"))
_values_fts = table(
    "attribute_values_fts", column("contact_id"), column("definition_id"), column("workspace_id")
)


def words(q: str) -> list[str]:
    """The searchable words of a query (those with a letter or digit), at most MAX_WORDS."""
    found = [w for w in _SPLIT.split(q) if any(ch.isalnum() for ch in w)]
    return found[:MAX_WORDS]


def postgres_query(found: list[str]) -> str:
    """A to_tsquery text: every word quoted, as a prefix, all of them required."""
    return " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in found)


def sqlite_query(found: list[str]) -> str:
    """An FTS5 MATCH text: every word a quoted prefix phrase, all of them required."""
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in found)


class _PerDialect(ColumnElement[bool]):
    """A condition built when the statement is compiled, for that database."""

    type = Boolean()
    inherit_cache = False  # the words differ each time: nothing to cache

    def __init__(self, build: Callable[[str], ColumnElement[bool]]) -> None:
        self.build = build


@compiles(_PerDialect)
def _compile(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    # Parenthesised: the condition is an OR, and the statement ANDs it with its others.
    return "(" + str(compiler.process(element.build(compiler.dialect.name), **kw)) + ")"


def _tsvector(text_column: Any) -> Any:
    return func.to_tsvector(
        _SIMPLE,
        func.regexp_replace(
            text_column, _PUNCTUATION, literal_column("' '"), literal_column("'g'")
        ),
    )


def _ts_match(text_column: Any, found: list[str]) -> ColumnElement[bool]:
    # Rendered into the statement (quoted by the dialect), not sent as a parameter: a
    # prepared statement's generic plan would estimate every word alike, and the right plan
    # differs (a common word: walk the newest conversations; a rare one: the index first).
    text: ColumnElement[str] = bindparam(
        None, postgres_query(found), unique=True, literal_execute=True
    )
    query = func.to_tsquery(_SIMPLE, text)
    return _tsvector(text_column).op("@@")(query).self_group()  # type: ignore[no-any-return]


def _fts_match(name: str, found: list[str]) -> ColumnElement[bool]:
    query: ColumnElement[str] = bindparam(None, sqlite_query(found), unique=True)
    return literal_column(name).op("MATCH")(query)


def _visible(workspace_id: str, definition_id: Any, contact_id: Any) -> ColumnElement[bool]:
    # As attributes/visibility.py decides for agents: enabled, and not turned off on the
    # contact's channel.
    return and_(
        exists().where(
            AttributeDefinition.workspace_id == workspace_id,
            AttributeDefinition.id == definition_id,
            AttributeDefinition.enabled.is_(True),
        ),
        ~exists().where(
            AttributeChannelDisabled.workspace_id == workspace_id,
            AttributeChannelDisabled.definition_id == definition_id,
            AttributeChannelDisabled.channel_id == Contact.channel_id,
            Contact.id == contact_id,
        ),
    )


def _contacts_by_name_or_value(
    dialect: str, workspace_id: str, found: list[str], *, all_values: bool
) -> tuple[Any, Any]:
    """Selects of contact ids whose display name, or a (visible) value, matches."""
    if dialect == "sqlite":
        names = select(_contacts_fts.c.id).where(
            _fts_match("contacts_fts", found), _contacts_fts.c.workspace_id == workspace_id
        )
        v: Any = _values_fts.c
        values = select(v.contact_id).where(
            _fts_match("attribute_values_fts", found), v.workspace_id == workspace_id
        )
    else:
        names = select(Contact.id).where(
            Contact.workspace_id == workspace_id, _ts_match(Contact.display_name, found)
        )
        v = AttributeValue.__table__.c
        values = select(v.contact_id).where(
            v.workspace_id == workspace_id, _ts_match(v.value, found)
        )
    if not all_values:
        values = values.where(_visible(workspace_id, v.definition_id, v.contact_id))
    return names, values


def _has_message(
    dialect: str, workspace_id: str, found: list[str], conversation_id: Any
) -> ColumnElement[bool]:
    """Whether the conversation (a column) has a matching message."""
    if dialect == "sqlite":
        m = _messages_fts.c
        return conversation_id.in_(  # type: ignore[no-any-return]
            select(m.conversation_id).where(
                _fts_match("messages_fts", found), m.workspace_id == workspace_id
            )
        )
    # Correlated EXISTS, not IN: PostgreSQL then chooses per query between probing the
    # newest conversations' messages (a common word: the first page fills at once) and
    # hashing the index's matches (a rare word); IN always hashes every match (measured:
    # 4 s against 1 ms for a word in 600,000 of 1,000,000 messages).
    return exists().where(
        Message.conversation_id == conversation_id,
        Message.workspace_id == workspace_id,
        _ts_match(Message.text, found),
    )


def _matching(
    workspace_id: str,
    q: str,
    contact_id: Any,
    messages: Callable[[str, list[str]], ColumnElement[bool]],
    *,
    all_values: bool,
) -> ColumnElement[bool]:
    """The contact (`contact_id`, a column) by name or value, or `messages` holds every word."""
    found = words(q)
    if not found:
        return false()

    def build(dialect: str) -> ColumnElement[bool]:
        names, values = _contacts_by_name_or_value(
            dialect, workspace_id, found, all_values=all_values
        )
        return (  # type: ignore[no-any-return]
            contact_id.in_(names) | contact_id.in_(values) | messages(dialect, found)
        )

    return _PerDialect(build)


def conversation_matches(
    conversation: type[Conversation], workspace_id: str, q: str, *, all_values: bool = True
) -> ColumnElement[bool]:
    """A condition on conversations: the contact's name or a value, or one of the
    conversation's messages, holds every word of q. No searchable word: nothing matches."""
    return _matching(
        workspace_id,
        q,
        conversation.contact_id,
        lambda dialect, found: _has_message(dialect, workspace_id, found, conversation.id),
        all_values=all_values,
    )


def contact_matches(
    contact: type[Contact], workspace_id: str, q: str, *, all_values: bool = True
) -> ColumnElement[bool]:
    """A condition on contacts: its name or a value, or a message of theirs, holds every word
    of q. No searchable word: nothing matches."""
    return _matching(
        workspace_id,
        q,
        contact.id,
        lambda dialect, found: exists().where(
            Conversation.workspace_id == workspace_id,
            Conversation.contact_id == contact.id,
            _has_message(dialect, workspace_id, found, Conversation.id),
        ),
        all_values=all_values,
    )

"""search: indexed search over message text, contact names and attribute values (R12.4)

Revision ID: a18b00000002
Revises: a18b00000001
Create Date: 2026-12-03 18:01:00

PostgreSQL: GIN expression indexes over to_tsvector('simple', …) of the text with ASCII
punctuation turned into spaces (rolodex/contacts/search.py queries exactly these expressions;
no extension needed). SQLite: FTS5 external-content tables over the same columns, kept in step
by triggers on insert, update and delete (erasure's cascades included), filled here once.

External content tables address rows by rowid: after a VACUUM (which may renumber the rowids
of tables without an INTEGER PRIMARY KEY) run `INSERT INTO <name>(<name>) VALUES('rebuild')`
for each of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "a18b00000002"
down_revision: str | None = "a18b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index or FTS table, table, text column, UNINDEXED columns read by the search)
_SEARCHED = (
    ("messages", "text", ("workspace_id", "conversation_id")),
    ("contacts", "display_name", ("workspace_id", "id")),
    ("attribute_values", "value", ("workspace_id", "contact_id", "definition_id")),
)
_INDEX_NAMES = {
    "messages": "ix_messages_text_search",
    "contacts": "ix_contacts_display_name_search",
    "attribute_values": "ix_attribute_values_value_search",
}


def _postgres_upgrade() -> None:
    for table, text_column, _ in _SEARCHED:
        op.execute(
            f"CREATE INDEX {_INDEX_NAMES[table]} ON {table} USING gin"
            f" (to_tsvector('simple'::regconfig,"
            f" regexp_replace({text_column}, '[[:punct:]]+', ' ', 'g')))"
        )


def _sqlite_upgrade() -> None:
    for table, text_column, unindexed in _SEARCHED:
        fts = f"{table}_fts"
        columns = ", ".join([text_column, *(f"{c} UNINDEXED" for c in unindexed)])
        names = ", ".join([text_column, *unindexed])
        new = ", ".join(f"NEW.{c}" for c in (text_column, *unindexed))
        old = ", ".join(f"OLD.{c}" for c in (text_column, *unindexed))
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({columns}, content='{table}',"
            " tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES('rebuild')")
        # Constants of this module only, never input: S608 does not apply.
        insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (NEW.rowid, {new});"  # noqa: S608
        delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', OLD.rowid, {old});"  # noqa: S608
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END")
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {text_column} ON {table}"
            f" WHEN OLD.{text_column} IS NOT NEW.{text_column}"
            f" BEGIN {delete} {insert} END"
        )


def upgrade() -> None:
    """Apply this migration."""
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    """Revert this migration."""
    for table, _, _ in _SEARCHED:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS {_INDEX_NAMES[table]}")
            continue
        for suffix in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {table}_fts")

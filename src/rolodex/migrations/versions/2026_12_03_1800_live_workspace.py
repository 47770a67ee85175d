"""live_workspace: versions, the last message on conversations, per-user reads (R12.3, R12.4)

Revision ID: a18b00000001
Revises: a17b00000001
Create Date: 2026-12-03 18:00:00

Conversations and contacts gain `version` (the ETag). Database triggers bump it, so that every
writer (routing's team moves, a user's deletion setting the assignee to NULL, the set-based
attribute writes) is covered without each remembering to: a conversation's on a change of
status, assignee_id or team_id; a contact's on a change of its display name or of one of its
attribute values. Conversations keep their last message's preview and direction (back-filled
here); conversation_reads records when each user last read a conversation (unread marks).

A later migration that rebuilds one of these tables on SQLite (batch mode) drops its triggers:
it must create them again (see create_triggers).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a18b00000001"
down_revision: str | None = "a17b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONVERSATION_CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id"
    " OR OLD.team_id IS DISTINCT FROM NEW.team_id"
)

_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION rolodex_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.version := OLD.version + 1;
        RETURN NEW;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION rolodex_bump_contact_version() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE contacts SET version = version + 1 WHERE id = NEW.contact_id;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE TRIGGER conversations_version BEFORE UPDATE OF status, assignee_id, team_id
    ON conversations FOR EACH ROW WHEN ({_CONVERSATION_CHANGED})
    EXECUTE FUNCTION rolodex_bump_version()
    """,
    """
    CREATE TRIGGER contacts_version BEFORE UPDATE OF display_name
    ON contacts FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION rolodex_bump_version()
    """,
    """
    CREATE TRIGGER attribute_values_version_insert AFTER INSERT ON attribute_values
    FOR EACH ROW WHEN (NEW.value IS NOT NULL)
    EXECUTE FUNCTION rolodex_bump_contact_version()
    """,
    """
    CREATE TRIGGER attribute_values_version_update AFTER UPDATE OF value ON attribute_values
    FOR EACH ROW WHEN (OLD.value IS DISTINCT FROM NEW.value)
    EXECUTE FUNCTION rolodex_bump_contact_version()
    """,
]

# SQLite cannot assign NEW in a trigger: an AFTER trigger updates the row (recursive triggers
# are off, and `version` is not among the watched columns anyway).
_SQLITE = [
    f"""
    CREATE TRIGGER conversations_version AFTER UPDATE OF status, assignee_id, team_id
    ON conversations FOR EACH ROW WHEN {_CONVERSATION_CHANGED.replace("DISTINCT FROM", "NOT")}
    BEGIN UPDATE conversations SET version = version + 1 WHERE id = NEW.id; END
    """,  # noqa: S608 (constants only)
    """
    CREATE TRIGGER contacts_version AFTER UPDATE OF display_name
    ON contacts FOR EACH ROW WHEN OLD.display_name IS NOT NEW.display_name
    BEGIN UPDATE contacts SET version = version + 1 WHERE id = NEW.id; END
    """,
    """
    CREATE TRIGGER attribute_values_version_insert AFTER INSERT ON attribute_values
    FOR EACH ROW WHEN NEW.value IS NOT NULL
    BEGIN UPDATE contacts SET version = version + 1 WHERE id = NEW.contact_id; END
    """,
    """
    CREATE TRIGGER attribute_values_version_update AFTER UPDATE OF value ON attribute_values
    FOR EACH ROW WHEN OLD.value IS NOT NEW.value
    BEGIN UPDATE contacts SET version = version + 1 WHERE id = NEW.contact_id; END
    """,
]

_TRIGGERS = (
    ("conversations_version", "conversations"),
    ("contacts_version", "contacts"),
    ("attribute_values_version_insert", "attribute_values"),
    ("attribute_values_version_update", "attribute_values"),
)


def create_triggers() -> None:
    """Create the version triggers for the connected database."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)


def upgrade() -> None:
    """Apply this migration."""
    op.add_column(
        "conversations", sa.Column("version", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column("conversations", sa.Column("last_message_preview", sa.String(200)))
    op.add_column("conversations", sa.Column("last_message_direction", sa.String(10)))
    op.add_column(
        "contacts", sa.Column("version", sa.Integer(), server_default="1", nullable=False)
    )
    op.create_table(
        "conversation_reads",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "user_id"),
    )
    op.create_index("ix_conversation_reads_user_id", "conversation_reads", ["user_id"])
    # The last message of each conversation: one index look-up each (conversation_id, id).
    last = (
        "SELECT {} FROM messages m WHERE m.conversation_id = conversations.id"
        " ORDER BY m.id DESC LIMIT 1"
    )
    op.execute(
        "UPDATE conversations SET"  # noqa: S608 (constants only)
        f" last_message_preview = ({last.format('substr(m.text, 1, 200)')}),"
        f" last_message_direction = ({last.format('m.direction')})"
    )
    create_triggers()


def downgrade() -> None:
    """Revert this migration."""
    for name, table in _TRIGGERS:
        op.execute(
            f"DROP TRIGGER IF EXISTS {name}"
            + (f" ON {table}" if op.get_bind().dialect.name == "postgresql" else "")
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS rolodex_bump_version()")
        op.execute("DROP FUNCTION IF EXISTS rolodex_bump_contact_version()")
    op.drop_index("ix_conversation_reads_user_id", table_name="conversation_reads")
    op.drop_table("conversation_reads")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_message_direction")
        batch.drop_column("last_message_preview")
        batch.drop_column("version")

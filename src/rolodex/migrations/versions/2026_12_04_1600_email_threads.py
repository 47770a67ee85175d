"""email threads: a conversation belongs to a thread of its channel (R11, email)

Revision ID: a19b00000001
Revises: a18b00000002
Create Date: 2026-12-04 16:00:00

A contact may have one open conversation per channel *and thread*. Every channel but email
has one thread per contact (thread_key ''); an email channel opens a thread per mail that
names no earlier message (thread_key = that mail's Message-ID), and a reply joins the
thread of the message it names. `subject` keeps the thread's subject for replies.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a19b00000001"
down_revision: str | None = "a18b00000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status != 'resolved'")


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN on both databases: a batch copy would drop SQLite's
    # triggers on conversations (version bumps, search).
    op.add_column(
        "conversations",
        sa.Column("thread_key", sa.String(200), nullable=False, server_default=""),
    )
    op.add_column("conversations", sa.Column("subject", sa.String(300), nullable=True))
    op.drop_index("uq_conversations_open_contact_channel", table_name="conversations")
    op.create_index(
        "uq_conversations_open_thread",
        "conversations",
        ["contact_id", "channel_id", "thread_key"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_conversations_open_thread", table_name="conversations")
    op.create_index(
        "uq_conversations_open_contact_channel",
        "conversations",
        ["contact_id", "channel_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.drop_column("conversations", "subject")
    op.drop_column("conversations", "thread_key")

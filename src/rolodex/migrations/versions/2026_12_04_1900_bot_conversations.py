"""bot conversations: who holds a conversation, internal notes, labels, the bots' log and uploads

Revision ID: a22b00000001
Revises: a21b00000001
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a22b00000001"
down_revision: str | None = "a21b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN on both databases: a batch copy would drop SQLite's
    # triggers on conversations (version bumps, search). SQLite takes the reference inline only.
    for column, target in (("bot_id", "bots"), ("previous_assignee_id", "users")):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(
                f"ALTER TABLE conversations ADD COLUMN {column} VARCHAR(40) "
                f"REFERENCES {target} (id) ON DELETE SET NULL"
            )
        else:
            op.add_column(
                "conversations",
                sa.Column(
                    column, sa.String(40), sa.ForeignKey(f"{target}.id", ondelete="SET NULL")
                ),
            )
    op.add_column(
        "messages",
        sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "kind", "name"),
    )
    op.create_table(
        "conversation_labels",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("label_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["label_id"], ["labels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "label_id"),
    )
    op.create_index("ix_conversation_labels_label_id", "conversation_labels", ["label_id"])
    op.create_table(
        "bot_log",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("bot_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("conversation_id", sa.String(40), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(["bot_id"], ["bots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bot_log_bot_id_id", "bot_log", ["bot_id", "id"])
    op.create_table(
        "bot_uploads",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("bot_id", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bot_id"], ["bots.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "bot_id", "filename"),
    )
    op.create_index("ix_bot_uploads_sha256", "bot_uploads", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_bot_uploads_sha256", table_name="bot_uploads")
    op.drop_table("bot_uploads")
    op.drop_index("ix_bot_log_bot_id_id", table_name="bot_log")
    op.drop_table("bot_log")
    op.drop_index("ix_conversation_labels_label_id", table_name="conversation_labels")
    op.drop_table("conversation_labels")
    op.drop_table("labels")
    op.drop_column("messages", "internal")
    op.drop_column("conversations", "previous_assignee_id")
    op.drop_column("conversations", "bot_id")

"""webhook_intake: platform connections, stored webhook deliveries, delivery statuses (R11)

Revision ID: a17b00000001
Revises: a16b00000003
Create Date: 2026-12-03 13:25:17

Channels gain their connection (provider, readable fields, encrypted secrets); each platform
delivery is stored in webhook_events before it is processed; outbound messages carry their
delivery status and the platform's id; reactions get a table; attachments fetched from a
platform later carry their fetch status. Additive only: existing rows need no back-fill.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a17b00000001"
down_revision: str | None = "a16b00000003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "outcome",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_webhook_events_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_events_channel_status_id", ["channel_id", "status", "id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_events_status_received_at", ["status", "received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_events_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "message_reactions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("author_kind", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.String(length=40), nullable=False),
        sa.Column("emoji", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_reactions_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_reactions")),
        sa.UniqueConstraint(
            "message_id",
            "author_kind",
            "author_id",
            name=op.f("uq_message_reactions_message_id_author_kind_author_id"),
        ),
    )
    with op.batch_alter_table("message_reactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_reactions_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="stored", nullable=False)
        )
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.String(length=500), nullable=True))

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider", sa.String(length=30), nullable=True))
        batch_op.add_column(
            sa.Column(
                "connection",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("secrets", sa.Text(), nullable=True))

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("delivery_error_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("delivery_error_title", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("provider_message_id", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("delivery_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_messages_channel_id_provider_message_id",
            ["channel_id", "provider_message_id"],
            unique=False,
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_channel_id_provider_message_id")
        batch_op.drop_column("delivery_updated_at")
        batch_op.drop_column("provider_message_id")
        batch_op.drop_column("delivery_error_title")
        batch_op.drop_column("delivery_error_code")
        batch_op.drop_column("delivery_status")

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("secrets")
        batch_op.drop_column("connection")
        batch_op.drop_column("provider")

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("source")
        batch_op.drop_column("status")

    with op.batch_alter_table("message_reactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_reactions_workspace_id"))

    op.drop_table("message_reactions")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_workspace_id"))
        batch_op.drop_index("ix_webhook_events_status_received_at")
        batch_op.drop_index("ix_webhook_events_channel_status_id")

    op.drop_table("webhook_events")

"""workspaces.config_version (bumped by every configuration change, keys the in-memory cache);
a partial index of the webhook deliveries still pending (the drain's backlog)

Revision ID: a23b00000001
Revises: a22b00000001
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a23b00000001"
down_revision: str | None = "a22b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default on both databases: no table copy, existing
    # workspaces start at 1.
    op.add_column(
        "workspaces",
        sa.Column("config_version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ix_webhook_events_pending",
        "webhook_events",
        ["channel_id", "id"],
        postgresql_where=pending,
        sqlite_where=pending,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_pending", table_name="webhook_events")
    op.drop_column("workspaces", "config_version")

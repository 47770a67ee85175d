"""bots: virtual agents (R13), and client credentials that speak for one of them

Revision ID: a21b00000001
Revises: a20b00000001
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a21b00000001"
down_revision: str | None = "a20b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bots",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("webhook_url", sa.String(2000), nullable=False),
        sa.Column("activation", sa.String(20), nullable=False),
        sa.Column("channel_ids", _JSON, nullable=False),
        sa.Column("handoff", sa.String(20), nullable=False),
        sa.Column("response_timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("on_error", sa.String(20), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bots_workspace_id", "bots", ["workspace_id"])
    op.add_column("oauth_clients", sa.Column("subject_id", sa.String(40), nullable=True))


def downgrade() -> None:
    op.drop_column("oauth_clients", "subject_id")
    op.drop_index("ix_bots_workspace_id", table_name="bots")
    op.drop_table("bots")

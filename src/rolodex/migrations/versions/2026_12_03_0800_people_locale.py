"""people_locale: each person's language and time zone, and the workspace's zone (B10)

Revision ID: a16b00000001
Revises: a15b00000001
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a16b00000001"
down_revision: str | None = "a15b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("users") as batch:
        # Null: not chosen yet; the browser's Accept-Language and the workspace's zone apply.
        batch.add_column(sa.Column("locale", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC")
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("time_zone")
        batch.drop_column("locale")

"""group_enabled: an admin can turn a contact group off without deleting it (B10)

Revision ID: a16b00000002
Revises: a16b00000001
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a16b00000002"
down_revision: str | None = "a16b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("contact_groups") as batch:
        batch.add_column(
            sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("contact_groups") as batch:
        batch.drop_column("enabled")

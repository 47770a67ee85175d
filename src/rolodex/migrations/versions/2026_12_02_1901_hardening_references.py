"""hardening_references: jobs and audit rows name their contact by key (issue 14)

Revision ID: a14b00000002
Revises: a14b00000001
Create Date: 2026-12-02 19:01:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a14b00000002"
down_revision: str | None = "a14b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""


def downgrade() -> None:
    """Revert this migration."""

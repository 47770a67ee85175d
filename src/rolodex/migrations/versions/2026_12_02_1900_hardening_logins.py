"""hardening_logins: users unique per workspace, failed-login counters (issue 14)

Revision ID: a14b00000001
Revises: 979ec604090c
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a14b00000001"
down_revision: str | None = "979ec604090c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""


def downgrade() -> None:
    """Revert this migration."""

"""attribute_labels: one label per workspace, ignoring case and surrounding spaces (B10)

Revision ID: a16b00000003
Revises: a16b00000002
Create Date: 2026-12-03 08:10:00

Existing labels are cleaned (trimmed, inner runs of spaces made one) and made distinct
first, so the upgrade never fails on existing data: in each workspace the first attribute
of each label keeps it (standard and platform ones first, so their translations still
apply, then the others in the admin's order); each later duplicate gets the first free
" (2)", " (3)"… (ignoring case).
Then a unique index on (workspace_id, lower(label)) holds the rule for every writer.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a16b00000003"
down_revision: str | None = "a16b00000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ux_attribute_definitions_label"
MAX_LABEL = 200


def _numbered(label: str, n: int) -> str:
    suffix = f" ({n})"
    return label[: MAX_LABEL - len(suffix)].rstrip() + suffix


def upgrade() -> None:
    """Apply this migration."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, workspace_id, key, label FROM attribute_definitions"
            " ORDER BY workspace_id,"
            " CASE kind WHEN 'standard' THEN 0 WHEN 'platform' THEN 1 ELSE 2 END,"
            " position, created_at, id"
        )
    ).all()
    used: dict[str, set[str]] = {}
    later: list[tuple[str, str, str]] = []  # (id, workspace, cleaned label) to number
    changes = []
    # First every label that is the first of its kind keeps it (cleaned), so a number never
    # lands on a label someone already chose ("Order (2)" typed by an admin stays theirs).
    for row in rows:
        label = " ".join(str(row.label or "").split())[:MAX_LABEL] or str(row.key)
        taken = used.setdefault(row.workspace_id, set())
        if label.casefold() in taken or label.lower() in taken:
            later.append((row.id, row.workspace_id, label))
            continue
        taken.update({label.casefold(), label.lower()})
        if label != row.label:
            changes.append({"b_id": row.id, "b_label": label})
    for definition_id, workspace_id, label in later:
        taken = used[workspace_id]
        candidate, n = _numbered(label, 2), 3
        while candidate.casefold() in taken or candidate.lower() in taken:
            candidate, n = _numbered(label, n), n + 1
        taken.update({candidate.casefold(), candidate.lower()})
        changes.append({"b_id": definition_id, "b_label": candidate})
    if changes:
        conn.execute(
            sa.text("UPDATE attribute_definitions SET label = :b_label WHERE id = :b_id"), changes
        )
    op.create_index(
        INDEX, "attribute_definitions", ["workspace_id", sa.text("lower(label)")], unique=True
    )


def downgrade() -> None:
    """Revert this migration (labels keep the numbers they were given)."""
    op.drop_index(INDEX, table_name="attribute_definitions")

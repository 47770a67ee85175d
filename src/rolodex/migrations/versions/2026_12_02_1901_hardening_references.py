"""hardening_references: jobs and audit rows name their contact by key (issue 14)

Revision ID: a14b00000002
Revises: a14b00000001
Create Date: 2026-12-02 19:01:00
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "a14b00000002"
down_revision: str | None = "a14b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Job kinds whose payload carries the contact's id, and the CRM notification's message form.
_KINDS_WITH_CONTACT = ("crm.lookup", "crm.write_back", "privacy.auto_clear")
_NOTIFIED = re.compile(r"^contact (\S+):")


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_id", sa.String(length=40), nullable=True))
        batch_op.create_index(
            "ix_jobs_workspace_contact", ["workspace_id", "contact_id"], unique=False
        )

    op.create_table(
        "audit_event_contacts",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["audit_events.id"],
            name=op.f("fk_audit_event_contacts_event_id_audit_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "contact_id", "event_id", name=op.f("pk_audit_event_contacts")
        ),
    )
    with op.batch_alter_table("audit_event_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_event_contacts_event_id"), ["event_id"], unique=False
        )
    _backfill()


def _json(value: Any) -> Any:
    # SQLite hands JSON back as text, psycopg as Python objects.
    return json.loads(value) if isinstance(value, str) else value


def _backfill() -> None:
    # Rows written before this revision name their contact only inside payload/after; once,
    # here, they get the key that erasure now deletes by.
    bind = op.get_bind()
    fill = (
        "UPDATE jobs SET contact_id = payload ->> 'contact_id' WHERE kind IN :kinds"
        if bind.dialect.name == "postgresql"
        else "UPDATE jobs SET contact_id = json_extract(payload, '$.contact_id') WHERE kind IN :kinds"
    )
    bind.execute(
        sa.text(fill).bindparams(sa.bindparam("kinds", _KINDS_WITH_CONTACT, expanding=True))
    )
    notified = bind.execute(sa.text("SELECT id, payload FROM jobs WHERE kind = 'crm.notify'"))
    for job_id, payload in notified.all():
        messages = (_json(payload) or {}).get("messages") or [""]
        found = _NOTIFIED.match(str(messages[0]))
        if found:
            bind.execute(
                sa.text("UPDATE jobs SET contact_id = :c WHERE id = :i"),
                {"c": found.group(1)[:40], "i": job_id},
            )
    bind.execute(
        sa.text(
            "INSERT INTO audit_event_contacts (workspace_id, contact_id, event_id) "
            "SELECT workspace_id, target_id, id FROM audit_events "
            "WHERE target_type = 'contact' AND target_id IS NOT NULL"
        )
    )
    reports = bind.execute(
        sa.text(
            "SELECT id, workspace_id, after FROM audit_events "
            "WHERE action = 'attribute.renormalized'"
        )
    )
    for event_id, workspace_id, after in reports.all():
        named = dict.fromkeys(str(c) for c in (_json(after) or {}).get("invalid_contact_ids", []))
        rows = [{"w": workspace_id, "c": c, "e": event_id} for c in named]
        if rows:
            bind.execute(
                sa.text(
                    "INSERT INTO audit_event_contacts (workspace_id, contact_id, event_id) "
                    "VALUES (:w, :c, :e)"
                ),
                rows,
            )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("audit_event_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_contacts_event_id"))
    op.drop_table("audit_event_contacts")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_workspace_contact")
        batch_op.drop_column("contact_id")

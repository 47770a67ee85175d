"""Background work of linking: filling a custom attribute from existing platform values.

A mapping added by an admin applies to new inbound values at once (attributes/platform.py);
this job fills it for the contacts that already have the platform value, batch by batch in
contact order (each batch its own transaction, so memory and lock time do not grow with the
workspace). Like the inbound path it writes with source `platform` and the platform value's
provenance, never over an agent's, bot's or CRM's value (the upsert's guard holds even
against a concurrent write). Idempotent: a re-run finds nothing left to change; a job whose
mapping was removed meanwhile stops.
"""

from __future__ import annotations

from typing import Any

from rolodex.attributes import service as attributes
from rolodex.audit import service as audit
from rolodex.groups import service as groups
from rolodex.jobs.registry import JobContext, job
from rolodex.kit.clock import utcnow
from rolodex.linking import repository
from rolodex.linking.service import BACKFILL_JOB

BATCH = 500


def _writes(rows: list[Any]) -> list[Any]:
    # A target that is empty or platform-filled takes the platform value; others are kept.
    return [
        r
        for r in rows
        if (r.target_value is None or r.target_source == "platform") and r.target_value != r.value
    ]


@job(BACKFILL_JOB)
async def backfill_mapping(ctx: JobContext) -> None:
    """Fill a mapping's custom attribute from every contact's existing platform value."""
    assert ctx.workspace_id is not None
    ws = ctx.workspace_id
    from_id, to_id = str(ctx.payload["from_id"]), str(ctx.payload["to_id"])
    after: str | None = None
    filled = 0
    while True:
        async with ctx.db.transaction() as session:
            if not await repository.mapping_exists(session, ws, from_id, to_id):
                return
            rows = await repository.backfill_batch(session, ws, from_id, to_id, after, BATCH)
            writes = _writes(rows)
            if writes:
                await attributes.write_mapped_values(session, ws, to_id, writes, utcnow())
                for r in writes:
                    await groups.contact_values_changed(session, ws, r.contact_id, [to_id])
            filled += len(writes)
            if len(rows) < BATCH:
                await audit.record(
                    session,
                    None,
                    "contact_settings.mapping_backfilled",
                    workspace_id=ws,
                    target_type="contact_settings",
                    target_id=ws,
                    after={"from_id": from_id, "to_id": to_id, "filled": filled},
                )
                return
            after = rows[-1].contact_id

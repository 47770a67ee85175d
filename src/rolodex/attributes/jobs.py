"""Background work of the attribute engine: re-checking values after a format change (B7).

Each batch is its own transaction, walked in the order of the lookup index, so the
job's memory and lock time do not grow with the workspace. A value that validates
under the new format is re-normalised (with a history row when its shown form
changes); one that does not is kept as it is and marked `invalid` (never dropped).
Idempotent: re-running re-checks values that are already right and changes nothing;
a job whose format is no longer the definition's (changed again since) stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import formats, repository
from rolodex.attributes.formats import Format
from rolodex.attributes.service import RENORMALIZE_JOB
from rolodex.audit import service as audit
from rolodex.jobs.registry import JobContext, job
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.models import AttributeDefinition, AttributeHistory, Workspace

BATCH = 500
REPORTED_INVALID = 100


@dataclass
class Report:
    """What a re-check found."""

    checked: int = 0
    changed: int = 0
    invalid: int = 0
    invalid_contact_ids: list[str] = field(default_factory=list)


async def _current(
    session: AsyncSession, workspace_id: str, definition_id: str, fmt: str
) -> tuple[AttributeDefinition, str] | None:
    definition = await repository.get_definition_by_id(session, workspace_id, definition_id)
    workspace = await session.get(Workspace, workspace_id)
    if definition is None or workspace is None or definition.format != fmt:
        return None
    return definition, workspace.default_phone_region


async def _recheck(
    session: AsyncSession,
    definition: AttributeDefinition,
    region: str,
    row: tuple[str, str, str, bool, str],
    report: Report,
) -> None:
    _, contact_id, value, was_invalid, source = row
    ws, fmt = definition.workspace_id, Format(definition.format or Format.TEXT)
    report.checked += 1
    try:
        checked = formats.normalize(fmt, value, region)
    except ValueError:
        report.invalid += 1
        if len(report.invalid_contact_ids) < REPORTED_INVALID:
            report.invalid_contact_ids.append(contact_id)
        if not was_invalid:
            await repository.update_value_if(
                session, ws, definition.id, contact_id, old_value=value, changes={"invalid": True}
            )
        return
    changes = {"value": checked.value, "normalized": checked.normalized, "invalid": False}
    if not await repository.update_value_if(
        session, ws, definition.id, contact_id, old_value=value, changes=changes
    ):
        return  # written meanwhile by someone else, through the validating path
    if checked.value != value:
        report.changed += 1
        session.add(
            AttributeHistory(
                id=new_id("ahist"),
                workspace_id=ws,
                contact_id=contact_id,
                definition_id=definition.id,
                old_value=value,
                new_value=checked.value,
                source=source,  # the value's origin is unchanged; the system re-formatted it
                actor_kind="system",
                actor_id=None,
                channel_id=None,
                at=utcnow(),
            )
        )


@job(RENORMALIZE_JOB)
async def renormalize(ctx: JobContext) -> None:
    """Re-check every value of an attribute against its new format, batch by batch."""
    assert ctx.workspace_id is not None
    ws, definition_id = ctx.workspace_id, str(ctx.payload["definition_id"])
    fmt, report = str(ctx.payload["format"]), Report()
    after: tuple[str, str] | None = None
    while True:
        async with ctx.db.transaction() as session:
            current = await _current(session, ws, definition_id, fmt)
            if current is None:
                return
            definition, region = current
            rows = await repository.value_batch(session, ws, definition_id, after, BATCH)
            for row in rows:
                await _recheck(session, definition, region, row, report)
            await session.flush()
            if len(rows) < BATCH:
                await audit.record(
                    session,
                    None,
                    "attribute.renormalized",
                    workspace_id=ws,
                    target_type="attribute",
                    target_id=definition.key,
                    after={"format": fmt, **report.__dict__},
                    contact_ids=report.invalid_contact_ids,
                )
                return
            after = (rows[-1][0], rows[-1][1])

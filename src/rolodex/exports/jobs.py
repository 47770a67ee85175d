"""The export job and the expiry job (R7.2): progress in short transactions, failures kept."""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta

from sqlalchemy import update

from rolodex.config import Settings
from rolodex.exports import service, writer
from rolodex.exports.schemas import ExportFilters, ExportStatus
from rolodex.jobs import service as jobs
from rolodex.jobs.registry import DEFAULT_RETRY_DELAYS, JobContext, LeaseLost, job
from rolodex.kit.clock import utcnow
from rolodex.models import Export


async def _set(ctx: JobContext, export_id: str, **values: object) -> None:
    # Its own short transaction: the page polls progress while the file is being written.
    async with ctx.db.transaction() as session:
        await session.execute(update(Export).where(Export.id == export_id).values(**values))


async def _progress(ctx: JobContext, export_id: str, done: int, total: int) -> None:
    # After each batch, in one short transaction: the progress the page polls, and the job's
    # lease renewed, so that an export longer than one lease is not claimed by another worker
    # (and started over from zero) while this one is still writing it.
    async with ctx.db.transaction() as session:
        await session.execute(
            update(Export).where(Export.id == export_id).values(done=done, total=total)
        )
        await ctx.renew_lease(session)


def _tuning(settings: Settings) -> tuple[tuple[timedelta, ...], timedelta]:
    return DEFAULT_RETRY_DELAYS, timedelta(seconds=settings.export_job_lease_seconds)


@job(service.EXPORT_JOB, tuning=_tuning)
async def generate(ctx: JobContext) -> None:
    """Write the export's CSV batch by batch; a failure ends the export `failed` with why."""
    assert ctx.workspace_id is not None
    export_id = str(ctx.payload["export_id"])
    # The second header row, in the language of whoever asked (resolved when they asked).
    raw_labels = ctx.payload.get("labels")
    labels = [str(label) for label in raw_labels] if isinstance(raw_labels, list) else None
    async with ctx.db.transaction() as session:
        export = await session.get(Export, export_id)
        if export is None or export.workspace_id != ctx.workspace_id:
            return
        if export.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return
        filters = ExportFilters.model_validate(export.filters)
        keys = [str(k) for k in export.attributes]
    directory = service.export_dir(ctx.settings.data_dir, ctx.workspace_id)
    final = directory / f"{export_id}.csv"
    partial = directory / f"{export_id}.csv.part"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        async with ctx.db.reader() as session:
            plan = await writer.plan(session, ctx.workspace_id, filters, keys)
        await _set(ctx, export_id, status=ExportStatus.RUNNING.value, started_at=utcnow())

        async def progress(done: int, total: int) -> None:
            await _progress(ctx, export_id, done, total)

        with writer.open_private(partial) as out:
            rows = await writer.write(ctx.db, plan, out, progress, labels)
        os.replace(partial, final)
    except LeaseLost:
        raise  # another worker writes the export now: its outcome is not this run's to record
    except Exception as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        await _set(
            ctx, export_id, status=ExportStatus.FAILED.value, error=reason, finished_at=utcnow()
        )
        return
    expires = utcnow() + timedelta(days=ctx.settings.export_retention_days)
    async with ctx.db.transaction() as session:
        await session.execute(
            update(Export)
            .where(Export.id == export_id)
            .values(
                status=ExportStatus.DONE.value,
                done=rows,
                total=rows,
                file_name=final.name,
                size_bytes=final.stat().st_size,
                finished_at=utcnow(),
                expires_at=expires,
            )
        )
        export = await session.get(Export, export_id)
        assert export is not None
        await session.refresh(export)
        await service.record_done(session, export)
        await jobs.enqueue(
            session,
            service.EXPIRE_JOB,
            {"export_id": export_id},
            workspace_id=ctx.workspace_id,
            ref=export_id,
            run_at=expires,
        )


@job(service.EXPIRE_JOB)
async def expire(ctx: JobContext) -> None:
    """Remove an expired export's file (idempotent); the export stays listed as expired."""
    assert ctx.workspace_id is not None
    export_id = str(ctx.payload["export_id"])
    async with ctx.db.transaction() as session:
        export = await session.get(Export, export_id)
        if export is None or export.workspace_id != ctx.workspace_id or not export.file_name:
            return
        name = export.file_name
    (service.export_dir(ctx.settings.data_dir, ctx.workspace_id) / name).unlink(missing_ok=True)

"""Background work of privacy: removing deleted contacts' files, and auto-clearing values."""

from __future__ import annotations

from datetime import datetime, timedelta

from rolodex import files
from rolodex.audit import service as audit
from rolodex.jobs import service as jobs
from rolodex.jobs.registry import JobContext, job
from rolodex.kit.clock import utcnow
from rolodex.models import Workspace
from rolodex.plans import Feature, has_feature
from rolodex.privacy import repository
from rolodex.privacy.autoclear import AUTO_CLEAR_JOB, RESOLVED, timer_ref
from rolodex.privacy.service import FILES_JOB


@job(FILES_JOB)
async def remove_files(ctx: JobContext) -> None:
    """Delete the files no attachment points to any more (idempotent: gone files are skipped)."""
    hashes = [str(h) for h in ctx.payload["sha256"]]
    async with ctx.db.transaction() as session:
        in_use = await repository.hashes_in_use(session, hashes)
    for sha in hashes:
        if sha not in in_use:
            files.path_for(ctx.settings.data_dir, sha).unlink(missing_ok=True)


@job(AUTO_CLEAR_JOB)
async def auto_clear(ctx: JobContext) -> None:
    """Clear a contact's values once its conversation has stayed resolved for the period."""
    assert ctx.workspace_id is not None
    ws = ctx.workspace_id
    conversation_id = str(ctx.payload["conversation_id"])
    contact_id = str(ctx.payload["contact_id"])
    resolved_at = datetime.fromisoformat(str(ctx.payload["resolved_at"]))
    async with ctx.db.transaction() as session:
        status = await repository.conversation_status(session, ws, conversation_id)
        settings = await repository.get_settings(session, ws)
        workspace = await session.get(Workspace, ws)
        if status != RESOLVED or settings is None or not settings.auto_clear_days:
            return
        if workspace is None or not has_feature(workspace.plan, Feature.AUTO_CLEAR):
            return
        due = resolved_at + timedelta(days=settings.auto_clear_days)
        if utcnow() < due:  # the period was lengthened since the resolve
            await jobs.enqueue(
                session,
                AUTO_CLEAR_JOB,
                ctx.payload,
                workspace_id=ws,
                ref=timer_ref(conversation_id),
                contact_id=contact_id,
                run_at=due,
            )
            return
        # The person is talking to the team again (another conversation is open): keep them.
        if await repository.has_open_conversation(session, ws, contact_id):
            return
        cleared = await repository.clear_values(session, ws, contact_id)
        await audit.record(
            session,
            None,
            "contact.attributes_cleared",
            workspace_id=ws,
            target_type="contact",
            target_id=contact_id,
            after={"values": cleared, "days": settings.auto_clear_days},
            contact_ids=[contact_id],
        )

"""The auto-clear timer: a job scheduled when a conversation is resolved (R8, business+).

Resolving a conversation schedules the clearing of its contact's attribute values
`auto_clear_days` later; the conversation leaving `resolved` (back to new or pending)
cancels that timer, and the next resolve starts a new one. Called by the conversations
service in the transaction of the status change, so a timer exists only if it commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.jobs import service as jobs
from rolodex.privacy import repository

AUTO_CLEAR_JOB = "privacy.auto_clear"
RESOLVED = "resolved"


def timer_ref(conversation_id: str) -> str:
    """The job ref of a conversation's auto-clear timer."""
    return f"autoclear:{conversation_id}"


async def status_changed(
    session: AsyncSession,
    workspace_id: str,
    *,
    conversation_id: str,
    contact_id: str,
    old: str,
    new: str,
    at: datetime,
) -> None:
    """Start the timer on a resolve; stop it when the conversation leaves `resolved`."""
    if old == RESOLVED and new != RESOLVED:
        await jobs.cancel_for_ref(session, workspace_id, timer_ref(conversation_id))
    if new != RESOLVED or old == RESOLVED:
        return
    settings = await repository.get_settings(session, workspace_id)
    if settings is None or not settings.auto_clear_days:
        return
    await jobs.enqueue(
        session,
        AUTO_CLEAR_JOB,
        {
            "conversation_id": conversation_id,
            "contact_id": contact_id,
            "resolved_at": at.isoformat(),
        },
        workspace_id=workspace_id,
        ref=timer_ref(conversation_id),
        contact_id=contact_id,
        run_at=at + timedelta(days=settings.auto_clear_days),
    )

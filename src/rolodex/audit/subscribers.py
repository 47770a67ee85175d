"""What the audit domain records when other domains change things."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.audit import service
from rolodex.auth.events import CredentialsChanged
from rolodex.kit.events import Registry


async def credentials_changed(session: AsyncSession, event: CredentialsChanged) -> None:
    """A created or revoked token or client is in the audit log, by the admin who did it."""
    await service.record(
        session,
        event.actor,
        event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        after=event.after,
    )


def register(registry: Registry) -> None:
    """Subscribe in the transaction: a credential never changes without its audit row."""
    registry.on(CredentialsChanged, credentials_changed)

"""What the groups domain does when other domains change things: keep memberships current."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.events import AttributeValuesChanged
from rolodex.groups import service
from rolodex.kit.events import Registry


async def values_changed(session: AsyncSession, event: AttributeValuesChanged) -> None:
    """A contact's values changed: re-check its memberships (and VIP routing on a VIP change)."""
    # A contact the write just made has only the values it carries: nothing to read.
    values = (
        {c.definition_id: c.new for c in event.changes if c.new is not None}
        if event.new_contact
        else None
    )
    await service.contact_values_changed(
        session,
        event.workspace_id,
        event.contact_id,
        event.definition_ids,
        vip_changed=event.vip_changed,
        values=values,
    )


def register(registry: Registry) -> None:
    """Subscribe in the transaction: memberships commit with the values they follow."""
    registry.on(AttributeValuesChanged, values_changed)

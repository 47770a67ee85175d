"""The one low-level write of attribute values: upsert with provenance, plus history rows.

Every non-platform write path (the contact PATCH, forced option removal, format
re-normalisation) ends here, so no value changes without its history row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import repository
from rolodex.attributes.events import AttributeValuesChanged, ValueChange
from rolodex.attributes.formats import Normalized
from rolodex.attributes.platform import Provenance
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id


@dataclass(frozen=True)
class Change:
    """One value of one contact going from `old` to `new` (None clears it)."""

    contact_id: str
    definition_id: str
    old: str | None
    new: Normalized | None


async def apply(
    session: AsyncSession, workspace_id: str, changes: Sequence[Change], provenance: Provenance
) -> None:
    """Write the changes (one upsert) and append their history (one insert).

    A cleared value keeps its row with a NULL value: who cleared it, and when, stays
    visible (B1).
    """
    if not changes:
        return
    stamp = {
        "workspace_id": workspace_id,
        "source": provenance.source,
        "actor_kind": provenance.actor_kind,
        "actor_id": provenance.actor_id,
        "channel_id": provenance.channel_id,
    }
    await repository.upsert_values(
        session,
        [
            {
                **stamp,
                "contact_id": c.contact_id,
                "definition_id": c.definition_id,
                "value": c.new.value if c.new else None,
                "normalized": c.new.normalized if c.new else None,
                "updated_at": provenance.at,
                "pending_value": None,
                "invalid": False,
            }
            for c in changes
        ],
    )
    await repository.insert_history(
        session,
        [
            {
                **stamp,
                "id": new_id("ahist"),
                "contact_id": c.contact_id,
                "definition_id": c.definition_id,
                "old_value": c.old,
                "new_value": c.new.value if c.new else None,
                "at": provenance.at,
            }
            for c in changes
        ],
    )


async def announce(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    changes: Sequence[Change],
    provenance: Provenance,
    *,
    keys: dict[str, str] | None = None,
    vip_changed: bool = False,
) -> None:
    """Emit one AttributeValuesChanged for a write of one contact's values (if any changed).

    Groups, routing, the CRM and webhooks react to it (see their subscribers).
    """
    if not changes:
        return
    keys = keys or {}
    await emit(
        session,
        AttributeValuesChanged(
            workspace_id=workspace_id,
            contact_id=contact_id,
            changes=tuple(
                ValueChange(
                    c.definition_id,
                    c.old,
                    c.new.value if c.new else None,
                    keys.get(c.definition_id, ""),
                )
                for c in changes
            ),
            source=provenance.source,
            actor_kind=provenance.actor_kind,
            actor_id=provenance.actor_id,
            vip_changed=vip_changed,
        ),
    )

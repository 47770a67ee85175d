"""Events of the attributes domain."""

from __future__ import annotations

from dataclasses import dataclass

from rolodex.kit.events import Event


@dataclass(frozen=True)
class ValueChange:
    """One attribute's value before and after a write (None: unset or cleared)."""

    definition_id: str
    old: str | None
    new: str | None
    # The attribute's key where the writer knew it; subscribers that need keys look up the
    # rest (the inbound hot path does not read keys it has no use for).
    key: str = ""


@dataclass(frozen=True, kw_only=True)
class AttributeValuesChanged(Event):
    """One write changed some of one contact's values: all its changes, one provenance."""

    contact_id: str
    changes: tuple[ValueChange, ...]
    source: str  # platform, agent, bot, crm, …: who may react (the CRM asks itself nothing)
    actor_kind: str
    actor_id: str | None = None
    vip_changed: bool = False
    # The contact was made by this write: `changes` are all its values, and it has no
    # memberships or conversations yet (subscribers need not read them).
    new_contact: bool = False

    @property
    def definition_ids(self) -> list[str]:
        """The definitions whose values changed."""
        return [change.definition_id for change in self.changes]


@dataclass(frozen=True, kw_only=True)
class VipToggled(Event):
    """An admin turned the VIP attribute on or off for the workspace (R4.1)."""

    enabled: bool

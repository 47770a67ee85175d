"""Events of the attributes domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rolodex.kit.events import Event


@dataclass(frozen=True)
class ValueChange:
    """One attribute's value before and after a write, and where the new value came from."""

    key: str
    old: Any
    new: Any
    source: str
    # The definition, so that a subscriber can leave out what its audience may not see.
    definition_id: str = ""


@dataclass(frozen=True, kw_only=True)
class AttributeValuesChanged(Event):
    """One write changed some of a contact's values (one event per write, all its changes)."""

    contact_id: str
    changes: tuple[ValueChange, ...]
    actor_kind: str
    actor_id: str | None = None

"""Events of the groups domain."""

from __future__ import annotations

from dataclasses import dataclass

from rolodex.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class ContactRegrouped(Event):
    """A contact joined or left a group, or its VIP status changed."""

    contact_id: str
    vip_changed: bool = False
    # The contact was made in this transaction: it has no conversations to re-score yet.
    new_contact: bool = False


@dataclass(frozen=True, kw_only=True)
class GroupRulesChanged(Event):
    """An admin changed a group's rules or turned it off/on: its members were recomputed."""

    group_key: str


@dataclass(frozen=True, kw_only=True)
class GroupDeleting(Event):
    """An admin is deleting a group; a subscriber that still uses it refuses (an AppError)."""

    group_key: str
    group_name: str = ""

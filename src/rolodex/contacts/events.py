"""Events of the contacts domain."""

from __future__ import annotations

from dataclasses import dataclass

from rolodex.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class ContactCreated(Event):
    """A platform identity wrote for the first time: a new contact exists."""

    contact_id: str
    medium: str
    channel_id: str


@dataclass(frozen=True, kw_only=True)
class ContactRenamed(Event):
    """A contact's display name changed (the platform's profile said so)."""

    contact_id: str
    display_name: str


@dataclass(frozen=True, kw_only=True)
class ContactDeleted(Event):
    """A contact was erased (R8): only its id, the admin's hint and its medium survive."""

    contact_id: str
    hint: str
    medium: str

"""Which attributes a caller must not see: agents never see a hidden (disabled) one.

Hidden means turned off for the workspace (`enabled` false) or, for a platform attribute,
turned off on the contact's own channel. Admins see everything, to manage it; integrations
read by their own contracts and are not people looking at a conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import repository
from rolodex.auth.principals import Principal


@dataclass(frozen=True)
class Hidden:
    """The definitions hidden from a caller: off everywhere, or off on some channels."""

    off: frozenset[str] = frozenset()
    by_channel: Mapping[str, frozenset[str]] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)

    def ids_on(self, channel_id: str) -> frozenset[str]:
        """The definition ids hidden on a contact of this channel."""
        return self.off | self.by_channel.get(channel_id, frozenset())

    def keys_on(self, channel_id: str) -> frozenset[str]:
        """The attribute keys hidden on a contact of this channel."""
        return frozenset(self.keys[i] for i in self.ids_on(channel_id))


NOTHING = Hidden()


def sees_hidden(principal: Principal) -> bool:
    """Whether the caller sees hidden attributes too (admins and integrations)."""
    return principal.is_admin or not principal.is_user


async def hidden_from(session: AsyncSession, principal: Principal) -> Hidden:
    """The attributes hidden from this caller (none for admins and integrations)."""
    if sees_hidden(principal):
        return NOTHING
    ws = principal.workspace_id
    definitions = await repository.list_definitions(session, ws)
    keys = {d.id: d.key for d in definitions}
    by_channel: dict[str, set[str]] = {}
    for definition_id, channels in (await repository.disabled_channels(session, ws)).items():
        for channel_id in channels:
            by_channel.setdefault(channel_id, set()).add(definition_id)
    return Hidden(
        off=frozenset(d.id for d in definitions if not d.enabled),
        by_channel={c: frozenset(ids) for c, ids in by_channel.items()},
        keys=keys,
    )

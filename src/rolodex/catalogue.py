"""The platform attribute catalogue of SPEC, as data: the one place that lists them.

Each medium's platform attributes have a short name (what `sender.attributes` of an
inbound message uses), a key `<medium>-<name>` (what attribute definitions use) and a
value type that the inbound path checks and normalises.

Definition rows are created **eagerly, at channel creation**: creating the first channel
of a medium inserts that medium's platform definitions for the workspace (INSERT … ON
CONFLICT DO NOTHING, so a second channel or a concurrent request adds nothing). The
inbound path only reads them; should rows be missing (a channel created before a name
joined this catalogue), it heals them with the same idempotent insert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Medium(StrEnum):
    """The kinds of channel Rolodex receives messages from."""

    TWITTER = "twitter"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    WEBCHAT = "webchat"


class ValueType(StrEnum):
    """What a platform attribute's value must be; stored as the definition's `format`."""

    TEXT = "text"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"


MEDIUM_LABELS: dict[Medium, str] = {
    Medium.TWITTER: "Twitter",
    Medium.INSTAGRAM: "Instagram",
    Medium.FACEBOOK: "Facebook",
    Medium.WHATSAPP: "WhatsApp",
    Medium.SMS: "SMS",
    Medium.EMAIL: "Email",
    Medium.WEBCHAT: "Web chat",
}

# R3.2: on these platforms one user id is one person across all of the workspace's
# accounts, so their contacts are scoped by the medium instead of by the channel.
MEDIUM_SCOPED: frozenset[Medium] = frozenset({Medium.TWITTER, Medium.INSTAGRAM})

T, N, E, P, U = ValueType.TEXT, ValueType.NUMBER, ValueType.EMAIL, ValueType.PHONE, ValueType.URL

_NAMES: dict[Medium, tuple[tuple[str, ValueType], ...]] = {
    Medium.TWITTER: (
        ("user-id", T),
        ("handle", T),
        ("name", T),
        ("followers", N),
        ("bio", T),
        ("location", T),
        ("language", T),
    ),
    Medium.INSTAGRAM: (("user-id", T), ("username", T), ("name", T), ("followers", N)),
    Medium.FACEBOOK: (("user-id", T), ("profile-name", T), ("profile-image", U), ("locale", T)),
    Medium.WHATSAPP: (("phone", P), ("profile-name", T)),
    Medium.SMS: (("phone", P),),
    Medium.EMAIL: (("address", E), ("name", T)),
    Medium.WEBCHAT: (
        ("user-id", T),
        ("first-name", T),
        ("last-name", T),
        ("email", E),
        ("page-url", U),
        ("page-title", T),
        ("page-domain", T),
        ("browser-language", T),
    ),
}

# Which values name the person, best first; a tuple of names is joined with spaces.
DISPLAY_NAME_ORDER: dict[Medium, tuple[tuple[str, ...], ...]] = {
    Medium.TWITTER: (("name",), ("handle",)),
    Medium.INSTAGRAM: (("name",), ("username",)),
    Medium.FACEBOOK: (("profile-name",),),
    Medium.WHATSAPP: (("profile-name",), ("phone",)),
    Medium.SMS: (("phone",),),
    Medium.EMAIL: (("name",), ("address",)),
    Medium.WEBCHAT: (("first-name", "last-name"), ("email",)),
}

_WORDS = {"id": "ID", "url": "URL"}


@dataclass(frozen=True)
class PlatformAttribute:
    """One platform attribute of one medium."""

    medium: Medium
    name: str
    value_type: ValueType

    @property
    def key(self) -> str:
        """The attribute definition key, `<medium>-<name>`."""
        return f"{self.medium.value}-{self.name}"

    @property
    def label(self) -> str:
        """The label admins and agents see, e.g. "Twitter user ID"."""
        words = [_WORDS.get(w, w) for w in self.name.split("-")]
        return f"{MEDIUM_LABELS[self.medium]} {' '.join(words)}"


CATALOGUE: dict[Medium, dict[str, PlatformAttribute]] = {
    medium: {name: PlatformAttribute(medium, name, vt) for name, vt in names}
    for medium, names in _NAMES.items()
}


def attributes_of(medium: Medium) -> dict[str, PlatformAttribute]:
    """The platform attributes of a medium, by short name, in catalogue order."""
    return CATALOGUE[medium]


def identity_scope(medium: Medium, channel_id: str) -> str:
    """The contact identity scope: the medium for twitter/instagram, else the channel."""
    return medium.value if medium in MEDIUM_SCOPED else channel_id


def display_name(medium: Medium, values: Mapping[str, str], platform_user_id: str) -> str:
    """The best name for a contact from its platform values (by short name)."""
    for names in DISPLAY_NAME_ORDER[medium]:
        parts = [values[n].strip() for n in names if values.get(n, "").strip()]
        if parts:
            name = " ".join(parts)
            if medium is Medium.TWITTER and names == ("handle",) and not name.startswith("@"):
                name = f"@{name}"
            return name[:200]
    return platform_user_id[:200]

"""The platform attribute catalogue of SPEC, as data: the one place that lists them.

Each medium's platform attributes have a short name (what `sender.attributes` of an
inbound message uses), a key `<medium>-<name>` (what attribute definitions use) and a
value type that the inbound path checks and normalises.

Definition rows are created **eagerly, at channel creation**: creating the first channel
of a medium inserts that medium's platform definitions for the workspace (INSERT … ON
CONFLICT DO NOTHING, so a second channel or a concurrent request adds nothing). The
inbound path only reads them; should rows be missing (a channel created before a name
joined this catalogue), it heals them with the same idempotent insert.

Labels: each platform attribute's English label (and VIP's) is stored in its definition row
and is the message id of its translation; medium names are translated too. Code that shows
one calls `label_of(key, label)` (a definition's label, translated when it is the built-in
one, as typed otherwise) or `medium_label(medium)`; keys and stored labels never change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rolodex.i18n import N_, translate


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


# What each medium is called where it is shown (through `medium_label`: in the reader's language).
MEDIUM_LABELS: dict[Medium, str] = {
    Medium.TWITTER: N_("Twitter/X"),
    Medium.INSTAGRAM: N_("Instagram"),
    Medium.FACEBOOK: N_("Messenger"),
    Medium.WHATSAPP: N_("WhatsApp"),
    Medium.SMS: N_("SMS"),
    Medium.EMAIL: N_("Email"),
    Medium.WEBCHAT: N_("Web chat"),
}

# R3.2: on these platforms one user id is one person across all of the workspace's
# accounts, so their contacts are scoped by the medium instead of by the channel.
MEDIUM_SCOPED: frozenset[Medium] = frozenset({Medium.TWITTER, Medium.INSTAGRAM})

T, N, E, P, U = ValueType.TEXT, ValueType.NUMBER, ValueType.EMAIL, ValueType.PHONE, ValueType.URL

# (short name, value type, English label). The label is stored in the definition row when
# the first channel of the medium is created, and is the message id of its translation.
_NAMES: dict[Medium, tuple[tuple[str, ValueType, str], ...]] = {
    Medium.TWITTER: (
        ("user-id", T, N_("Twitter user ID")),
        ("handle", T, N_("Twitter handle")),
        ("name", T, N_("Twitter name")),
        ("followers", N, N_("Twitter followers")),
        ("bio", T, N_("Twitter bio")),
        ("location", T, N_("Twitter location")),
        ("language", T, N_("Twitter language")),
    ),
    Medium.INSTAGRAM: (
        ("user-id", T, N_("Instagram user ID")),
        ("username", T, N_("Instagram username")),
        ("name", T, N_("Instagram name")),
        ("followers", N, N_("Instagram followers")),
    ),
    Medium.FACEBOOK: (
        ("user-id", T, N_("Facebook user ID")),
        ("profile-name", T, N_("Facebook profile name")),
        ("profile-image", U, N_("Facebook profile image")),
        ("locale", T, N_("Facebook locale")),
    ),
    Medium.WHATSAPP: (
        ("phone", P, N_("WhatsApp phone")),
        ("profile-name", T, N_("WhatsApp profile name")),
    ),
    Medium.SMS: (("phone", P, N_("SMS phone")),),
    Medium.EMAIL: (("address", E, N_("Email address")), ("name", T, N_("Email name"))),
    Medium.WEBCHAT: (
        ("user-id", T, N_("Web chat user ID")),
        ("first-name", T, N_("Web chat first name")),
        ("last-name", T, N_("Web chat last name")),
        ("email", E, N_("Web chat email")),
        ("page-url", U, N_("Web chat page URL")),
        ("page-title", T, N_("Web chat page title")),
        ("page-domain", T, N_("Web chat page domain")),
        ("browser-language", T, N_("Web chat browser language")),
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


@dataclass(frozen=True)
class PlatformAttribute:
    """One platform attribute of one medium."""

    medium: Medium
    name: str
    value_type: ValueType
    # The English label, as stored in the definition row, e.g. "Twitter user ID".
    label: str

    @property
    def key(self) -> str:
        """The attribute definition key, `<medium>-<name>`."""
        return f"{self.medium.value}-{self.name}"

    @property
    def shown_label(self) -> str:
        """The label in the reader's language, e.g. "ID de usuario de Twitter"."""
        return translate(self.label)


CATALOGUE: dict[Medium, dict[str, PlatformAttribute]] = {
    medium: {name: PlatformAttribute(medium, name, vt, label) for name, vt, label in names}
    for medium, names in _NAMES.items()
}

# The standard VIP attribute (and the built-in VIP group): its key and English label.
VIP_KEY = "vip"
VIP_LABEL = N_("VIP")

# Every built-in definition's English label by key: the labels that are translated when shown.
BUILTIN_LABELS: dict[str, str] = {
    **{a.key: a.label for attributes in CATALOGUE.values() for a in attributes.values()},
    VIP_KEY: VIP_LABEL,
}


def medium_label(medium: Medium | str) -> str:
    """A medium's name in the reader's language ("Chat web"); an unknown value as it is."""
    try:
        return translate(MEDIUM_LABELS[Medium(medium)])
    except ValueError:
        return str(medium)


def label_of(key: str, label: str) -> str:
    """An attribute definition's label as the reader should see it.

    A built-in label (a platform attribute's, VIP's) is translated into the reader's language
    while it is the one Rolodex gave; a label an admin typed (or renamed) is data, shown as is.
    """
    return translate(label) if BUILTIN_LABELS.get(key) == label else label


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

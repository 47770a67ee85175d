"""Attribute definition, value-write and Contact tab schemas (SPEC "Attribute definitions")."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from rolodex.attributes.formats import Format as Format  # re-exported: the schemas name it
from rolodex.i18n import N_
from rolodex.schemas import InputModel, OutputModel

KEY_PATTERN = r"^[a-z0-9_]+$"
MAX_OPTIONS = 500
VIP_KEY = "vip"


class AttributeKind(StrEnum):
    """Where an attribute comes from."""

    PLATFORM = "platform"  # filled by the channel (R2.1)
    CUSTOM = "custom"  # created by admins (R2.3)
    STANDARD = "standard"  # built in: vip (R4)


class AttributeType(StrEnum):
    """The shape of an attribute's value."""

    TEXT = "text"
    DROPDOWN = "dropdown"
    BOOLEAN = "boolean"


class CustomType(StrEnum):
    """The types an admin may create (R2.5)."""

    TEXT = "text"
    DROPDOWN = "dropdown"


class ValueSource(StrEnum):
    """Where a value came from (B1)."""

    PLATFORM = "platform"
    AGENT = "agent"
    BOT = "bot"
    CRM = "crm"
    IMPORT = "import"
    API = "api"


def _key(value: str) -> str:
    # A ValueError's message is shown to people as it is (errors.py translates it).
    if not re.fullmatch(KEY_PATTERN, value):
        raise ValueError(N_("Use only lower-case letters, digits and _ (no spaces)."))
    return value


# Blank labels are refused by the service with a message for people ("Enter a label.").
Label = Annotated[str, Field(max_length=200)]
Key = Annotated[
    str,
    Field(min_length=1, max_length=80, json_schema_extra={"pattern": KEY_PATTERN}),
    AfterValidator(_key),
]
Option = Annotated[str, Field(min_length=1, max_length=200)]
Options = Annotated[list[Option], Field(max_length=MAX_OPTIONS)]
AnyKey = Annotated[str, Field(max_length=80)]
ChannelId = Annotated[str, Field(min_length=1, max_length=40)]
# What a client may send as a value: JSON text, a number, a boolean (vip) or null (clear).
RawValue = Annotated[str, Field(max_length=10_000)] | int | float | bool | None


class AttributeCreate(InputModel):
    """A new custom attribute: a text field with a format, or a dropdown with options."""

    label: Label
    key: Key | None = Field(
        default=None, description="Derived from the label when not given; never changes."
    )
    type: CustomType
    format: Format | None = Field(default=None, description="Text fields only; default text.")
    options: Options | None = Field(default=None, description="Dropdowns only: two or more.")


class AttributeUpdate(InputModel):
    """Changes to an attribute definition; each field optional."""

    label: Label | None = None
    options: Options | None = None
    enabled: bool | None = None
    disabled_channel_ids: Annotated[list[ChannelId], Field(max_length=500)] | None = None
    crm_managed: bool | None = None
    lookup: bool | None = None
    format: Format | None = Field(
        default=None, description="Custom text fields: existing values are re-checked in a job."
    )


class AttributeOrder(InputModel):
    """Every attribute key of the workspace, in the new order."""

    keys: Annotated[list[AnyKey], Field(max_length=5000)]


class AttributeRead(OutputModel):
    """An attribute definition as SPEC lists it."""

    key: str
    label: str
    kind: AttributeKind
    type: AttributeType
    format: Format | None
    options: list[str] | None
    medium: str | None
    enabled: bool
    disabled_channel_ids: list[str]
    position: int
    crm_managed: bool
    lookup: bool


class InvalidValueRead(OutputModel):
    """A stored value that does not validate against its attribute's current format."""

    contact_id: str
    value: str | None


class AttributeDetail(AttributeRead):
    """One definition with the values a format change left invalid (kept, never dropped)."""

    invalid_values: int
    invalid_samples: list[InvalidValueRead]


class ContactAttributesUpdate(InputModel):
    """Values to set (null clears) by key; all are written or none."""

    # No `source`: the server records it from the caller, so nobody can claim `import` or `crm`.
    attributes: Annotated[dict[AnyKey, RawValue], Field(max_length=500)]

"""The one validator and normaliser per text format (B7), shared by every write path.

Each format turns a raw value into what is shown (`value`) and its matching form
(`normalized`, used by cross-channel linking and search): emails lower-cased, phones
as E.164 (with the workspace's default region), numbers canonical, dates ISO
YYYY-MM-DD, URLs http(s) only, text trimmed with whitespace collapsed and case-folded.
A value that is not acceptable raises ValueError with a reason a person can read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from rolodex.i18n import _
from rolodex.kit.emails import normalize_email

MAX_VALUE_LENGTH = 2000
NORMALIZED_LENGTH = 255  # matches the column: only short values are useful for matching


class Format(StrEnum):
    """What a text attribute's value must be."""

    TEXT = "text"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    DATE = "date"


@dataclass(frozen=True)
class Normalized:
    """A checked value: as shown, and its matching form."""

    value: str
    normalized: str


def fold(value: str) -> str:
    """Text's matching form: whitespace collapsed and case-folded (dropdown options too)."""
    return " ".join(value.split()).casefold()[:NORMALIZED_LENGTH]


def _number(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(_("must be a number"))
    try:
        number = float(raw)
    except (ValueError, OverflowError) as exc:
        raise ValueError(_("must be a number")) from exc
    if not math.isfinite(number):
        raise ValueError(_("must be a finite number"))
    return str(int(number)) if number.is_integer() and abs(number) < 2**63 else repr(number)


def as_text(raw: Any) -> str:
    """A raw JSON value as trimmed text; numbers are accepted (platforms send numeric ids)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(_("must be text"))
    value = str(raw).strip()
    if len(value) > MAX_VALUE_LENGTH:
        raise ValueError(_("must be at most %(count)s characters", count=MAX_VALUE_LENGTH))
    return value


def _phone(raw: str, region: str) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("must be a phone number")) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(_("must be a phone number"))
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# Never part of a URL; each could end an HTML attribute or a Markdown link it is shown in.
_URL_REFUSED = frozenset("\"'<>`\\")


def _url(raw: str) -> str:
    message = _("must be an absolute http(s) URL without spaces, quotes, <, > or `")
    if any(c in _URL_REFUSED or c.isspace() or not c.isprintable() for c in raw):
        raise ValueError(message)
    try:
        parts = urlsplit(raw)
        host, _port = parts.hostname, parts.port  # port raises ValueError when not a number
    except ValueError as exc:
        raise ValueError(message) from exc
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError(message)
    return raw


def _date(raw: str) -> str:
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise ValueError(_("must be a date as YYYY-MM-DD")) from exc


def normalize(fmt: Format, raw: Any, region: str) -> Normalized:
    """The value checked against its format and normalised; ValueError saying why not."""
    if fmt is Format.NUMBER:
        value = _number(raw)
        return Normalized(value, value)
    value = as_text(raw)
    if fmt is Format.EMAIL:
        return Normalized(value, normalize_email(value)[:NORMALIZED_LENGTH])
    if fmt is Format.PHONE:
        value = _phone(value, region)
        return Normalized(value, value)
    if fmt is Format.URL:
        return Normalized(_url(value), value[:NORMALIZED_LENGTH])
    if fmt is Format.DATE:
        value = _date(value)
        return Normalized(value, value)
    return Normalized(value, fold(value))

"""User and team schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError

from rolodex import i18n
from rolodex.auth.principals import Role
from rolodex.i18n import N_
from rolodex.kit.emails import normalize_email
from rolodex.schemas import InputModel, Name, OutputModel


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValueError:
        # email-validator explains in English only; people get one message in their language.
        raise ValueError(N_("Enter a valid email address, such as ana@example.com.")) from None


Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]

Password = Annotated[str, Field(min_length=8, max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=40)]


def _known_locale(value: str) -> str:
    if value not in i18n.LOCALES:
        # Our validators' messages are written for people; the error handler translates them.
        raise ValueError(N_("Choose a language: en (English) or es (Spanish)."))
    return value


def _known_time_zone(value: str) -> str:
    if not i18n.valid_time_zone(value):
        raise ValueError(N_("Choose a time zone from the list (an IANA name, e.g. Europe/Madrid)."))
    return value


# A language of the catalogs, and an IANA time zone name this machine knows.
LocaleCode = Annotated[str, AfterValidator(_known_locale)]
TimeZoneName = Annotated[str, AfterValidator(_known_time_zone)]


class UserCreate(InputModel):
    """A new admin or agent."""

    email: Email
    name: Name
    role: Role = Role.AGENT
    password: Password


class UserRead(OutputModel):
    """A user as the API shows it (never the password hash)."""

    id: str
    workspace_id: str
    email: str
    name: str
    role: Role
    active: bool
    # Their own language and zone; null: the browser's language, the workspace's zone.
    locale: str | None
    time_zone: str | None
    created_at: datetime


class UserUpdate(InputModel):
    """What an admin may change about a user; a field left out stays as it is."""

    name: Name | None = None
    role: Role | None = None
    # false deactivates: their tokens and sessions stop at once, their history stays.
    active: bool | None = None


class PreferencesUpdate(InputModel):
    """A person's own language and time zone; null returns to the default, left out: unchanged.

    The default language is the browser's (`Accept-Language`), the default zone the workspace's.
    """

    locale: LocaleCode | None = None
    time_zone: TimeZoneName | None = None


class TeamCreate(InputModel):
    """A new team and its members."""

    name: Name
    member_ids: Annotated[list[Id], Field(max_length=1000)] = []


class TeamUpdate(InputModel):
    """A team's new name or members (the whole list); a field left out stays as it is."""

    name: Name | None = None
    member_ids: Annotated[list[Id], Field(max_length=1000)] | None = None


class TeamRead(OutputModel):
    """A team with its members' ids."""

    id: str
    name: str
    member_ids: list[str]
    created_at: datetime


# What a page says beside a form field that failed validation (Pydantic's texts are for developers).
_FORM_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "enum": N_("Choose one of: %(expected)s."),
}


def form_errors(exc: ValidationError) -> dict[str, str]:
    """The first message for people of each failed field of a page's form, by field name."""
    out: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "form"
        ctx = err.get("ctx") or {}
        kind = err["type"]
        if kind == "value_error" and ctx.get("error") is not None:
            message = i18n.translate(str(ctx["error"]))
        elif kind == "string_too_short" and ctx.get("min_length") == 1:
            message = i18n.translate(_FORM_MESSAGES["missing"])
        elif kind in _FORM_MESSAGES:
            message = i18n.translate(_FORM_MESSAGES[kind]) % {k: str(v) for k, v in ctx.items()}
        else:
            message = i18n.translate(N_("This value is not valid."))
        out.setdefault(field, message)
    return out

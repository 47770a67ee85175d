"""The reader's language and time zone (B10): gettext catalogs in English and Spanish, and times.

Every string a person reads is an English message id marked with `_()` (Python, templates) or
`rolodex.t()` (the pages' JavaScript); `src/rolodex/locale/es/LC_MESSAGES/messages.po` holds its
Spanish. The catalog is read from the .po file at first use (no compiled file to forget: a fresh
clone works). Each request chooses its language and zone once (`use`): the person's own, else
the browser's `Accept-Language` and the workspace's zone; everything rendered after follows.
"""

from __future__ import annotations

import gettext as gettext_module
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.core import negotiate_locale
from babel.dates import format_date, get_datetime_format
from babel.dates import format_time as babel_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy

LOCALES = ("en", "es")
DEFAULT_LOCALE = "en"
DEFAULT_TIME_ZONE = "UTC"
LOCALE_DIR = Path(__file__).parent / "locale"
CATALOG = LOCALE_DIR / "{locale}" / "LC_MESSAGES" / "messages.po"
# How each language names itself, for the profile's picker (never translated).
LANGUAGE_NAMES = {"en": "English", "es": "Español"}

_locale: ContextVar[str] = ContextVar("rolodex_locale", default=DEFAULT_LOCALE)
_zone: ContextVar[str] = ContextVar("rolodex_time_zone", default=DEFAULT_TIME_ZONE)


@cache
def _po(locale: str) -> Catalog | None:
    path = Path(str(CATALOG).format(locale=locale))
    if locale == DEFAULT_LOCALE or not path.exists():
        return None
    with path.open("rb") as po:
        return read_po(po, locale=locale)


@cache
def _catalog(locale: str) -> gettext_module.NullTranslations:
    catalog = _po(locale)
    if catalog is None:
        return gettext_module.NullTranslations()
    mo = BytesIO()
    write_mo(mo, catalog)  # fuzzy entries are left out: an unchecked guess is not shown
    mo.seek(0)
    return gettext_module.GNUTranslations(mo)


@cache
def js_messages(locale: str) -> dict[str, str]:
    """The translations of the messages the pages' JavaScript uses (those found in .js files)."""
    catalog = _po(locale)
    if catalog is None:
        return {}
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and m.string and not m.fuzzy and any(f.endswith(".js") for f, _ in m.locations)
    }


def use(locale: str | None = None, time_zone: str | None = None) -> None:
    """Make this language and zone the current request's (None leaves one as it is)."""
    if locale is not None:
        _locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    if time_zone is not None:
        _zone.set(time_zone if valid_time_zone(time_zone) else DEFAULT_TIME_ZONE)


def current_locale() -> str:
    """The language of the current request."""
    return _locale.get()


def current_time_zone() -> str:
    """The IANA time zone of the current request."""
    return _zone.get()


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an `Accept-Language` header (RFC 9110 q-values)."""
    wanted: list[tuple[float, str]] = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality + n * 1e-6, tag.replace("_", "-")))
    preferred = [tag for _, tag in sorted(wanted)]
    # A regional tag (es-MX) matches its language (es) too.
    preferred += [tag.split("-")[0] for tag in preferred]
    return negotiate_locale(preferred, list(LOCALES), sep="-") or DEFAULT_LOCALE


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_time_zone(name: str) -> bool:
    """Whether this is an IANA time zone name this machine knows."""
    return name in _zones()


def translate(message: str) -> str:
    """The current language's text of a message id (for Jinja's newstyle gettext)."""
    return _catalog(_locale.get()).gettext(message)


def gettext(message: str, **values: Any) -> str:
    """The current language's text of a message id, with `%(name)s` placeholders filled."""
    text = translate(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The singular or plural text for n (the language's plural rule), `%(num)d` filled with n."""
    text = _catalog(_locale.get()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def lazy_gettext(message: str) -> Any:
    """A message id translated when it is used, not when the module is imported (constants)."""
    return LazyProxy(translate, message, enable_cache=False)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "extract, translate later"
    """Mark a message id for extraction; it is translated where it is shown."""
    return message


def format_time(value: datetime | None, style: Literal["medium", "short"] = "medium") -> str:
    """A moment in the reader's language and zone; '' for None.

    The date in `style` (medium: "3 dic 2026"; short: "3/12/26") and the time to the minute,
    joined as the language joins them (CLDR, through Babel): what rolodex.time() shows in pages.
    """
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored times are UTC
    try:
        zone = ZoneInfo(_zone.get())
    except ZoneInfoNotFoundError:
        zone = ZoneInfo(DEFAULT_TIME_ZONE)
    local = value.astimezone(zone)
    locale = Locale.parse(_locale.get())
    date = format_date(local, style, locale=locale)
    time = babel_time(local, "short", locale=locale)
    return str(get_datetime_format(style, locale=locale)).replace("{1}", date).replace("{0}", time)

"""Attribute labels: one per workspace, whatever the case or the spaces around it (B10).

Agents find a field by its label, so two attributes never share one: a label is compared
trimmed, with inner runs of spaces as one, and case-folded ("Número de pedido" and
" número  de PEDIDO " are the same label). What counts as taken:
* every other definition of the workspace: its stored label, and when it is a built-in label
  (a platform attribute's, VIP's) also that label as shown in each of our languages;
* every built-in label of the catalogue, in each language, even before a channel of its
  medium exists: "SMS phone" (and its Spanish) belongs to the SMS platform attribute.
A create or rename to a taken label is 409 `label_taken`, naming it, with an `errors` entry
for `label`. The database holds the rule too: a unique index on (workspace_id, lower(label))
(migration a16b00000003), so two concurrent creates cannot both succeed; labels are stored
cleaned, so lower(label) compares what people see.

Platform definitions are created by channels and ingestion, which must never fail: when a
built-in label is already taken (a custom attribute made before this rule, e.g. one called
"SMS phone" before the first SMS channel), the platform definition is created with the first
free numbered label, "SMS phone (2)", and keeps its key; an admin may rename either.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import i18n
from rolodex.attributes import repository
from rolodex.catalogue import BUILTIN_LABELS
from rolodex.errors import Conflict, InvalidInput, field_error
from rolodex.i18n import _

# The unique index on (workspace_id, lower(label)); its name tells a label conflict apart.
LABEL_INDEX = "ux_attribute_definitions_label"


def clean(label: str) -> str:
    """A label as stored: trimmed, inner runs of whitespace made one space."""
    return " ".join(label.split())


def fold(label: str) -> str:
    """A label's comparison form: cleaned and case-folded."""
    return clean(label).casefold()


def _every_language(message: str) -> set[str]:
    """A message as each of our languages shows it (the request's own language left alone)."""

    def each() -> set[str]:
        shown = set()
        for locale in i18n.LOCALES:
            i18n.use(locale=locale)
            shown.add(i18n.translate(message))
        return shown

    return contextvars.copy_context().run(each)


def names(key: str, label: str) -> set[str]:
    """The folded names a definition is known by: its label, in every language if built in."""
    if BUILTIN_LABELS.get(key) == label:
        return {fold(name) for name in _every_language(label)}
    return {fold(label)}


def _reserved(except_key: str | None) -> set[str]:
    """The folded built-in labels (every language) of every key but one."""
    return {
        name
        for key, label in BUILTIN_LABELS.items()
        if key != except_key
        for name in names(key, label)
    }


def required(label: str | None, field: str = "label") -> str:
    """The cleaned label; 422 beside the field when nothing is left."""
    cleaned = clean(label or "")
    if not cleaned:
        raise InvalidInput.for_field(field, _("Enter a label."))
    return cleaned


def taken(label: str) -> Conflict:
    """The 409 for a label another attribute has (detail and field message name it)."""
    message = _(
        "Another attribute is already called “%(label)s”. Choose another label.", label=label
    )
    return Conflict(
        _("The label “%(label)s” is already used by another attribute.", label=label),
        code="label_taken",
        errors=[field_error("label", message, "duplicate")],
    )


def is_label_conflict(exc: IntegrityError) -> bool:
    """Whether a failed insert or update broke the unique label index."""
    return LABEL_INDEX in str(exc.orig)


async def check_free(
    session: AsyncSession, workspace_id: str, label: str, *, key: str | None = None
) -> None:
    """409 `label_taken` unless the label is free for the definition with this key (None: new).

    The caller holds the workspace's attribute order lock (repository.lock_order), so no
    concurrent create or rename can take the label between this check and its commit.
    """
    wanted = fold(label)
    if wanted in _reserved(key):
        raise taken(label)
    for other_key, other_label in await repository.labels(session, workspace_id):
        if other_key != key and wanted in names(other_key, other_label):
            raise taken(label)


def free_labels(
    wanted: Iterable[tuple[str, str]], existing: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """Labels for new platform definitions: each its built-in one, numbered when taken.

    `wanted` and `existing` are (key, label) pairs; the answer maps each wanted key to the
    label it is stored with ("SMS phone", or "SMS phone (2)" when a custom one had it).
    """
    used: set[str] = set()
    for key, label in existing:
        used |= names(key, label)
    out: dict[str, str] = {}
    for key, label in wanted:
        candidate, n = label, 2
        while names(key, candidate) & used:
            candidate, n = f"{label} ({n})", n + 1
        used |= names(key, candidate)
        out[key] = candidate
    return out

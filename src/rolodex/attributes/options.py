"""Dropdown options: checking them, and removing options with the values that use them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import repository, writes
from rolodex.attributes.formats import fold
from rolodex.attributes.platform import Provenance
from rolodex.auth.principals import Principal
from rolodex.errors import Conflict, InvalidInput, field_error
from rolodex.i18n import _, ngettext
from rolodex.kit.clock import utcnow
from rolodex.models import AttributeDefinition

CLEAR_BATCH = 1000


def check_options(options: list[str], field: str = "options") -> list[str]:
    """Dropdown options: trimmed, two or more, no duplicates ignoring case (422 otherwise)."""
    cleaned = [" ".join(o.split()) for o in options]
    errors = []
    seen: dict[str, int] = {}
    for i, option in enumerate(cleaned):
        if not option:
            errors.append(field_error(f"{field}.{i}", _("An option cannot be empty.")))
        elif fold(option) in seen:
            message = _(
                "“%(option)s” repeats option %(number)s (ignoring case).",
                option=option,
                number=seen[fold(option)] + 1,
            )
            errors.append(field_error(f"{field}.{i}", message, "duplicate"))
        else:
            seen[fold(option)] = i
    if not errors and len(cleaned) < 2:
        message = _("A dropdown list needs at least two options.")
        errors.append(field_error(field, message, "too_short"))
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(detail, errors=errors)
    return cleaned


async def change_options(
    session: AsyncSession,
    principal: Principal,
    definition: AttributeDefinition,
    options: list[str],
    *,
    force: bool,
) -> int:
    """Store new options; removed ones in use are 409 `option_in_use` unless forced (cleared)."""
    # Values are matched by their normalized (folded) form, so the check is index-only.
    new = check_options(options)
    kept = {fold(o) for o in new}
    removed = [fold(o) for o in definition.options or [] if fold(o) not in kept]
    ws, cleared = principal.workspace_id, 0
    if removed:
        in_use = await repository.count_with_normalized(session, ws, definition.id, removed)
        if in_use and not force:
            names = [o for o in definition.options or [] if fold(o) in removed]
            raise Conflict(
                ngettext(
                    "%(num)d contact uses an option you removed (%(options)s); "
                    "send force=true to clear its value.",
                    "%(num)d contacts use an option you removed (%(options)s); "
                    "send force=true to clear their values.",
                    in_use,
                    options=", ".join(f"“{n}”" for n in names),
                ),
                code="option_in_use",
                extra={"count": in_use, "options": names},
            )
        if in_use:
            cleared = await _clear(session, principal, definition.id, removed)
    definition.options = new
    return cleared


async def _clear(
    session: AsyncSession, principal: Principal, definition_id: str, normalized: list[str]
) -> int:
    ws, total = principal.workspace_id, 0
    provenance = Provenance("agent", principal.actor_kind, principal.actor_id, None, utcnow())
    while True:
        batch = await repository.values_with_normalized(
            session, ws, definition_id, normalized, limit=CLEAR_BATCH
        )
        if not batch:
            return total
        changes = [writes.Change(c, definition_id, old, None) for c, old in batch]
        await writes.apply(session, ws, changes, provenance)
        total += len(batch)

"""Applying a CRM's answer to a contact (R6.1): validated against the definitions, written
with provenance `crm`, or kept pending until an agent confirms it.

Only CRM-managed attributes are written. One missing from the answer, or null, is cleared.
A value that fails its definition (an unknown option, a bad email…) is skipped, kept as it
was, and reported to the CRM's notification URL. Lookup attributes echoed back are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.crm import repository
from rolodex.crm.schemas import AnswerResult, CrmAnswer, LookupOutcome, Skipped
from rolodex.kit.clock import utcnow
from rolodex.models import AttributeDefinition


@dataclass
class Applied:
    """What an answer did, and the messages owed to the notification URL."""

    result: AnswerResult
    problems: list[str] = field(default_factory=list)


def _raw(value: Any) -> Any:
    return value if value is None or isinstance(value, bool) else attributes.as_text(value)


def _checked(
    answer: CrmAnswer, definitions: dict[str, AttributeDefinition], region: str
) -> tuple[dict[str, attributes.Normalized | None], list[Skipped]]:
    # {key: new value or None} for every CRM-managed attribute the answer sets or clears.
    managed = {k: d for k, d in definitions.items() if d.crm_managed}
    values: dict[str, attributes.Normalized | None] = dict.fromkeys(managed)
    skipped: list[Skipped] = []
    for item in answer.contactAttributes:
        definition = definitions.get(item.attribute)
        if definition is None:
            skipped.append(Skipped(attribute=item.attribute, reason="no such attribute"))
        elif not definition.crm_managed:
            if not definition.lookup:
                skipped.append(Skipped(attribute=item.attribute, reason="not CRM-managed"))
        else:
            try:
                values[item.attribute] = attributes.check_value(
                    definition, _raw(item.value), region
                )
            except ValueError as exc:
                values.pop(item.attribute, None)  # kept as it was, not cleared
                skipped.append(Skipped(attribute=item.attribute, reason=str(exc)))
    return values, skipped


async def _changes(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    values: dict[str, attributes.Normalized | None],
    definitions: dict[str, AttributeDefinition],
) -> list[attributes.Change]:
    # The values that differ from the contact's current ones.
    ids = {key: definitions[key].id for key in values}
    current = await attributes.current_values(session, workspace_id, contact_id, ids.values())
    return [
        attributes.Change(contact_id, ids[key], current.get(ids[key]), new)
        for key, new in values.items()
        if current.get(ids[key]) != (new.value if new else None)
    ]


async def _write(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    values: dict[str, attributes.Normalized | None],
    definitions: dict[str, AttributeDefinition],
    provenance: attributes.Provenance,
) -> tuple[list[str], list[str]]:
    # Writes the values that differ; returns (keys set, keys cleared). The contact is
    # locked first, as for an agent's write, so history names the value each one replaced.
    await attributes.lock_contact(session, workspace_id, contact_id)
    changes = await _changes(session, workspace_id, contact_id, values, definitions)
    await attributes.apply_changes(session, workspace_id, changes, provenance)
    keys = {d.id: k for k, d in definitions.items()}
    await attributes.announce(session, workspace_id, contact_id, changes, provenance, keys=keys)
    applied = [keys[c.definition_id] for c in changes if c.new is not None]
    cleared = [keys[c.definition_id] for c in changes if c.new is None]
    return applied, cleared


async def _context(
    session: AsyncSession, workspace_id: str
) -> tuple[dict[str, AttributeDefinition], str]:
    definitions = {d.key: d for d in await attributes.list_definitions(session, workspace_id)}
    ws = await repository.workspace(session, workspace_id)
    return definitions, ws.default_phone_region if ws else "US"


def _problems(contact_id: str, skipped: list[Skipped]) -> list[str]:
    return [f"contact {contact_id}: attribute '{s.attribute}': {s.reason}" for s in skipped]


async def apply_answer(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    answer: CrmAnswer,
    provenance: attributes.Provenance,
) -> Applied:
    """Write the answer's CRM-managed values (autoConfirm) or keep them pending for Confirm."""
    definitions, region = await _context(session, workspace_id)
    values, skipped = _checked(answer, definitions, region)
    now = utcnow()
    state: dict[str, Any] = {
        "contact_id": contact_id,
        "workspace_id": workspace_id,
        "last_lookup_at": now,
        "last_error": None,
        "updated_at": now,
    }
    if answer.autoConfirm:
        applied, cleared = await _write(
            session, workspace_id, contact_id, values, definitions, provenance
        )
        pending: list[str] = []
        state.update(validated=True, last_outcome=LookupOutcome.UPDATED.value, pending=None)
    else:
        keys = {d.id: k for k, d in definitions.items()}
        waiting = {
            keys[c.definition_id]: c.new.value if c.new else None
            for c in await _changes(session, workspace_id, contact_id, values, definitions)
        }
        applied, cleared, pending = [], [], list(waiting)
        outcome = LookupOutcome.PENDING_CONFIRMATION if waiting else LookupOutcome.UPDATED
        state.update(last_outcome=outcome.value, pending=waiting or None)
        if not waiting:
            state["validated"] = True
    await repository.put_state(session, state)
    result = AnswerResult(
        contactProfileId=contact_id,
        applied=applied,
        pending=pending,
        cleared=cleared,
        skipped=skipped,
    )
    return Applied(result, _problems(contact_id, skipped))


async def confirm_pending(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    pending: dict[str, Any],
    provenance: attributes.Provenance,
) -> Applied:
    """Write a pending answer an agent confirmed (checked again: definitions may have changed)."""
    answer = CrmAnswer.model_validate(
        {
            "autoConfirm": True,
            "contactAttributes": [{"attribute": k, "value": v} for k, v in pending.items()],
        }
    )
    definitions, region = await _context(session, workspace_id)
    values, skipped = _checked(answer, definitions, region)
    # Only what was pending: attributes the answer did not name are not cleared now.
    values = {k: v for k, v in values.items() if k in pending}
    applied, cleared = await _write(
        session, workspace_id, contact_id, values, definitions, provenance
    )
    now = utcnow()
    await repository.put_state(
        session,
        {
            "contact_id": contact_id,
            "workspace_id": workspace_id,
            "validated": True,
            "last_outcome": LookupOutcome.UPDATED.value,
            "pending": None,
            "updated_at": now,
        },
    )
    result = AnswerResult(
        contactProfileId=contact_id, applied=applied, pending=[], cleared=cleared, skipped=skipped
    )
    return Applied(result, _problems(contact_id, skipped))

"""Checking group rules against attribute definitions, and evaluating them on one contact.

Values are compared in their matching form: text case-folded (`is`, `contains`,
`any_of`), numbers as numbers and dates as ISO text (`gt`, `gte`, `lt`, `lte`, only for
the number and date formats). A rule over a value the contact does not have never
matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rolodex.attributes import service as attributes
from rolodex.attributes.schemas import Format
from rolodex.catalogue import label_of
from rolodex.errors import InvalidInput, field_error
from rolodex.groups.schemas import Match, Operator, Rule
from rolodex.i18n import N_, _, translate
from rolodex.models import AttributeDefinition

ORDERED = frozenset({Operator.GT, Operator.GTE, Operator.LT, Operator.LTE})
ORDERED_FORMATS = frozenset({Format.NUMBER.value, Format.DATE.value})
# Every rule is evaluated for every contact on each recompute: its values stay small.
MAX_RULE_VALUE = 500
MAX_ANY_OF = 100
# How each operator reads to people (the page says the same through rolodex.t).
OPERATOR_LABELS = {
    Operator.IS: N_("is"),
    Operator.CONTAINS: N_("contains"),
    Operator.ANY_OF: N_("is any of"),
    Operator.NOT_EMPTY: N_("has a value"),
    Operator.GT: N_("is more than"),
    Operator.GTE: N_("is at least"),
    Operator.LT: N_("is less than"),
    Operator.LTE: N_("is at most"),
}


def operator_label(operator: Operator | str) -> str:
    """An operator as the reader says it ("is at least"); an unknown one as it is."""
    try:
        return translate(OPERATOR_LABELS[Operator(operator)])
    except ValueError:
        return str(operator)


def _too_long() -> str:
    return _("Enter at most %(count)s characters.", count=MAX_RULE_VALUE)


def _check_rule(
    i: int, rule: Rule, definition: AttributeDefinition | None, region: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    field = f"rules.{i}"
    if definition is None or not definition.enabled:
        message = _("Choose an attribute that is on (%(key)s is not).", key=rule.attribute)
        return None, field_error(f"{field}.attribute", message, "unknown")
    if rule.operator in ORDERED and definition.format not in ORDERED_FORMATS:
        message = _(
            "%(attribute)s is not a number or a date: it cannot be compared with “%(operator)s”.",
            attribute=label_of(definition.key, definition.label),
            operator=operator_label(rule.operator),
        )
        return None, field_error(f"{field}.operator", message, "operator_not_allowed")
    value: Any = rule.value
    if rule.operator is Operator.NOT_EMPTY:
        value = None
    elif rule.operator is Operator.ANY_OF:
        if not isinstance(value, list) or not value:
            return None, field_error(f"{field}.value", _("Give one or more values."))
        if len(value) > MAX_ANY_OF:
            message = _("Give at most %(count)s values.", count=MAX_ANY_OF)
            return None, field_error(f"{field}.value", message, "too_long")
        for n, item in enumerate(value):
            if len(item) > MAX_RULE_VALUE:
                return None, field_error(f"{field}.value.{n}", _too_long(), "too_long")
    elif value is None or isinstance(value, list) or str(value).strip() == "":
        return None, field_error(f"{field}.value", _("Enter a value."))
    elif len(str(value)) > MAX_RULE_VALUE:
        return None, field_error(f"{field}.value", _too_long(), "too_long")
    elif rule.operator in ORDERED:
        try:
            value = attributes.normalize(
                Format(definition.format or Format.TEXT), value, region
            ).value
        except ValueError as exc:
            return None, field_error(f"{field}.value", str(exc))
    stored = {
        "attribute": rule.attribute,
        "definition_id": definition.id,
        "operator": rule.operator.value,
        "value": value,
    }
    return stored, None


def check_rules(
    rules: Sequence[Rule], definitions: Mapping[str, AttributeDefinition], region: str
) -> list[dict[str, Any]]:
    """The rules as stored (with their definition ids); 422 naming every bad rule."""
    stored, errors = [], []
    for i, rule in enumerate(rules):
        row, error = _check_rule(i, rule, definitions.get(rule.attribute), region)
        if error is not None:
            errors.append(error)
        elif row is not None:
            stored.append(row)
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(detail, errors=errors, code="invalid_group_rules")
    return stored


def _ordered(value: str, target: Any, operator: str) -> bool:
    try:
        left: Any = float(value)
        right: Any = float(target)
    except (TypeError, ValueError):
        left, right = value, str(target)
    if operator == Operator.GT:
        return bool(left > right)
    if operator == Operator.GTE:
        return bool(left >= right)
    if operator == Operator.LT:
        return bool(left < right)
    return bool(left <= right)


def rule_matches(rule: Mapping[str, Any], value: str | None) -> bool:
    """Whether one stored rule matches a contact's value (None: the contact has none)."""
    if value is None or not value.strip():
        return False
    operator, target = rule["operator"], rule["value"]
    if operator == Operator.NOT_EMPTY:
        return True
    if operator == Operator.IS:
        return attributes.fold(value) == attributes.fold(str(target))
    if operator == Operator.CONTAINS:
        return attributes.fold(str(target)) in attributes.fold(value)
    if operator == Operator.ANY_OF:
        return attributes.fold(value) in {attributes.fold(str(t)) for t in target}
    return _ordered(value, target, operator)


def group_matches(
    match: str, rules: Sequence[Mapping[str, Any]], values: Mapping[str, str]
) -> bool:
    """Whether a contact with these values (by definition id) is in a group."""
    results = (rule_matches(r, values.get(r["definition_id"])) for r in rules)
    return all(results) if match == Match.ALL else any(results)


def definition_ids(rules: Sequence[Mapping[str, Any]]) -> set[str]:
    """The attribute definitions a group's rules read."""
    return {str(r["definition_id"]) for r in rules}

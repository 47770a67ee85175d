"""Contact group schemas (SPEC "VIP, groups, routing")."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from rolodex.schemas import InputModel, Name, OutputModel

GroupKey = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9_]+$")]
RuleValue = str | int | float | list[str] | None


class Operator(StrEnum):
    """How a rule compares an attribute's value."""

    IS = "is"  # case-insensitive equality
    CONTAINS = "contains"
    ANY_OF = "any_of"
    NOT_EMPTY = "not_empty"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


class Match(StrEnum):
    """Whether a contact must match every rule or any one."""

    ALL = "all"
    ANY = "any"


class Rule(InputModel):
    """One condition over one enabled attribute."""

    attribute: Annotated[str, Field(min_length=1, max_length=80)]
    operator: Operator
    value: RuleValue = None


class RuleRead(OutputModel):
    """A stored condition."""

    attribute: str
    operator: Operator
    value: RuleValue = None


class ContactGroupCreate(InputModel):
    """A new admin-defined group."""

    name: Name
    key: GroupKey | None = None
    match: Match = Match.ALL
    rules: Annotated[list[Rule], Field(min_length=1, max_length=20)]
    enabled: bool = True


class ContactGroupUpdate(InputModel):
    """Rename a group, change its rules or turn it off/on (its members are recomputed).

    A group that is off has no members: routing, prioritization and filters skip it.
    """

    name: Name | None = None
    match: Match | None = None
    rules: Annotated[list[Rule], Field(min_length=1, max_length=20)] | None = None
    enabled: bool | None = None


class ContactGroupRead(OutputModel):
    """A group; `builtin` for `vip`, whose members are the contacts marked VIP.

    `enabled`: for `vip`, whether VIP is on in the workspace; for the others, whether the
    group is on (a group that is off has no members).
    """

    key: str
    name: str
    match: Match
    rules: list[RuleRead]
    builtin: bool = False
    enabled: bool = True

"""Shared schema bases: strict inputs, attribute-reading outputs, cursor pages, and the text and
time rules every input follows (no NUL characters, no times without a zone)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from rolodex.i18n import N_

T = TypeVar("T")

NUL = "\x00"
NUL_ERROR = "nul_character"
# What a person is told (translated where it is shown; errors.py says it for bodies).
NUL_MESSAGE = N_("Remove the NUL character.")


def _nul_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Where NUL characters stand in a parsed JSON value (keys and strings, at any depth)."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if NUL in name:
                yield (*path, name.replace(NUL, "\\u0000"))
            yield from _nul_paths(item, (*path, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, str(index)))


def refuse_nul(value: Any) -> Any:
    """Refuse a body that holds a NUL anywhere: PostgreSQL cannot store it in text."""
    for path in _nul_paths(value):
        raise PydanticCustomError(NUL_ERROR, NUL_MESSAGE, {"field": ".".join(path)})
    return value


def _no_nul_text(value: str) -> str:
    if NUL in value:
        raise PydanticCustomError(NUL_ERROR, NUL_MESSAGE, {"field": ""})
    return value


class StrictBody(BaseModel):
    """A body whose text can never hold NUL (third-party contracts that allow unknown fields)."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        return refuse_nul(data)


class InputModel(StrictBody):
    """A request body: unknown fields are refused so that typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    """A response body, readable straight from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list, with the cursor of the next page (null on the last)."""

    items: list[T]
    next_cursor: str | None = None


# Text from a form field or a query parameter (JSON bodies are checked whole by StrictBody).
Text = Annotated[str, AfterValidator(_no_nul_text)]
# Every time a client sends: ISO 8601 with a zone ("Z" or an offset); a naive time is a 422.
Instant = AwareDatetime

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
Cursor = Annotated[
    Text | None, Query(max_length=500, description="`next_cursor` of the previous page.")
]
Name = Annotated[str, Field(min_length=1, max_length=200)]

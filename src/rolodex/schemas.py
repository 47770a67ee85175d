"""Shared schema bases: strict inputs, attribute-reading outputs, cursor pages, and the text and
time rules every input follows (no NUL characters, no times without a zone)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Query, Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from rolodex.errors import InvalidInput
from rolodex.i18n import N_, _

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


@dataclass(frozen=True)
class Versions:
    """The versions an If-Match header accepts (`any_`: `*`, whatever the version)."""

    versions: frozenset[int] = frozenset()
    any_: bool = False

    def matches(self, version: int) -> bool:
        """Whether the current version is one the client expects."""
        return self.any_ or version in self.versions


# None: the request carries no If-Match and behaves as without versions.
IfMatch = Versions | None

_ENTITY_TAG = re.compile(r'\s*(?:W/)?(?:"(\d{1,18})"|(\d{1,18}))\s*')


def parse_if_match(header: str | None) -> IfMatch:
    """An If-Match header's versions: `"3"`, `3`, `W/"3"`, a comma list, or `*` (422 if else)."""
    if header is None:
        return None
    if header.strip() == "*":
        return Versions(any_=True)
    versions = set()
    for part in header.split(","):
        match = _ENTITY_TAG.fullmatch(part)
        if match is None:
            raise InvalidInput.for_field(
                "If-Match", _('Send the version you read, as its ETag: "3".')
            )
        versions.add(int(match.group(1) or match.group(2)))
    return Versions(frozenset(versions))


def _if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The ETag you read ("3"): answered 412 stale if it changed since.',
        ),
    ] = None,
) -> IfMatch:
    return parse_if_match(if_match)


IfMatchHeader = Annotated[IfMatch, Depends(_if_match)]


M = TypeVar("M", bound=BaseModel)


def assembled(model: type[M], values: dict[str, Any]) -> M:
    """A read model from values the server built itself, every field given, typed and valid.

    `model_construct` walks each field for defaults and aliases (about 17 µs a model, most of
    a 50-row page's cost); this only sets what pydantic's serialiser reads.
    """
    item = model.__new__(model)
    object.__setattr__(item, "__dict__", values)
    object.__setattr__(item, "__pydantic_fields_set__", set(values))
    object.__setattr__(item, "__pydantic_extra__", None)
    object.__setattr__(item, "__pydantic_private__", None)
    return item


class Serialized(Response):
    """A response body the server built itself, serialised once: FastAPI's validation of the
    return value against the route's model would only re-check it (hot reads; the route keeps
    `response_model` for its documentation)."""

    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        super().__init__(model.__pydantic_serializer__.to_json(model), status_code)


def set_etag(response: Response, version: int) -> None:
    """Send a version as the response's ETag."""
    response.headers["ETag"] = f'"{version}"'


# OpenAPI for routes that take If-Match: the 412 problem and the 422 for a malformed header.
STALE_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: {
        "description": 'Stale: If-Match is not the current version (`code: "stale"`); '
        "`current` holds the current representation.",
        "content": {"application/problem+json": {}},
    },
}

"""Application errors that carry their HTTP status and a stable code, and their rendering.

Services raise these; only this module turns them into responses: RFC 9457
problem+json for the API and a friendly HTML page for the web pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from rolodex import i18n
from rolodex.i18n import N_

PROBLEM_JSON = "application/problem+json"
# Paths that machines call; everything else is a page for a person.
API_PREFIXES = (
    "/api/",
    "/inbox/",
    "/virtual-agent/",
    "/oauth2/",
    "/healthz",
    "/openapi.json",
    "/webhooks/",
    "/public/",
)


class AppError(Exception):
    """Base of every foreseeable failure: an HTTP status, a stable code and a human detail."""

    status = 400
    code = "bad_request"
    title = N_("Bad request")
    # Seconds the client should wait before trying again (sent as Retry-After), if any.
    retry_after: int | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        # No detail: the title says it all, in the reader's language.
        self.detail = detail or i18n.translate(self.title)
        self.errors = list(errors or [])
        if code:
            self.code = code
        self.extra = extra or {}
        super().__init__(self.detail)

    @property
    def shown_title(self) -> str:
        """The title in the reader's language."""
        return i18n.translate(self.title)

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 body of this error."""
        body: dict[str, Any] = {
            "type": f"urn:rolodex:problem:{self.code}",
            "title": self.shown_title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "errors": self.errors,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidInput(AppError):
    """A request value is not acceptable (422); `errors` names each field."""

    status = 422
    code = "validation_error"
    title = N_("Invalid input")

    @classmethod
    def for_field(cls, field: str, message: str, *, code: str | None = None) -> InvalidInput:
        """An error about exactly one field."""
        return cls(f"{field}: {message}", errors=[field_error(field, message)], code=code)


class Unauthorized(AppError):
    """No valid credentials (401)."""

    status = 401
    code = "unauthorized"
    title = N_("Authentication required")


class Forbidden(AppError):
    """Valid credentials that may not do this (403)."""

    status = 403
    code = "forbidden"
    title = N_("Forbidden")


class PlanRequired(Forbidden):
    """A feature outside the workspace's plan (403, code plan_required)."""

    code = "plan_required"
    title = N_("Plan upgrade required")


class NotFound(AppError):
    """Missing, or belongs to another workspace: the two are never told apart (404)."""

    status = 404
    code = "not_found"
    title = N_("Not found")


class Conflict(AppError):
    """The request conflicts with the current state (409)."""

    status = 409
    code = "conflict"
    title = N_("Conflict")


class PreconditionFailed(AppError):
    """The client's If-Match is not the current version (412, code stale).

    Raised with `extra={"current": …}`: the current representation, so the client can show
    what changed without another request.
    """

    status = 412
    code = "stale"
    title = N_("Changed by someone else")


class Gone(AppError):
    """The thing existed but is no longer available (410)."""

    status = 410
    code = "gone"
    title = N_("Gone")


class PayloadTooLarge(AppError):
    """The request body or an attachment is over its limit (413)."""

    status = 413
    code = "payload_too_large"
    title = N_("Payload too large")


def internal_error(request_id: str) -> AppError:
    """The 500 for an unexpected failure; its request id is the one in the log line."""
    err = AppError(
        i18n.gettext(
            "Something went wrong on our side; it has been logged as request %(request_id)s.",
            request_id=request_id,
        ),
        extra={"request_id": request_id},
    )
    err.status, err.code, err.title = 500, "internal_error", N_("Internal error")
    return err


class TooManyRequests(AppError):
    """Too many attempts in a short time (429); Retry-After says how many seconds to wait."""

    status = 429
    code = "too_many_attempts"
    title = N_("Too many attempts")

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


def field_error(field: str, message: str, type_: str = "invalid") -> dict[str, Any]:
    """One entry of a problem's `errors` list."""
    return {"field": field, "message": message, "type": type_}


# What each kind of validation failure says to a person (Pydantic's own texts are for developers).
_PEOPLE_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "too_short": N_("Give at least %(min_length)s."),
    "too_long": N_("Give at most %(max_length)s."),
    "string_type": N_("Enter text."),
    "int_type": N_("Enter a whole number."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_type": N_("Enter a number."),
    "float_parsing": N_("Enter a number."),
    "bool_type": N_("Choose yes or no."),
    "bool_parsing": N_("Choose yes or no."),
    "enum": N_("Choose one of: %(expected)s."),
    "literal_error": N_("Choose one of: %(expected)s."),
    "greater_than": N_("Enter a number above %(gt)s."),
    "greater_than_equal": N_("Enter %(ge)s or more."),
    "less_than": N_("Enter a number below %(lt)s."),
    "less_than_equal": N_("Enter %(le)s or less."),
    "json_invalid": N_("The request body is not valid JSON."),
    "model_type": N_("Send a JSON object."),
    "model_attributes_type": N_("Send a JSON object."),
    "dict_type": N_("Send a JSON object."),
    "list_type": N_("Send a list."),
    "extra_forbidden": N_("This field is not accepted here."),
    "url_parsing": N_("Enter a valid URL."),
    "url_scheme": N_("Enter a URL starting with %(expected_schemes)s."),
    "url_type": N_("Enter a valid URL."),
    "datetime_parsing": N_("Enter a date and time (ISO 8601)."),
    "datetime_type": N_("Enter a date and time (ISO 8601)."),
    "timezone_aware": N_("Give the time with its time zone."),
    "uuid_parsing": N_("Enter a valid id."),
    "value_error": N_("This value is not valid."),
    "nul_character": N_("Remove the NUL character."),
}


def _message_for_people(kind: str, err: Any) -> str:
    """The reader's-language message of one validation error, its limits filled in."""
    ctx = err.get("ctx") or {}
    if kind == "value_error" and ctx.get("error") is not None:
        # Our own validators raise ValueError with a message already written for people.
        return i18n.translate(str(ctx["error"]))
    template = _PEOPLE_MESSAGES.get(kind)
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        # "at least 1 characters" reads wrong in both languages: the field must not be empty.
        template = N_("This field cannot be empty.")
    if template is None:
        return i18n.translate(N_("This value is not valid."))
    # Pydantic lists choices in English ("'admin' or 'agent'"): list them with commas instead.
    values = {k: str(v).replace("' or '", "', '") for k, v in ctx.items()}
    try:
        return i18n.translate(template) % values
    except (KeyError, ValueError):
        return i18n.translate(N_("This value is not valid."))


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:]
        kind = str(err.get("type"))
        # A NUL anywhere in a body is found by one model-level rule that says where it stood.
        inner = str((err.get("ctx") or {}).get("field", "")) if kind == "nul_character" else ""
        loc = [*loc, inner] if inner else loc
        field = "body" if kind == "json_invalid" or not loc else ".".join(loc)
        out.append(field_error(field, _message_for_people(kind, err), kind))
    return out


def wants_html(request: Request) -> bool:
    """Whether this request came from a web page rather than an API client."""
    return not request.url.path.startswith(API_PREFIXES)


def render(request: Request, error: AppError) -> Response:
    """The response for an error: problem+json for clients, an HTML page for people."""
    response: Response
    if wants_html(request):
        from rolodex.web import render_error_page  # pages import errors; avoid the cycle

        response = render_error_page(request, error)
    else:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        response = JSONResponse(
            error.to_problem(request.url.path),
            status_code=error.status,
            media_type=PROBLEM_JSON,
            headers=headers,
        )
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


_HTTP_CODES = {
    404: NotFound,
    405: type(
        "MethodNotAllowed",
        (AppError,),
        {"status": 405, "code": "method_not_allowed", "title": N_("Method not allowed")},
    ),
    413: PayloadTooLarge,
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a clean response."""

    async def app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return render(request, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return render(request, InvalidInput(detail, errors=errors))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        cls = _HTTP_CODES.get(exc.status_code)
        if cls is None:
            err = AppError(str(exc.detail))
            err.status, err.code = exc.status_code, f"http_{exc.status_code}"
            err.title = N_("Error")
        else:
            # Starlette's own details are the English status phrases: the title says it instead.
            default = exc.detail in (None, HTTPStatus(exc.status_code).phrase)
            err = cls(None if default else str(exc.detail))
        return render(request, err)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    # Unexpected exceptions are logged and answered by rolodex.middleware.ErrorBoundary.

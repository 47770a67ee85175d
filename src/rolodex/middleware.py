"""ASGI middleware every request passes: bounded bodies, NUL-free URLs, one log line and a
request id per unexpected error, and security headers on pages.

Plain ASGI rather than Starlette's BaseHTTPMiddleware: these wrap every request, and a
BaseHTTPMiddleware layer costs a task and a stream per request.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from babel.numbers import format_decimal
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rolodex import errors, i18n
from rolodex.schemas import NUL, NUL_ERROR, NUL_MESSAGE

log = logging.getLogger("rolodex.errors")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes whose bodies carry attachments (base64 in JSON) get the attachment limit.
_ATTACHMENT_ROUTES = re.compile(
    r"^/(api/v1/channels/[^/]+/inbound|api/v1/conversations/[^/]+/messages"
    r"|public/v1/webchat/[^/]+/messages)$"
)


class BodyTooLarge(HTTPException):
    """The body grew past its limit while it was being read (413)."""

    def __init__(self, limit: int) -> None:
        # An HTTPException, because FastAPI turns any other error met while reading into 400.
        super().__init__(413, _body_too_large(limit))


def _send_error(scope: Scope, receive: Receive, send: Send, error: errors.AppError) -> Any:
    return errors.render(Request(scope, receive), error)(scope, receive, send)


class BodyLimit:
    """Refuse a body over its limit before the route reads it, by Content-Length or as it streams.

    Runs before authentication and parsing, so an anonymous 50 MB body costs nothing.
    """

    def __init__(self, app: ASGIApp, *, limit: int, attachment_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.attachment_limit = attachment_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what is received."""
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.attachment_limit if _ATTACHMENT_ROUTES.match(scope["path"]) else self.limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_error(scope, receive, send, _too_large(limit))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _body_too_large(limit: int) -> str:
    return i18n.gettext(
        "The request body is too large: send at most %(limit)s bytes.",
        limit=format_decimal(limit, locale=i18n.current_locale()),
    )


def _too_large(limit: int) -> errors.PayloadTooLarge:
    return errors.PayloadTooLarge(_body_too_large(limit), extra={"limit_bytes": limit})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class NulFreeUrl:
    """Refuse a path or query parameter holding NUL (422), as bodies are refused by StrictBody.

    PostgreSQL cannot store NUL in text, and ids and `q` reach SQL.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass clean URLs through; answer 422 naming the part that holds NUL."""
        if scope["type"] == "http":
            field = _nul_field(scope)
            if field is not None:
                message = i18n.translate(NUL_MESSAGE)
                error = errors.InvalidInput(
                    f"{field}: {message}", errors=[errors.field_error(field, message, NUL_ERROR)]
                )
                await _send_error(scope, receive, send, error)
                return
        await self.app(scope, receive, send)


def _nul_field(scope: Scope) -> str | None:
    if NUL in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return f"query.{name.replace(NUL, '')}"
    return None


class ErrorBoundary:
    """Turn an unexpected exception into one log line and a 500 that carry the same request id.

    Starlette's own error middleware logs the exception again after any handler; catching it
    here, inside that middleware, keeps it to one record.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; on an unexpected error log it once and answer 500 if nothing was sent."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            request_id = secrets.token_hex(8)
            log.exception(
                "unhandled error on %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            if started:
                return
            await _send_error(scope, receive, send, errors.internal_error(request_id))


# Pages (the API docs pages too, see rolodex.apidocs) load only their own scripts and styles;
# nothing may frame them.
_PAGE_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    b"frame-ancestors 'none'"
)
# ReDoc (/redoc) builds its styles at run time in <style> elements (styled-components, with no
# way to hand it a nonce) and runs its search in a worker made from its own code (a blob: URL):
# that one page may use inline styles and blob: workers; its scripts stay 'self' only.
# The web chat channel's live preview is shown in a frame of its own channel page.
_FRAMED = re.compile(r"^/admin/channels/[^/]+/preview$")
_FRAMED_CSP = _PAGE_CSP.replace(b"frame-ancestors 'none'", b"frame-ancestors 'self'")
_REDOC_CSP = _PAGE_CSP.replace(
    b"style-src 'self'", b"style-src 'self' 'unsafe-inline'; worker-src 'self' blob:"
)
_COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """Add nosniff and Referrer-Policy to every response, and a strict CSP to every page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers as the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        csp = _PAGE_CSP
        if path == "/redoc":
            csp = _REDOC_CSP
        elif _FRAMED.match(path):
            csp = _FRAMED_CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.extend(_COMMON_HEADERS)
                if any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    headers.append((b"content-security-policy", csp))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class PublicCors:
    """Answer the web chat visitor API's CORS for the origin the route accepted.

    The route checks the Origin against the channel's allowed origins and records it in the
    request's state; every response of that request, errors included (a 401 the widget must
    read), then says that origin may read it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add Access-Control-Allow-Origin as the response starts, when the origin passed."""
        if scope["type"] != "http" or not scope["path"].startswith(_CORS_PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            origin = scope.get("state", {}).get(CORS_STATE)
            if message["type"] == "http.response.start" and origin:
                headers = list(message.get("headers", ()))
                headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
                headers.append((b"vary", b"Origin"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_cors)


_CORS_PREFIX = "/public/v1/webchat/"
CORS_STATE = "webchat_origin"  # set by webchat/api.py once the Origin is allowed


class Language:
    """Start every request in the browser's language (`Accept-Language`) and UTC.

    A signed-in person's own language and zone replace these once they are known (auth.deps).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Choose the language, then run the app in it."""
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
            i18n.use(i18n.negotiate(header), i18n.DEFAULT_TIME_ZONE)
        await self.app(scope, receive, send)


def install(app: Any, *, max_body_bytes: int, max_attachment_bytes: int) -> None:
    """Wrap the application in the middleware above (outermost first: headers, errors, limits)."""
    # base64 takes 4 bytes for every 3, and the JSON around the attachments needs room too.
    attachment_limit = -(-max_attachment_bytes * 4 // 3) + max_body_bytes
    # add_middleware puts each new one outside the ones before it.
    app.add_middleware(BodyLimit, limit=max_body_bytes, attachment_limit=attachment_limit)
    app.add_middleware(NulFreeUrl)
    app.add_middleware(ErrorBoundary)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(PublicCors)
    app.add_middleware(Language)

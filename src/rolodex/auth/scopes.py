"""What each integration token may call: one table, checked on every API request.

The table lists, per integration kind, the (method, path template) pairs it may call;
`current_principal` (auth/deps.py) refuses every other route with 403 `token_scope`. A
route missing from the table is therefore closed to bots and CRMs until it is added here.
User tokens and web sessions are not limited by this table: roles and plans decide for
them, in the services. docs/token-scopes.md is the readable version of this table.
"""

from __future__ import annotations

from collections.abc import Mapping

from rolodex.auth.principals import Principal, TokenKind
from rolodex.errors import Forbidden
from rolodex.i18n import _

Route = tuple[str, str]  # (HTTP method, the route's path template as declared)

# The credential's own identity: how an integration checks that its token works.
_WHO_AM_I: frozenset[Route] = frozenset({("GET", "/api/v1/me")})

# Contacts, their values and history, and the attribute definitions that name the keys.
_READ_CONTACTS: frozenset[Route] = frozenset(
    {
        ("GET", "/api/v1/contacts"),
        ("GET", "/api/v1/contacts/{contact_id}"),
        ("GET", "/api/v1/contacts/{contact_id}/history"),
        ("GET", "/api/v1/attributes"),
    }
)

# Which values each kind may write is decided per attribute in attributes/values.py.
_WRITE_VALUES: frozenset[Route] = frozenset({("PATCH", "/api/v1/contacts/{contact_id}/attributes")})

SCOPES: Mapping[TokenKind, frozenset[Route]] = {
    TokenKind.CRM: _WHO_AM_I
    | _READ_CONTACTS
    | _WRITE_VALUES
    | {("PUT", "/inbox/v2/contact/{contact_profile_id}/contact-attributes")},
    TokenKind.BOT: _WHO_AM_I
    | _READ_CONTACTS
    | _WRITE_VALUES
    | {
        ("POST", "/api/v1/channels/{channel_id}/inbound"),
        ("GET", "/api/v1/contacts/{contact_id}/conversations"),
        ("GET", "/api/v1/conversations"),
        ("GET", "/api/v1/conversations/{conversation_id}"),
        ("GET", "/api/v1/conversations/{conversation_id}/messages"),
        ("POST", "/api/v1/conversations/{conversation_id}/messages"),
        ("GET", "/api/v1/conversations/{conversation_id}/contact-tab"),
    }
    # The virtual-agent contract, at its current and former paths (R13).
    | {
        (method, f"{prefix}/conversations/{{conversation_id}}{tail}")
        for prefix in ("/inbox/v1/virtual-agent", "/virtual-agent")
        for method, tail in (("POST", ""), ("PUT", "/attachments/{filename}"))
    },
}

_UNLIMITED = frozenset({TokenKind.USER, TokenKind.SESSION})


def allows(kind: TokenKind, method: str, path: str) -> bool:
    """Whether a token of this kind may call the route (users and sessions: always)."""
    if kind in _UNLIMITED:
        return True
    method = "GET" if method == "HEAD" else method
    return (method, path) in SCOPES.get(kind, frozenset())


def require_scope(principal: Principal, method: str, path: str | None) -> None:
    """Refuse an integration a route (path template) outside its kind's scope (403 token_scope)."""
    # No known route (path None) refuses integrations too: never let one through by accident.
    if principal.kind in _UNLIMITED or (path is not None and allows(principal.kind, method, path)):
        return
    raise Forbidden(
        _(
            "A %(kind)s token may not call %(method)s %(path)s; see docs/token-scopes.md.",
            kind=principal.kind.value,
            method=method,
            path=path or _("this route"),
        ),
        code="token_scope",
    )

"""Events of the auth domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rolodex.auth.principals import Principal
from rolodex.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class CredentialsChanged(Event):
    """An admin created or revoked an API token or OAuth client credentials."""

    actor: Principal
    action: str  # e.g. "token.created", "oauth_client.revoked"
    target_type: str
    target_id: str
    after: dict[str, Any] | None = None

"""Auth schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from rolodex.auth.principals import TokenKind
from rolodex.schemas import InputModel, Name, OutputModel


class TokenRequest(InputModel):
    """Credentials exchanged for an API token."""

    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    # Only needed when one email and password open accounts in several workspaces.
    workspace_id: Annotated[str | None, Field(min_length=1, max_length=40)] = None


class TokenResponse(OutputModel):
    """A bearer token (shown once)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - not a secret
    expires_at: datetime | None = None


class IntegrationTokenCreate(InputModel):
    """A token for an integration (a bot or a CRM connector), or a personal API token."""

    kind: Literal["bot", "crm", "user"]
    name: Name


class IntegrationTokenRead(OutputModel):
    """A token's metadata (the token itself is shown only when created)."""

    id: str
    kind: TokenKind
    name: str
    user_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class IntegrationTokenCreated(IntegrationTokenRead):
    """A new token, with its secret value shown this once."""

    token: str

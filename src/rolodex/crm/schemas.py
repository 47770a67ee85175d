"""CRM schemas: the admin's integration settings, CRM answers, deliveries, client credentials."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rolodex.jobs.schemas import DeliveryStatus
from rolodex.schemas import InputModel, OutputModel

Url = Annotated[str, Field(min_length=1, max_length=2000)]


class AuthType(StrEnum):
    """How Rolodex authenticates to the CRM (requests are signed either way)."""

    SHARED_SECRET = "shared_secret"  # noqa: S105 (a name, not a secret)
    OAUTH2 = "oauth2"


class SharedSecretAuth(InputModel):
    """Requests carry only the HMAC signature made with the shared secret."""

    type: Literal["shared_secret"] = "shared_secret"


class OAuth2Auth(InputModel):
    """OAuth2 client credentials: Rolodex fetches a token at `token_url` and sends it."""

    type: Literal["oauth2"]
    token_url: Url
    client_id: Annotated[str, Field(min_length=1, max_length=400)]
    # Optional on a later PUT: the stored secret is kept when it is left out.
    client_secret: Annotated[str | None, Field(min_length=1, max_length=400)] = None
    scope: Annotated[str | None, Field(max_length=400)] = None


class CrmIntegrationUpdate(InputModel):
    """Connect a CRM, or change its settings (admins, enterprise)."""

    lookup_url: Url
    write_back_url: Url | None = None
    notification_url: Url | None = None
    auth: Annotated[SharedSecretAuth | OAuth2Auth, Field(discriminator="type")] = Field(
        default_factory=SharedSecretAuth
    )
    timeout_seconds: float = Field(default=5.0, ge=1, le=30)
    agents_can_edit_crm_managed: bool | None = None


class AuthRead(OutputModel):
    """The authentication in use; the OAuth2 client secret is never shown back."""

    type: AuthType
    token_url: str | None = None
    client_id: str | None = None
    client_secret_set: bool = False
    scope: str | None = None


class CrmIntegrationRead(OutputModel):
    """The workspace's CRM integration; `configured` false until an admin connects one."""

    configured: bool
    lookup_url: str | None = None
    write_back_url: str | None = None
    notification_url: str | None = None
    auth: AuthRead = Field(default_factory=lambda: AuthRead(type=AuthType.SHARED_SECRET))
    shared_secret: str | None = None
    timeout_seconds: float = 5.0
    agents_can_edit_crm_managed: bool = False
    updated_at: datetime | None = None


class SharedSecretRead(OutputModel):
    """The new shared secret (hex) after a rotation."""

    shared_secret: str


class AnswerAttribute(BaseModel):
    """One attribute of a CRM answer: its alias (our key) and value (null clears)."""

    model_config = ConfigDict(extra="ignore")

    attribute: Annotated[str, Field(min_length=1, max_length=200)]
    value: str | int | float | bool | None = None


class CrmAnswer(BaseModel):
    """A CRM's look-up answer, or the body of the later contact-attributes PUT (Inbox 2.0)."""

    model_config = ConfigDict(extra="ignore")

    autoConfirm: bool = False  # noqa: N815 (the contract's name)
    contactAttributes: list[AnswerAttribute] = Field(default_factory=list, max_length=500)  # noqa: N815


class Skipped(OutputModel):
    """An attribute of a CRM answer that was not applied, and why."""

    attribute: str
    reason: str


class AnswerResult(OutputModel):
    """What a CRM answer did: applied (or pending) keys, cleared keys, skipped attributes."""

    contactProfileId: str  # noqa: N815 (the contract's name)
    applied: list[str]
    pending: list[str]
    cleared: list[str]
    skipped: list[Skipped]


class LookupOutcome(StrEnum):
    """How a contact's last CRM look-up ended."""

    QUEUED = "queued"
    UPDATED = "updated"
    PENDING_CONFIRMATION = "pending_confirmation"
    WAITING_FOR_CRM = "waiting_for_crm"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    NO_LOOKUP_VALUES = "no_lookup_values"


class CrmStateRead(OutputModel):
    """A contact's CRM status, as the Contact tab shows it."""

    enabled: bool
    validated: bool = False
    last_lookup_at: datetime | None = None
    last_outcome: LookupOutcome | None = None
    last_error: str | None = None
    pending: dict[str, str | None] | None = None


class DeliveryRead(OutputModel):
    """One write-back event: its type, conversation, idempotency key, attempts and status."""

    id: str
    type: str
    conversation_id: str
    idempotency_key: str
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None


class ClientCredentialsCreate(InputModel):
    """Client credentials for the CRM to call Rolodex (POST /oauth2/token)."""

    name: Annotated[str, Field(max_length=200)] = "CRM"


class ClientCredentialsRead(OutputModel):
    """A client of the CRM integration (its secret is shown only when created)."""

    client_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None


class ClientCredentialsCreated(ClientCredentialsRead):
    """New client credentials; `client_secret` is shown this once."""

    client_secret: str


class OAuthToken(BaseModel):
    """An OAuth2 access token (RFC 6749 section 5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a name, not a secret)
    expires_in: int

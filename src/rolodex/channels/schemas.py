"""Channel and inbound message schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from rolodex.catalogue import Medium
from rolodex.conversations.schemas import FileUpload
from rolodex.i18n import N_
from rolodex.kit.emails import normalize_email
from rolodex.schemas import InputModel, Instant, Name, OutputModel

PlatformId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
# Write-only: kept encrypted, never read back (a read says `<name>_set: true`). On PATCH an
# omitted secret keeps the stored one.
Secret = Annotated[str, Field(min_length=1, max_length=4000)]
VerifyToken = Annotated[str, Field(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")]
GraphUrl = Annotated[str, Field(min_length=1, max_length=500)]


def _address(value: str) -> str:
    try:
        return normalize_email(value)
    except ValueError:
        raise ValueError(N_("Enter a valid email address, such as ana@example.com.")) from None


EmailAddress = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_address)]
ApiVersion = Annotated[str, Field(pattern=r"^v[0-9]{1,3}\.[0-9]{1,2}$")]


class _MetaConnection(InputModel):
    # What the Meta providers share: the app secret that signs webhooks, the verify token of
    # the subscription handshake (generated when omitted) and where Graph is.
    app_secret: Secret | None = None
    verify_token: VerifyToken | None = None
    graph_url: GraphUrl | None = None
    api_version: ApiVersion | None = None


class WhatsAppConnection(_MetaConnection):
    """A WhatsApp Business Cloud API number."""

    provider: Literal["whatsapp_cloud"]
    phone_number_id: PlatformId
    access_token: Secret | None = None


class MessengerConnection(_MetaConnection):
    """A Facebook Page on Messenger."""

    provider: Literal["messenger"]
    page_id: PlatformId
    page_access_token: Secret | None = None


class InstagramConnection(_MetaConnection):
    """An Instagram professional account (Messenger API for Instagram)."""

    provider: Literal["instagram"]
    account_id: PlatformId
    page_access_token: Secret | None = None


class XConnection(InputModel):
    """An X account's direct messages (Account Activity webhooks, the v2 DM API)."""

    provider: Literal["x"]
    account_user_id: PlatformId
    consumer_secret: Secret | None = None  # signs the CRC answer and every delivery
    access_token: Secret | None = None  # the account's OAuth 2.0 user token (dm.write)
    api_url: GraphUrl | None = None


class TwilioConnection(InputModel):
    """A Twilio phone number (Programmable Messaging: SMS and MMS)."""

    provider: Literal["twilio"]
    account_sid: Annotated[str, Field(pattern=r"^AC[0-9a-fA-F]{32}$")]
    auth_token: Secret | None = None  # signs every webhook; the REST API's Basic password
    from_number: Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]  # E.164
    api_url: GraphUrl | None = None


class SmtpConnection(InputModel):
    """An email address: mail to it arrives through Rolodex's SMTP listener; replies leave
    through the company's SMTP server."""

    provider: Literal["smtp"]
    address: EmailAddress
    display_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    smtp_host: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:_-]+$")]
    smtp_port: Annotated[int, Field(ge=1, le=65535)]
    smtp_username: Annotated[str, Field(min_length=1, max_length=320)] | None = None
    smtp_password: Secret | None = None
    smtp_starttls: bool = False


Origin = Annotated[
    str, Field(max_length=300, pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?$")
]
Greeting = Annotated[str, Field(max_length=300)]


class WidgetConnection(InputModel):
    """Rolodex's own web chat widget on the company's site (identity_secret is generated)."""

    provider: Literal["widget"]
    allowed_origins: Annotated[list[Origin], Field(min_length=1, max_length=20)]
    pre_chat_fields: list[Literal["first_name", "last_name", "email"]] = []
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = "#1f6feb"
    greeting: dict[Literal["en", "es"], Greeting] = {}
    # A visitor's typed email links contacts (R3.3) only when verified, unless this is on.
    link_unverified_emails: bool = False


ConnectionInput = Annotated[
    WhatsAppConnection
    | MessengerConnection
    | InstagramConnection
    | XConnection
    | TwilioConnection
    | SmtpConnection
    | WidgetConnection,
    Field(discriminator="provider"),
]


class ChannelCreate(InputModel):
    """A new channel, connected to its platform when `connection` is given."""

    medium: Medium
    name: Name
    connection: ConnectionInput | None = None


class ChannelUpdate(InputModel):
    """Rename, disable, archive, connect (`connection`) or disconnect (null); each optional."""

    name: Name | None = None
    enabled: bool | None = None
    archived: bool | None = None
    connection: ConnectionInput | None = None


class ChannelRead(OutputModel):
    """A channel; `connection` shows its non-secret fields and which secrets are set."""

    id: str
    medium: Medium
    name: str
    enabled: bool
    archived: bool
    created_at: datetime
    connection: dict[str, Any] | None = None
    # Where the platform posts (absolute, from ROLODEX_PUBLIC_URL); null when not connected.
    webhook_url: str | None = None


class ConnectionTestResult(OutputModel):
    """What the platform said when Rolodex called it with the stored credentials."""

    ok: bool
    account: str | None = None
    error: dict[str, str] | None = None


class WebhookEventRead(OutputModel):
    """A stored platform delivery and what processing it did."""

    id: str
    channel_id: str
    status: Literal["pending", "processed", "failed"]
    attempts: int
    error: str | None
    outcome: dict[str, Any] | None
    received_at: datetime
    processed_at: datetime | None
    body: str  # the raw delivery as the platform sent it (UTF-8, replaced where invalid)


class InboundSender(InputModel):
    """The platform user who wrote: their platform id and platform attributes by short name."""

    id: Annotated[str, Field(min_length=1, max_length=200)]
    attributes: Annotated[
        dict[Annotated[str, Field(max_length=100)], Any], Field(max_length=50)
    ] = {}


# A file of an inbound message: the same shape as a reply's.
InboundAttachment = FileUpload


class InboundMessage(InputModel):
    """A message received on a channel (SPEC "Channels and inbound messages")."""

    external_message_id: Annotated[str, Field(min_length=1, max_length=200)]
    sender: InboundSender
    text: Annotated[str, Field(max_length=100_000)] = ""
    attachments: Annotated[list[InboundAttachment], Field(max_length=20)] = []
    sent_at: Instant | None = None


class InboundResult(OutputModel):
    """Where an inbound message landed; `duplicate` when it had been received before."""

    message_id: str
    conversation_id: str
    contact_id: str
    duplicate: bool
    ignored_attributes: list[str] = []

"""The connector interface: what every platform module under channels/connectors/ provides.

A connector is a module-level object of a class that subclasses `Connector`. It knows one
platform's contract and nothing of the database: it verifies a webhook, turns a delivery's
raw body into `Parsed` items, and speaks the platform's send, media, profile and test calls
over an httpx client it is given. The intake (channels/intake.py) stores deliveries and
turns items into contacts, conversations and messages through the one inbound path; the
delivery job (channels/delivery.py) sends replies through `send`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import httpx

from rolodex.catalogue import Medium

Connection = dict[str, Any]  # the channel's connection, secrets decrypted


class PayloadRejected(ValueError):
    """A delivery whose body does not follow the platform's format (kept as a failed event)."""


@dataclass(frozen=True)
class Handshake:
    """The answer to a platform's verification GET."""

    status: int
    body: str
    media_type: str = "text/plain"


@dataclass(frozen=True)
class MediaRef:
    """A file a message refers to on the platform, fetched later by a job."""

    ref: str  # WhatsApp: the media id; Messenger/Instagram: the CDN URL
    content_type: str  # as announced (checked again on download)
    filename: str


@dataclass(frozen=True)
class InboundItem:
    """A message written by the contact, or by the business from the platform's own app (echo)."""

    external_id: str  # the platform's message id: idempotency key per channel
    contact_id: str  # the platform user id of the contact (the recipient of an echo)
    sent_at: datetime
    text: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)  # short names (SPEC catalogue)
    media: list[MediaRef] = field(default_factory=list)
    echo: bool = False  # written by the business outside Rolodex: an outbound message
    files: list[Media] = field(default_factory=list)  # carried in the message itself (email)
    # Threaded media (email): the platform ids of earlier messages this one answers, and its
    # subject; the intake puts it in the conversation of the thread they belong to.
    references: tuple[str, ...] = ()
    subject: str | None = None


@dataclass(frozen=True)
class StatusItem:
    """A delivery status of a message the business sent: sent, delivered, read or failed."""

    provider_message_id: str
    status: str
    at: datetime
    error_code: str | None = None
    error_title: str | None = None


@dataclass(frozen=True)
class WatermarkItem:
    """Every outbound message to the contact sent up to `watermark` is delivered or read."""

    contact_id: str
    status: str  # delivered | read
    watermark: datetime


@dataclass(frozen=True)
class ReactionItem:
    """The contact reacted to a message (emoji "" removes the reaction)."""

    contact_id: str
    target_external_id: str  # the platform id of the message reacted to
    emoji: str
    at: datetime


Item = InboundItem | StatusItem | WatermarkItem | ReactionItem


@dataclass
class Parsed:
    """What one delivery carried, and what of it was ignored (counted by reason)."""

    items: list[Item] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)

    def ignore(self, reason: str) -> None:
        """Count one part of the delivery left aside on purpose."""
        self.ignored[reason] = self.ignored.get(reason, 0) + 1


@dataclass(frozen=True)
class OutboundFile:
    """An attachment of a reply, read from Rolodex's storage."""

    filename: str
    content_type: str
    data: bytes
    url: str | None = None  # a signed public URL to it, for platforms that take files by URL


@dataclass(frozen=True)
class ReplyContext:
    """Where a reply belongs: Rolodex's id of it, and the thread it answers (email)."""

    message_id: str
    subject: str | None = None
    references: tuple[str, ...] = ()  # the thread's platform message ids, oldest first


@dataclass(frozen=True)
class Sent:
    """The platform accepted a message: its id there."""

    provider_message_id: str


class PlatformError(Exception):
    """The platform refused a call or could not be reached; `retryable`: try again later."""

    def __init__(
        self, code: str, title: str, *, retryable: bool, not_before: datetime | None = None
    ) -> None:
        super().__init__(f"{code}: {title}")
        self.code = code
        self.title = title
        self.retryable = retryable
        self.not_before = not_before  # the platform said when to try again (the job obeys)


@dataclass(frozen=True)
class Profile:
    """A contact's profile on the platform, as platform attribute values by short name."""

    attributes: dict[str, Any]


@dataclass(frozen=True)
class Media:
    """A downloaded file."""

    data: bytes
    content_type: str
    filename: str


class Connector(ABC):
    """One platform's contract. Subclasses set the class attributes and override the calls."""

    provider: ClassVar[str]
    medium: ClassVar[Medium]
    # Connection fields that are secrets: write-only, encrypted at rest, read as `<name>_set`.
    secret_fields: ClassVar[tuple[str, ...]] = ()
    # Secrets a connection may go without (an SMTP server that takes mail without a login).
    optional_secrets: ClassVar[tuple[str, ...]] = ()
    # Whether a contact's profile is fetched by a job (never on the webhook path).
    fetches_profile: ClassVar[bool] = False
    # Connection fields filled in when the admin leaves them out (the platform's public URL…).
    defaults: ClassVar[Mapping[str, Any]] = {}
    # The connection field naming the platform's base URL, checked like every outbound target.
    url_field: ClassVar[str | None] = None
    # Whether the webhook handshake checks a verify token (generated when none is given).
    verify_token: ClassVar[bool] = False
    # Readable fields Rolodex generates, kept across re-connections (the widget's identity
    # secret), by name: how to make one.
    generated: ClassVar[Mapping[str, Callable[[], str]]] = {}
    # The longest reply text the platform takes (None: no limit); longer replies get 422.
    max_text_length: ClassVar[int | None] = None
    # Whether a contact may have several conversations at once, one per thread (email).
    threaded: ClassVar[bool] = False
    # Whether deliveries come to the channel's webhook URL (email comes by SMTP instead).
    webhooks: ClassVar[bool] = True

    def handshake(self, connection: Connection, query: dict[str, str]) -> Handshake:
        """Answer the platform's verification GET on the webhook URL."""
        return Handshake(405, "")

    @abstractmethod
    def verify(
        self, connection: Connection, url: str, headers: dict[str, str], body: bytes
    ) -> bool:
        """Whether a delivery is signed by the platform (headers by lower-case name)."""
        ...

    def acknowledgement(self) -> Handshake:
        """The body the platform expects when a delivery is accepted."""
        return Handshake(200, "EVENT_RECEIVED")

    @abstractmethod
    def parse(self, connection: Connection, body: bytes, content_type: str) -> Parsed:
        """The items of one stored delivery; PayloadRejected when it is not the platform's."""
        ...

    @abstractmethod
    async def send(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        recipient: str,
        text: str,
        files: list[OutboundFile],
        reply: ReplyContext | None = None,
    ) -> Sent:
        """Send a reply to the contact `recipient` (platform user id); PlatformError otherwise."""
        ...

    @abstractmethod
    async def test(self, http: httpx.AsyncClient, connection: Connection) -> str:
        """Prove the credentials work with one harmless call; returns what the platform named."""
        ...

    async def fetch_profile(
        self, http: httpx.AsyncClient, connection: Connection, contact_id: str
    ) -> Profile:
        """The contact's profile (only for connectors with `fetches_profile`)."""
        raise PlatformError("unsupported", "this platform has no profile look-up", retryable=False)

    @abstractmethod
    async def download(
        self, http: httpx.AsyncClient, connection: Connection, media: MediaRef, max_bytes: int
    ) -> Media:
        """Fetch a file a message referred to, at most `max_bytes` (PlatformError otherwise)."""
        ...

"""The visitor side of a web chat channel: sessions, messages, identity verification.

A visitor is a contact of the channel. Anonymous, they are known by their session alone
(platform user id `visitor-…`, one per session). A company that knows its signed-in customer
passes `identifier` with `identifier_hash` = hex HMAC-SHA256(identity_secret, identifier):
verified, the identifier is the contact's platform user id (and `webchat-user-id`), so every
device of that customer is one contact with one history. A visitor's typed email is kept but
is not used for linking contacts (R3.3) unless the session is verified or the channel allows
it: a stranger typing someone's address must never join that person's history.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import files
from rolodex.attributes import service as attributes
from rolodex.auth import principals
from rolodex.auth.principals import Principal, Role
from rolodex.catalogue import Medium
from rolodex.channels import service as channels
from rolodex.config import Settings
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import MessageRead
from rolodex.errors import InvalidInput, NotFound, Unauthorized
from rolodex.i18n import _
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.kit.secrets import new_token, same, token_hash
from rolodex.models import Channel, WebchatSession
from rolodex.webchat import repository
from rolodex.webchat.schemas import (
    ATTACHMENT_TYPES,
    MAX_TEXT_LENGTH,
    SessionCreate,
    SessionCreated,
    SessionRead,
    SessionUpdate,
    VisitorAttachment,
    VisitorAuthor,
    VisitorMessage,
    VisitorMessageCreate,
    WidgetConfig,
)

PROVIDER = "widget"
HISTORY_LIMIT = 200


async def channel(session: AsyncSession, channel_id: str) -> Channel:
    """The live web chat channel; 404 for anything else."""
    return await channels.public_channel(session, channel_id, PROVIDER)


def allowed_origins(found: Channel, settings: Settings) -> set[str]:
    """Origins whose pages may call the visitor API: the channel's, and Rolodex's own (the
    channel page's preview)."""
    own = urlsplit(settings.public_url)
    return {*(found.connection or {}).get("allowed_origins", []), f"{own.scheme}://{own.netloc}"}


def config(found: Channel, settings: Settings) -> WidgetConfig:
    """What the widget needs to draw itself."""
    connection = found.connection or {}
    greeting = connection.get("greeting") or {}
    return WidgetConfig(
        channel_id=found.id,
        name=found.name,
        color=connection.get("color", "#1f6feb"),
        greeting={"en": greeting.get("en", ""), "es": greeting.get("es", "")},
        pre_chat_fields=list(connection.get("pre_chat_fields", [])),
        max_text_length=MAX_TEXT_LENGTH,
        max_attachment_bytes=settings.webchat_max_attachment_bytes,
        attachment_types=list(ATTACHMENT_TYPES),
    )


def identifier_hash(secret: str, identifier: str) -> str:
    """What the company's site computes: hex HMAC-SHA256(identity_secret, identifier)."""
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def _verified(found: Channel, data: SessionCreate) -> bool:
    if data.identifier is None and data.identifier_hash is None:
        return False
    if data.identifier is None:
        raise InvalidInput.for_field("identifier", _("Send the identifier that was signed."))
    if data.identifier_hash is None:
        raise InvalidInput.for_field(
            "identifier_hash", _("Send identifier_hash, the identifier signed by your site.")
        )
    secret = str((found.connection or {}).get("identity_secret", ""))
    if not secret or not same(identifier_hash(secret, data.identifier), data.identifier_hash):
        raise Unauthorized(
            _("The identifier's signature does not match this channel's identity secret."),
            code="bad_identifier_hash",
        )
    return True


async def _write_visitor(
    session: AsyncSession,
    found: Channel,
    visitor_id: str,
    details: SessionCreate | SessionUpdate,
    *,
    verified: bool,
) -> str:
    # The visitor's webchat values, written as the platform's (provenance: this channel).
    sent: dict[str, object] = {
        name.replace("_", "-"): value
        for name, value in details.model_dump(
            exclude_none=True,
            include={
                "first_name",
                "last_name",
                "email",
                "page_url",
                "page_title",
                "browser_language",
            },
        ).items()
        if value != ""
    }
    if details.page_url:
        domain = urlsplit(details.page_url).hostname
        if domain:
            sent["page-domain"] = domain
    if verified:
        sent["user-id"] = visitor_id
    region = await channels.channel_region(session, found)
    values, _ignored = attributes.check_sender_attributes(Medium.WEBCHAT, sent, region)
    links = verified or bool((found.connection or {}).get("link_unverified_emails"))
    if "email" in values and not links:
        # Kept and shown, but with no matching form: linking never uses it (R3.3).
        values["email"] = dataclasses.replace(values["email"], normalized="")
    target = channels.Target(found.workspace_id, found.id, Medium.WEBCHAT, region)
    return await channels.refresh_values(
        session, target, visitor_id, values, utcnow(), actor=("visitor", None)
    )


async def start(session: AsyncSession, found: Channel, data: SessionCreate) -> SessionCreated:
    """A new visitor session (verified when the identifier's signature holds; 401 if not)."""
    verified = _verified(found, data)
    visitor_id = data.identifier if verified and data.identifier else _anonymous_id()
    contact_id = await _write_visitor(session, found, visitor_id, data, verified=verified)
    token = new_token("wcs")
    now = utcnow()
    await repository.add(
        session,
        WebchatSession(
            id=new_id("wcs"),
            workspace_id=found.workspace_id,
            channel_id=found.id,
            contact_id=contact_id,
            token_hash=token_hash(token),
            visitor_id=visitor_id,
            verified=verified,
            created_at=now,
            last_seen_at=now,
        ),
    )
    conversation_id = await conversations.open_conversation_id(
        session, found.workspace_id, found.id, contact_id
    )
    return SessionCreated(
        session_token=token,
        contact_id=contact_id,
        conversation_id=conversation_id,
        verified=verified,
    )


def _anonymous_id() -> str:
    return f"visitor-{secrets.token_hex(12)}"


async def visitor(session: AsyncSession, found: Channel, token: str | None) -> WebchatSession:
    """The session a token names on this channel; 401 for a missing or unknown one."""
    row = await repository.by_token_hash(session, found.id, token_hash(token)) if token else None
    if row is None:
        raise Unauthorized(
            _("This chat session has ended. Start a new one."), code="bad_session_token"
        )
    return row


async def read(session: AsyncSession, row: WebchatSession) -> SessionRead:
    """The session's contact and open conversation."""
    conversation_id = await conversations.open_conversation_id(
        session, row.workspace_id, row.channel_id, row.contact_id
    )
    return SessionRead(
        contact_id=row.contact_id, conversation_id=conversation_id, verified=row.verified
    )


async def update(
    session: AsyncSession, found: Channel, row: WebchatSession, data: SessionUpdate
) -> SessionRead:
    """Refresh the visitor's details (a new page, the pre-chat form)."""
    await _write_visitor(session, found, row.visitor_id, data, verified=row.verified)
    await repository.touch(session, row.id, utcnow())
    return await read(session, row)


def _reader(workspace_id: str) -> Principal:
    # Messages are read as an agent would (hidden attributes never show), then cut down to
    # what a visitor may see.
    return principals.reader(workspace_id, "", Role.AGENT, "webchat")


def _visitor_message(message: MessageRead, settings: Settings) -> VisitorMessage:
    return VisitorMessage(
        id=message.id,
        direction=message.direction,
        text=message.text,
        author=VisitorAuthor(kind=message.author.kind.value, name=message.author.name),
        created_at=message.created_at,
        attachments=[
            VisitorAttachment(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                url=channels.file_link(settings, a.id) if a.status == "stored" else None,
            )
            for a in message.attachments
        ],
    )


async def history(
    session: AsyncSession,
    row: WebchatSession,
    settings: Settings,
    conversation_id: str | None = None,
) -> list[VisitorMessage]:
    """The visitor's last messages on this channel (or in one of their conversations: 404 for
    anyone else's), oldest first."""
    found = await conversations.contact_channel_messages(
        session,
        _reader(row.workspace_id),
        row.channel_id,
        row.contact_id,
        HISTORY_LIMIT,
        conversation_id,
    )
    return [_visitor_message(m, settings) for m in found]


async def message(
    session: AsyncSession, row: WebchatSession, message_id: str, settings: Settings
) -> VisitorMessage | None:
    """One message of the visitor's own conversations (None: not theirs)."""
    found = await conversations.contact_message(
        session, _reader(row.workspace_id), row.contact_id, message_id
    )
    return _visitor_message(found, settings) if found is not None else None


async def send(
    session: AsyncSession,
    found: Channel,
    row: WebchatSession,
    data: VisitorMessageCreate,
    settings: Settings,
) -> VisitorMessage:
    """Store the visitor's message (with its files) through the one inbound path."""
    if not data.text.strip() and not data.attachments:
        raise InvalidInput.for_field("text", _("Write a message or attach a file."))
    for index, upload in enumerate(data.attachments):
        if upload.content_type.split(";")[0].strip().lower() not in ATTACHMENT_TYPES:
            raise InvalidInput.for_field(
                f"attachments.{index}.content_type",
                _("Attach a picture (PNG, JPEG, GIF, WebP) or a PDF."),
            )
    decoded = files.decode_all(data.attachments, settings.webchat_max_attachment_bytes)
    region = await channels.channel_region(session, found)
    target = channels.Target(found.workspace_id, found.id, Medium.WEBCHAT, region)
    # Scoped by contact: one visitor's ids can never collide with (or replay) another's.
    key = data.client_message_id or new_id("wcm")
    external_id = f"{row.contact_id}:{key}"
    try:
        stored = await channels.store(
            session,
            target,
            ("visitor", None),
            sender_id=row.visitor_id,
            values={},
            external_id=external_id,
            text=data.text,
            sent_at=None,
        )
    except channels.Replay:
        await session.rollback()
        again = await conversations.find_received(
            session, found.workspace_id, found.id, external_id
        )
        if again is None:
            raise NotFound(_("Message not found.")) from None
        return await _must(session, row, again[0], settings)
    if decoded:
        await conversations.attach_files(
            session, found.workspace_id, stored.message_id, decoded, settings.data_dir
        )
    await repository.touch(session, row.id, utcnow())
    return await _must(session, row, stored.message_id, settings)


async def _must(
    session: AsyncSession, row: WebchatSession, message_id: str, settings: Settings
) -> VisitorMessage:
    found = await message(session, row, message_id, settings)
    if found is None:
        raise NotFound(_("Message not found."))
    return found

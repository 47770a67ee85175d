"""WhatsApp Business Cloud API: one business phone number (Graph API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from rolodex.catalogue import Medium
from rolodex.channels.connectors import meta
from rolodex.channels.connectors.base import (
    Connection,
    Connector,
    Handshake,
    InboundItem,
    Media,
    MediaRef,
    OutboundFile,
    Parsed,
    PayloadRejected,
    PlatformError,
    ReactionItem,
    ReplyContext,
    Sent,
    StatusItem,
)

MEDIA_TYPES = ("image", "video", "audio", "sticker", "document")
STATUSES = ("sent", "delivered", "read", "failed")
# Extensions for files WhatsApp names by id only (what its media can be).
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
}


def extension(content_type: str) -> str:
    """A file extension for a MIME type ("bin" when unknown)."""
    return _EXTENSIONS.get(content_type.split(";", 1)[0].strip().lower(), "bin")


def message_type(content_type: str) -> str:
    """The WhatsApp message type a file is sent as (images only as JPEG or PNG)."""
    main = content_type.split(";", 1)[0].strip().lower()
    if main in ("image/jpeg", "image/png"):
        return "image"
    if main.startswith("video/"):
        return "video"
    if main.startswith("audio/"):
        return "audio"
    return "document"


class WhatsAppCloud(Connector):
    """A WhatsApp business number: wa_ids (phone digits) are the contacts' ids."""

    provider = "whatsapp_cloud"
    medium = Medium.WHATSAPP
    secret_fields = ("access_token", "app_secret")
    defaults = meta.GRAPH_DEFAULTS
    url_field = "graph_url"
    verify_token = True

    # Webhooks

    def handshake(self, connection: Connection, query: dict[str, str]) -> Handshake:
        """Meta's hub.* verification."""
        return meta.hub_handshake(connection, query)

    def verify(
        self, connection: Connection, url: str, headers: dict[str, str], body: bytes
    ) -> bool:
        """X-Hub-Signature-256 with the app secret."""
        return meta.signature_valid(connection.get("app_secret"), headers, body)

    def parse(self, connection: Connection, body: bytes, content_type: str) -> Parsed:
        """Messages and statuses of every `messages` change for this phone number."""
        parsed = Parsed()
        number = connection.get("phone_number_id")
        for n, entry in enumerate(meta.load(body, "whatsapp_business_account")):
            changes = entry.get("changes")
            if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
                raise PayloadRejected(f"entry[{n}].changes must be a list of objects")
            for m, change in enumerate(changes):
                self._change(parsed, change, number, f"entry[{n}].changes[{m}]")
        return parsed

    def _change(self, parsed: Parsed, change: dict[str, Any], number: object, where: str) -> None:
        field = change.get("field")
        if field != "messages":
            parsed.ignore(f"field:{field}")
            return
        value = meta.obj(change, "value", where)
        where = f"{where}.value"
        metadata = meta.obj(value, "metadata", where)
        if meta.text_field(metadata, "phone_number_id", f"{where}.metadata") != number:
            # The same app's other numbers post here too; only this channel's count.
            parsed.ignore("other_phone_number")
            return
        names: dict[str, str] = {}
        for contact in meta.object_list(value, "contacts", where):
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            if isinstance(contact.get("wa_id"), str) and isinstance(name, str) and name.strip():
                names[contact["wa_id"]] = name.strip()
        for k, message in enumerate(meta.object_list(value, "messages", where)):
            self._message(parsed, message, names, f"{where}.messages[{k}]")
        for k, status in enumerate(meta.object_list(value, "statuses", where)):
            self._status(parsed, status, f"{where}.statuses[{k}]")
        if value.get("errors"):
            parsed.ignore("errors")

    def _message(
        self, parsed: Parsed, message: dict[str, Any], names: dict[str, str], where: str
    ) -> None:
        external_id = meta.text_field(message, "id", where)
        sender = meta.text_field(message, "from", where)
        at = meta.seconds(message.get("timestamp"), f"{where}.timestamp")
        kind = meta.text_field(message, "type", where)
        if kind == "reaction":
            reaction = meta.obj(message, "reaction", where)
            target = meta.text_field(reaction, "message_id", f"{where}.reaction")
            emoji = meta.optional_text(reaction, "emoji", f"{where}.reaction")
            parsed.items.append(ReactionItem(sender, target, emoji, at))
            return
        text, media = self._content(message, kind, where)
        if text is None:
            parsed.ignore(f"message_type:{kind}")
            return
        attributes = {"phone": f"+{sender}"}
        if sender in names:
            attributes["profile-name"] = names[sender]
        parsed.items.append(
            InboundItem(external_id, sender, at, text=text, attributes=attributes, media=media)
        )

    def _content(
        self, message: dict[str, Any], kind: str, where: str
    ) -> tuple[str | None, list[MediaRef]]:
        """The text and files of a message; text None for a type that is not handled."""
        if kind == "text":
            return meta.text_field(meta.obj(message, "text", where), "body", f"{where}.text"), []
        if kind in MEDIA_TYPES:
            part = meta.obj(message, kind, where)
            media_id = meta.text_field(part, "id", f"{where}.{kind}")
            content_type = (
                meta.optional_text(part, "mime_type", f"{where}.{kind}")
                or "application/octet-stream"
            )
            filename = meta.optional_text(part, "filename", f"{where}.{kind}")
            if not filename:
                filename = f"{kind}-{media_id}.{extension(content_type)}"
            caption = meta.optional_text(part, "caption", f"{where}.{kind}")
            return caption, [MediaRef(media_id, content_type, filename)]
        if kind == "location":
            return _location(meta.obj(message, "location", where), f"{where}.location"), []
        if kind == "contacts":
            shared = meta.object_list(message, "contacts", where)
            if not shared:
                raise PayloadRejected(f"{where}.contacts must not be empty")
            return "\n".join(_contact_line(c) for c in shared), []
        if kind == "interactive":
            interactive = meta.obj(message, "interactive", where)
            reply_type = meta.optional_text(interactive, "type", f"{where}.interactive")
            if reply_type not in ("button_reply", "list_reply"):
                return None, []
            reply = meta.obj(interactive, reply_type, f"{where}.interactive")
            return meta.text_field(reply, "title", f"{where}.interactive.{reply_type}"), []
        if kind == "button":
            button = meta.obj(message, "button", where)
            return meta.text_field(button, "text", f"{where}.button"), []
        return None, []

    def _status(self, parsed: Parsed, status: dict[str, Any], where: str) -> None:
        provider_id = meta.text_field(status, "id", where)
        value = meta.text_field(status, "status", where)
        at: datetime = meta.seconds(status.get("timestamp"), f"{where}.timestamp")
        if value not in STATUSES:
            parsed.ignore(f"status:{value}")
            return
        code = title = None
        errors = meta.object_list(status, "errors", where)
        if errors:
            error = errors[0]
            if isinstance(error.get("code"), int | str) and not isinstance(error["code"], bool):
                code = str(error["code"])
            title = (
                meta.optional_text(error, "title", f"{where}.errors[0]")
                or meta.optional_text(error, "message", f"{where}.errors[0]")
                or None
            )
        parsed.items.append(StatusItem(provider_id, value, at, code, title))

    # Graph calls

    async def send(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        recipient: str,
        text: str,
        files: list[OutboundFile],
        reply: ReplyContext | None = None,
    ) -> Sent:
        """One message per file (the text as the first caption it fits), then the text if left."""
        if not text and not files:
            raise PlatformError("empty", "nothing to send", retryable=False)
        token = meta.required(connection, "access_token")
        number = meta.required(connection, "phone_number_id")
        last = ""
        for file in files:
            kind = message_type(file.content_type)
            uploaded = await meta.graph_post(
                http,
                meta.graph_url(connection, number, "media"),
                token,
                data={"messaging_product": "whatsapp", "type": file.content_type},
                files={"file": (file.filename, file.data, file.content_type)},
            )
            media_id = uploaded.get("id")
            if not isinstance(media_id, str) or not media_id:
                raise PlatformError("bad_response", "the upload has no media id", retryable=False)
            part: dict[str, Any] = {"id": media_id}
            if text and kind != "audio":
                part["caption"] = text
                text = ""
            if kind == "document":
                part["filename"] = file.filename
            last = await self._post(http, connection, token, number, recipient, kind, part)
        if text:
            part = {"preview_url": False, "body": text}
            last = await self._post(http, connection, token, number, recipient, "text", part)
        return Sent(last)

    async def _post(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        token: str,
        number: str,
        recipient: str,
        kind: str,
        part: dict[str, Any],
    ) -> str:
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": recipient,
            "type": kind,
            kind: part,
        }
        answer = await meta.graph_post(
            http, meta.graph_url(connection, number, "messages"), token, json_body=body
        )
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str) or not wamid:
            raise PlatformError("bad_response", "the answer has no message id", retryable=False)
        return wamid

    async def test(self, http: httpx.AsyncClient, connection: Connection) -> str:
        """The number's verified name and display number: "Acme (+1 555-0100)"."""
        number = meta.required(connection, "phone_number_id")
        phone = await meta.graph_get(
            http,
            meta.graph_url(connection, number),
            meta.required(connection, "access_token"),
            fields="display_phone_number,verified_name",
        )
        name, display = phone.get("verified_name"), phone.get("display_phone_number")
        name = name if isinstance(name, str) else ""
        display = display if isinstance(display, str) else ""
        if name and display:
            return f"{name} ({display})"
        return name or display or number

    async def download(
        self, http: httpx.AsyncClient, connection: Connection, media: MediaRef, max_bytes: int
    ) -> Media:
        """The media's URL from Graph, then its bytes (Bearer on both)."""
        token = meta.required(connection, "access_token")
        info = await meta.graph_get(http, meta.graph_url(connection, media.ref), token)
        url = info.get("url")
        if not isinstance(url, str) or not url:
            raise PlatformError("bad_response", "the media has no url", retryable=False)
        size = info.get("file_size")
        if isinstance(size, int) and not isinstance(size, bool) and size > max_bytes:
            raise meta.too_large(max_bytes)
        announced = info.get("mime_type")
        return await meta.download(
            http,
            url,
            headers=meta.bearer(token),
            max_bytes=max_bytes,
            announced=announced if isinstance(announced, str) and announced else media.content_type,
            filename=media.filename,
        )


def _location(location: dict[str, Any], where: str) -> str:
    latitude = meta.number(location.get("latitude"), f"{where}.latitude")
    longitude = meta.number(location.get("longitude"), f"{where}.longitude")
    parts = (meta.optional_text(location, key, where).strip() for key in ("name", "address"))
    return meta.location_text(latitude, longitude, ", ".join(p for p in parts if p))


def _contact_line(contact: dict[str, Any]) -> str:
    name = contact.get("name")
    label = ""
    if isinstance(name, dict):
        formatted = name.get("formatted_name")
        given = [name.get(k) for k in ("first_name", "last_name")]
        label = (
            formatted
            if isinstance(formatted, str) and formatted.strip()
            else " ".join(p for p in given if isinstance(p, str) and p)
        ).strip()
    phones = [
        p.get("phone") or (f"+{p['wa_id']}" if isinstance(p.get("wa_id"), str) else None)
        for p in contact.get("phones") or []
        if isinstance(p, dict)
    ]
    emails = [e.get("email") for e in contact.get("emails") or [] if isinstance(e, dict)]
    reach = ", ".join(v for v in (*phones, *emails) if isinstance(v, str) and v)
    label = label or "?"
    return f"👤 {label}: {reach}" if reach else f"👤 {label}"


connector = WhatsAppCloud()

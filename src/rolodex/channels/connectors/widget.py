"""Web chat (provider `widget`): Rolodex's own widget; visitors use the public visitor API.

No platform stands between Rolodex and the visitor: messages arrive through
/public/v1/webchat (the webchat package), and a reply is "sent" once stored, since the visitor
reads it from Rolodex itself (its stream shows it at once).
"""

from __future__ import annotations

import secrets

import httpx

from rolodex.catalogue import Medium
from rolodex.channels.connectors.base import (
    Connection,
    Connector,
    Media,
    MediaRef,
    OutboundFile,
    Parsed,
    PlatformError,
    ReplyContext,
    Sent,
)


def new_identity_secret() -> str:
    """A fresh identity secret: the key the company's site signs identifiers with (hex)."""
    return secrets.token_hex(32)


class Widget(Connector):
    """The web chat widget: contacts are visitors (a verified identifier, or their session)."""

    provider = "widget"
    medium = Medium.WEBCHAT
    webhooks = False
    generated = {"identity_secret": new_identity_secret}
    defaults = {"pre_chat_fields": [], "color": "#1f6feb", "greeting": {}}

    def verify(
        self, connection: Connection, url: str, headers: dict[str, str], body: bytes
    ) -> bool:
        """Visitors post to the public visitor API, never to the webhook URL."""
        return False

    def parse(self, connection: Connection, body: bytes, content_type: str) -> Parsed:
        """Nothing arrives by webhook."""
        return Parsed()

    async def send(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        recipient: str,
        text: str,
        files: list[OutboundFile],
        reply: ReplyContext | None = None,
    ) -> Sent:
        """Stored is sent: the visitor reads the reply from Rolodex (its stream has it already)."""
        return Sent(reply.message_id if reply is not None else "")

    async def test(self, http: httpx.AsyncClient, connection: Connection) -> str:
        """Nothing to call: the widget is Rolodex's own."""
        return "Rolodex web chat"

    async def download(
        self, http: httpx.AsyncClient, connection: Connection, media: MediaRef, max_bytes: int
    ) -> Media:
        """Visitors upload their files with the message: nothing is fetched."""
        raise PlatformError("unsupported", "visitors upload their files", retryable=False)


connector = Widget()

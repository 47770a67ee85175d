"""The built-in SMTP listener: mail to a connected email channel's address is its delivery.

`rolodex serve` runs it when ROLODEX_SMTP_PORT is set, in the server's own event loop. It is
not a relay: RCPT TO an address no live email channel has is refused with 550, and a mail
over ROLODEX_SMTP_MAX_BYTES with 552 (aiosmtpd's data limit). An accepted mail is stored
like a webhook body (intake.store_delivery) before 250 is answered, then processed by the
worker; a storage failure answers 451, so the sending server tries again later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.smtp import SMTP, Envelope, Session

from rolodex.channels import intake, repository
from rolodex.config import Settings
from rolodex.db import Database

log = logging.getLogger(__name__)

PROVIDER = "smtp"
MAIL_CONTENT_TYPE = "message/rfc822"
_ADDRESSES_SECONDS = 5.0  # a channel connected or changed receives mail within this long


class _Handler:
    """aiosmtpd's hooks: RCPT checks the address, DATA stores the mail for each channel."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.addresses: dict[str, list[tuple[str, str]]] = {}
        self.loaded_at = float("-inf")

    async def _channels(self, address: str) -> list[tuple[str, str]]:
        if time.monotonic() - self.loaded_at > _ADDRESSES_SECONDS:
            async with self.db.reader() as session:
                found = await repository.connected_with(session, PROVIDER)
            addresses: dict[str, list[tuple[str, str]]] = {}
            for channel in found:
                if channel.enabled and channel.connection:
                    key = str(channel.connection.get("address", "")).lower()
                    addresses.setdefault(key, []).append((channel.workspace_id, channel.id))
            self.addresses, self.loaded_at = addresses, time.monotonic()
        return self.addresses.get(address.lower(), [])

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """250 for a connected channel's address; 550 for anything else (never a relay)."""
        try:
            known = await self._channels(address)
        except Exception:
            log.exception("looking up the channels of %s failed", address)
            return "451 4.3.0 Temporary failure, try again later"
        if not known:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Store the mail once per channel it is for, then answer 250."""
        content = envelope.original_content or b""
        # As a final-delivery MTA does (RFC 5321 4.4): the envelope sender, so that a bounce
        # (null sender) is recognised however its headers look.
        sender = (envelope.mail_from or "").strip().strip("<>")
        body = f"Return-Path: <{sender}>\r\n".encode() + content
        targets = {target for rcpt in envelope.rcpt_tos for target in await self._channels(rcpt)}
        try:
            for workspace_id, channel_id in sorted(targets):
                await intake.store_delivery(
                    self.db, workspace_id, channel_id, MAIL_CONTENT_TYPE, body
                )
        except Exception:
            log.exception("storing a mail failed")
            return "451 4.3.0 Temporary failure, try again later"
        return "250 2.0.0 OK: queued"


async def start(db: Database, settings: Settings) -> asyncio.Server:
    """Listen for SMTP on ROLODEX_SMTP_HOST:ROLODEX_SMTP_PORT in the running loop."""
    handler = _Handler(db)
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(
            handler,
            data_size_limit=settings.smtp_max_bytes,
            hostname=_hostname(settings),
            ident="Rolodex ESMTP",
            decode_data=False,
            # No STARTTLS here: put a TLS-terminating relay (the company's MX) in front.
            auth_require_tls=False,
        )

    # reuse_port: every `serve --workers N` process listens on the one port.
    return await loop.create_server(
        protocol, settings.smtp_host, settings.smtp_port, reuse_port=True
    )


def _hostname(settings: Settings) -> str:
    return urlsplit(settings.public_url).hostname or "localhost"

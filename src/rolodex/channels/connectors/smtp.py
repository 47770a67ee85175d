"""Email (provider `smtp`): mail in through Rolodex's SMTP listener, replies out by SMTP.

The listener (channels/smtp_listener.py) stores each accepted mail as the channel's delivery,
exactly as a webhook body is stored; `parse` reads it with the standard library's `email`
package. A mail is threaded by the Message-IDs it names (In-Reply-To, References); the intake
looks those up among the channel's messages. Replies leave through the company's SMTP server
with a Message-ID of Rolodex's own, so the customer's answer to them finds its thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, parsedate_to_datetime
from html.parser import HTMLParser

import aiosmtplib
import httpx

from rolodex.catalogue import Medium
from rolodex.channels.connectors.base import (
    Connection,
    Connector,
    InboundItem,
    Media,
    MediaRef,
    OutboundFile,
    Parsed,
    PayloadRejected,
    PlatformError,
    ReplyContext,
    Sent,
)

MAX_REFERENCES = 20  # the thread's ids a reply names (mail clients keep a similar tail)
INVENTED = "@rolodex.invalid>"  # the domain of the ids given to mail that came without one
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# The line a mail client writes above the quoted history: English, Spanish, Outlook.
_QUOTE_HEADER = re.compile(
    r"^\s*(On\s.+\swrote:|El\s.+\sescribió:|-{2,}\s*(Original Message|Mensaje original)\s*-{2,}"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
_SKIPPED_HTML = {"script", "style", "head", "title", "blockquote"}
_BLOCK_HTML = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul"}


class Smtp(Connector):
    """An email address: contacts are addresses; threads follow Message-ID references."""

    provider = "smtp"
    medium = Medium.EMAIL
    secret_fields = ("smtp_password",)
    optional_secrets = ("smtp_password",)
    threaded = True
    webhooks = False

    def verify(
        self, connection: Connection, url: str, headers: dict[str, str], body: bytes
    ) -> bool:
        """Mail arrives by SMTP, never on the webhook URL."""
        return False

    def parse(self, connection: Connection, body: bytes, content_type: str) -> Parsed:
        """One received mail: a message, or nothing when it is automatic (never a loop)."""
        parsed = Parsed()
        mail = BytesParser(policy=policy.default).parsebytes(body)
        skipped = _automatic(mail)
        if skipped:
            parsed.ignore(skipped)
            return parsed
        sender = _sender(mail)
        if sender is None:
            raise PayloadRejected("the mail has no From address")
        if sender.addr_spec.lower() == str(connection.get("address", "")).lower():
            parsed.ignore("own_address")  # our own mail coming back: answering it would loop
            return parsed
        message_id = _ids(str(mail.get("Message-ID", "")))
        references = _ids(str(mail.get("References", ""))) + _ids(str(mail.get("In-Reply-To", "")))
        attributes = {"address": sender.addr_spec.lower()}
        if sender.display_name:
            attributes["name"] = sender.display_name[:200]
        parsed.items.append(
            InboundItem(
                # A mail without a Message-ID still gets a stable id: a re-delivery is a replay.
                external_id=message_id[0]
                if message_id
                else f"<{hashlib.sha256(body).hexdigest()[:40]}{INVENTED}",
                contact_id=sender.addr_spec.lower(),
                sent_at=_date(mail),
                text=_text(mail),
                attributes=attributes,
                files=_attachments(mail),
                references=tuple(dict.fromkeys(references)),
                subject=str(mail.get("Subject", "")).strip()[:300] or None,
            )
        )
        return parsed

    async def send(
        self,
        http: httpx.AsyncClient,
        connection: Connection,
        recipient: str,
        text: str,
        files: list[OutboundFile],
        reply: ReplyContext | None = None,
    ) -> Sent:
        """Send a reply by the channel's SMTP server, threaded under the mail it answers."""
        mail = compose(connection, recipient, text, files, reply)
        async with _session(http, connection) as client:
            await client.send_message(mail)
        return Sent(str(mail["Message-ID"]))

    async def test(self, http: httpx.AsyncClient, connection: Connection) -> str:
        """Connect to the SMTP server (STARTTLS and login when set) and leave."""
        async with _session(http, connection) as client:
            await client.noop()
        return f"{connection['address']} via {connection['smtp_host']}:{connection['smtp_port']}"

    async def download(
        self, http: httpx.AsyncClient, connection: Connection, media: MediaRef, max_bytes: int
    ) -> Media:
        """Mail carries its files: nothing is ever fetched."""
        raise PlatformError("unsupported", "mail carries its files", retryable=False)


def compose(
    connection: Connection,
    recipient: str,
    text: str,
    files: list[OutboundFile],
    reply: ReplyContext | None,
) -> EmailMessage:
    """The reply as a mail: From the channel, Re: the thread's subject, its ids referenced."""
    address = str(connection["address"])
    domain = address.rpartition("@")[2]
    mail = EmailMessage()
    mail["From"] = formataddr((str(connection.get("display_name") or ""), address))
    mail["To"] = recipient
    if reply is not None and reply.subject:
        subject = reply.subject
        mail["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    mail["Date"] = format_datetime(datetime.now(UTC))
    # Rolodex's own id: the customer's answer names it, and the intake finds the thread.
    local = reply.message_id if reply is not None else hashlib.sha256(text.encode()).hexdigest()
    mail["Message-ID"] = f"<{local}@rolodex.{domain}>"
    # Ids Rolodex made up for mail that had none were never the customer's: not named.
    known = [r for r in (reply.references if reply else ()) if not r.endswith(INVENTED)]
    references = known[-MAX_REFERENCES:]
    if references:
        mail["In-Reply-To"] = references[-1]
        mail["References"] = " ".join(references)
    mail.set_content(text or "")
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        mail.add_attachment(
            file.data,
            maintype=maintype or "application",
            subtype=subtype.split(";")[0] or "octet-stream",
            filename=file.filename,
        )
    return mail


@contextlib.asynccontextmanager
async def _session(
    http: httpx.AsyncClient, connection: Connection
) -> AsyncIterator[aiosmtplib.SMTP]:
    # Connected (STARTTLS and login when set); every failure as the PlatformError it means.
    try:
        async with _client(http, connection) as client:
            yield client
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = exc.recipients[0]
        raise _refusal(refused.code, refused.message) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise _refusal(exc.code, exc.message) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise PlatformError("unreachable", str(exc) or type(exc).__name__, retryable=True) from exc


def _client(http: httpx.AsyncClient, connection: Connection) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=str(connection["smtp_host"]),
        port=int(connection["smtp_port"]),
        username=connection.get("smtp_username") or None,
        password=connection.get("smtp_password") or None,
        start_tls=bool(connection.get("smtp_starttls")),
        use_tls=False,
        # The platform calls' timeout (ROLODEX_PLATFORM_TIMEOUT_SECONDS) holds here too.
        timeout=http.timeout.read or 15.0,
    )


def _refusal(code: int, message: str) -> PlatformError:
    # 5xx is the server's final word (unknown mailbox, too large, refused); 4xx and anything
    # else is temporary and retried.
    return PlatformError(str(code), message.strip()[:500] or str(code), retryable=code < 500)


def _automatic(mail: EmailMessage) -> str | None:
    # RFC 3834 auto-replies, RFC 3464 delivery reports, bulk and list mail, and bounces (a
    # null Return-Path, which the listener records as MTAs do on final delivery).
    if str(mail.get("Return-Path", "")).strip() == "<>":
        return "bounce"
    auto = str(mail.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return "auto_reply"
    if "X-Autoreply" in mail or "X-Autorespond" in mail:
        return "auto_reply"
    if str(mail.get("Precedence", "")).strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return "bulk"
    if "List-Id" in mail or "List-Unsubscribe" in mail:
        return "list"
    if mail.get_content_type() == "multipart/report":
        return "delivery_report"
    sender = _sender(mail)
    if sender is not None and sender.username.lower() in ("mailer-daemon", "postmaster"):
        return "bounce"
    return None


def _sender(mail: EmailMessage) -> Address | None:
    try:
        addresses: tuple[Address, ...] = mail["From"].addresses if mail["From"] else ()
    except (AttributeError, IndexError, ValueError):
        return None
    for address in addresses:
        if address.username and address.domain:
            return address
    return None


def _ids(header: str) -> list[str]:
    return _MESSAGE_ID.findall(header)[: MAX_REFERENCES * 2]


def _date(mail: EmailMessage) -> datetime:
    try:
        sent = parsedate_to_datetime(str(mail["Date"]))
    except (TypeError, ValueError, IndexError):
        return datetime.now(UTC)
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = str(body.get_content())
    except (LookupError, ValueError):  # an unknown charset: the bytes as best we can
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if body.get_content_type() == "text/html":
        content = html_to_text(content)
    return trim_quoted(content.replace("\r\n", "\n")).strip()


def _attachments(mail: EmailMessage) -> list[Media]:
    found = []
    for part in mail.iter_attachments():
        if not isinstance(part, EmailMessage):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        content_type = part.get_content_type()
        found.append(Media(data, content_type, (part.get_filename() or "attachment")[:255]))
    return found


def trim_quoted(text: str) -> str:
    """The new part of a reply: the quoted history under it cut off (kept if nothing is left)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        quoted_tail = line.startswith(">") and all(
            not rest.strip() or rest.startswith(">") for rest in lines[index:]
        )
        if _QUOTE_HEADER.match(line) or quoted_tail:
            kept = "\n".join(lines[:index]).rstrip()
            # "On Mon, … <ana@x.com>" and "wrote:" are often two lines: drop the first too.
            if kept and not _QUOTE_HEADER.match(line) and kept.splitlines()[-1].startswith("On "):
                kept = "\n".join(kept.splitlines()[:-1]).rstrip()
            return kept or text
    return text


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_HTML:
            self.skipping += 1
        elif tag in _BLOCK_HTML:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_HTML:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_HTML:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail: no markup, scripts, styles or quoted blocks survive."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


connector = Smtp()

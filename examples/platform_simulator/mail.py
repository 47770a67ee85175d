"""Email for the platform simulator: the company's SMTP server (a sink) and the customer's mail.

The sink (aiosmtpd, its asyncio loop in a daemon thread) plays the mail server a Rolodex
email channel sends replies through: it accepts any recipient, with or without STARTTLS
and AUTH (PLAIN/LOGIN over plain text too, any credentials, the username recorded), keeps
every mail in memory, and refuses the next mails at RCPT with a reply a test asks for.
The customer side writes to Rolodex's own SMTP listener with the standard library's
smtplib. Control routes: `GET /_sim/smtp`, `GET /_sim/smtp/messages[?to=]`,
`GET /_sim/smtp/certificate`, `POST /_sim/smtp/fail`, `POST /_sim/smtp/reset`,
`POST /_sim/email/send`, `GET /_sim/email/sent`. No import of server.py (it imports this).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import email.message
import email.policy
import email.utils
import html
import ipaddress
import itertools
import json
import re
import smtplib
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from common import now_iso

JSONObject = dict[str, Any]
Answer = tuple[int, Any, str]
JSON = "application/json"
TIMEOUT = 10.0  # seconds for the customer's SMTP conversation with Rolodex
MAX_MAIL = 25 * 1024 * 1024  # the sink's SIZE; larger mail is refused with 552
HOSTNAME = "smtp.simulator.test"
SEND_FIELDS = {"host", "port", "from", "from_name", "to", "subject", "text", "html"}
SEND_FIELDS |= {"in_reply_to", "references", "headers", "attachments", "message_id"}


class MailProblem(Exception):
    """A control request refused: its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def message_ids(value: str | None) -> list[str]:
    """The `<…>` ids of a References (or In-Reply-To) header, in order."""
    return re.findall(r"<[^<>\s]+>", value or "")


def html_to_text(markup: str) -> str:
    """A rough plain text of an HTML body (for mail that has no text part)."""
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup)).strip()


def describe(raw: bytes) -> JSONObject:
    """What a test reads of a mail: headers, the plain body and the attachments."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)

    def header(name: str) -> str | None:
        value = parsed.get(name)
        return None if value is None else str(value)

    text = ""
    body = parsed.get_body(preferencelist=("plain", "html"))
    if isinstance(body, email.message.EmailMessage):
        try:
            content = body.get_content()
        except (LookupError, ValueError):  # an unknown charset or a broken encoding
            payload = body.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        text = content if body.get_content_subtype() == "plain" else html_to_text(content)
        text = text.replace("\r\n", "\n").strip()  # the body, not the wire's line ends
    attachments = []
    for part in parsed.iter_attachments():
        data = part.get_payload(decode=True)
        size = len(data) if isinstance(data, bytes) else 0
        attachments.append(
            {"filename": part.get_filename(), "content_type": part.get_content_type()}
            | {"size": size}
        )
    return {
        "subject": header("Subject"),
        "from": header("From"),
        "to": header("To"),
        "message_id": header("Message-ID"),
        "in_reply_to": header("In-Reply-To"),
        "references": message_ids(header("References")),
        "text": text,
        "attachments": attachments,
    }


def self_signed(host: str) -> tuple[ssl.SSLContext, str] | None:
    """A TLS context for STARTTLS with a fresh self-signed certificate (and its PEM).

    None without the `cryptography` package: the sink then offers no STARTTLS.
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return None
    key = ec.generate_private_key(ec.SECP256R1())  # fast, unlike a new RSA key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTNAME)])
    names: list[x509.GeneralName] = [x509.DNSName(HOSTNAME), x509.DNSName("localhost")]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # load_cert_chain reads files only; they live just long enough to be loaded.
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_file.write_bytes(pem)
        key_file.write_bytes(key_pem)
        context.load_cert_chain(cert_file, key_file)
    return context, pem.decode()


class Sink:
    """aiosmtpd's handler and authenticator: records mail, refuses it when told to."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.messages: list[JSONObject] = []
        self.failures: list[JSONObject] = []
        self._ids = itertools.count(1)

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """AUTH: any credentials do (a test double); the username is kept for the record."""
        login = auth_data.login if isinstance(auth_data, LoginPassword) else b""
        return AuthResult(success=True, auth_data=login.decode("utf-8", "replace"))

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Any address, unless a failure is due: then this mail's recipients get its reply."""
        refusal: str | None = getattr(envelope, "sim_refusal", None)
        if refusal is None and not envelope.rcpt_tos:
            with self.lock:
                if self.failures:
                    failure = self.failures[0]
                    failure["count"] -= 1
                    if failure["count"] <= 0:
                        self.failures.pop(0)
                    refusal = f"{failure['code']} {failure['message']}"
                    envelope.sim_refusal = refusal  # type: ignore[attr-defined]
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Keep the mail."""
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes):
            raw = envelope.content
        record: JSONObject = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_username": session.auth_data if session.authenticated else None,
            "tls": session.ssl is not None,
            "raw": raw.decode("utf-8", "replace"),
        }
        record |= describe(raw) | {"received_at": now_iso()}
        with self.lock:
            record = {"id": next(self._ids)} | record
            self.messages.append(record)
        return f"250 2.0.0 OK: queued as {record['id']}"


class SmtpSink:
    """The sink's listening socket and its asyncio loop, in a daemon thread."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        # Bound here, in the caller's thread, so a taken port fails the start at once.
        self.socket = socket.create_server((host, port))
        self.port: int = self.socket.getsockname()[1]
        self.sink = Sink()
        tls = self_signed(host)
        self.tls_context: ssl.SSLContext | None = tls[0] if tls else None
        self.certificate: str | None = tls[1] if tls else None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="smtp-sink", daemon=True)
        self.thread.start()

    def _protocol(self) -> SMTP:
        return SMTP(
            self.sink,
            hostname=HOSTNAME,
            data_size_limit=MAX_MAIL,
            enable_SMTPUTF8=True,
            tls_context=self.tls_context,
            require_starttls=False,
            auth_require_tls=False,  # a test double: AUTH over plain text is fine
            authenticator=self.sink,
            loop=self.loop,
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.loop.create_server(self._protocol, sock=self.socket))
        self.loop.run_forever()

    # ------------------------------------------------------------ control

    def control(self, request: Any) -> Answer:
        """The `/_sim/smtp…` routes."""
        action = request.path.removeprefix("/_sim/smtp").strip("/")
        try:
            if request.method == "GET":
                if action == "":
                    return 200, {"host": self.host, "port": self.port}, JSON
                if action == "messages":
                    return 200, self.messages(request.query.get("to")), JSON
                if action == "certificate" and self.certificate:
                    return 200, self.certificate.encode(), "application/x-pem-file"
                raise MailProblem(404, f"no route GET {request.path}")
            if request.method != "POST":
                raise MailProblem(405, f"no route {request.method} {request.path}")
            doc = json_object(request.body)
            if action == "fail":
                return 200, self.fail(doc), JSON
            if action == "reset":
                return 200, self.reset(), JSON
            raise MailProblem(404, f"no route POST {request.path}")
        except MailProblem as problem:
            return problem.status, {"error": problem.message}, JSON

    def messages(self, to: str | None) -> list[JSONObject]:
        """The mails received, oldest first; with `to`, those with that envelope recipient."""
        with self.sink.lock:
            rows = [dict(m) for m in self.sink.messages]
        if to:
            wanted = to.strip().lower()
            rows = [m for m in rows if wanted in (r.lower() for r in m["rcpt_tos"])]
        return rows

    def fail(self, doc: JSONObject) -> JSONObject:
        """The next `count` mails are refused at RCPT with `code message` (4xx: temporary)."""
        code, message, count = doc.get("code", 550), doc.get("message"), doc.get("count", 1)
        if not isinstance(code, int) or isinstance(code, bool) or not 400 <= code <= 599:
            raise MailProblem(400, "code must be an SMTP reply code from 400 to 599")
        if message is None:
            message = "5.1.1 no such user" if code >= 500 else "4.3.0 try again later"
        if not isinstance(message, str) or not message.strip() or "\n" in message:
            raise MailProblem(400, "message must be a one-line string")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise MailProblem(400, "count must be a positive integer")
        with self.sink.lock:
            self.sink.failures.append({"code": code, "message": message, "count": count})
            return {"pending": [dict(f) for f in self.sink.failures]}

    def reset(self) -> JSONObject:
        """Forget the mails and the pending failures."""
        with self.sink.lock:
            self.sink.messages.clear()
            self.sink.failures.clear()
        return {"messages": 0}

    def stop(self) -> None:
        """Close the socket and stop the loop (the thread is a daemon either way)."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=2)
        self.socket.close()


def json_object(body: bytes) -> JSONObject:
    """A control request's JSON object body (an empty body is `{}`), or a 400."""
    try:
        doc = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise MailProblem(400, "the body must be JSON") from None
    if not isinstance(doc, dict):
        raise MailProblem(400, "the body must be a JSON object")
    return doc


def parse_target(value: str) -> tuple[str, int]:
    """`HOST:PORT` (the --rolodex-smtp option)."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


class Customer:
    """The customer's mail client: writes to Rolodex's SMTP listener with smtplib."""

    def __init__(self, default: tuple[str, int] | None = None) -> None:
        self.default = default
        self.sink: SmtpSink | None = None  # where Rolodex's replies arrive (--smtp-port)
        self.lock = threading.RLock()
        self.sent: list[JSONObject] = []
        self.mailboxes: list[JSONObject] = []  # Rolodex's addresses, offered on the page

    def control(self, request: Any) -> Answer:
        """The `/_sim/email/…` routes."""
        action = request.path.removeprefix("/_sim/email").strip("/")
        try:
            if request.method == "GET" and action in ("sent", "mailboxes"):
                with self.lock:
                    rows = self.sent if action == "sent" else self.mailboxes
                    return 200, [dict(row) for row in rows], JSON
            if request.method == "GET" and action == "thread":
                return 200, self.thread(request.query.get("address", "")), JSON
            if request.method == "GET" and action == "":
                default = self.default
                target = {"host": default[0], "port": default[1]} if default else None
                return 200, {"rolodex_smtp": target}, JSON
            if request.method == "POST" and action == "send":
                return 200, self.send(json_object(request.body)), JSON
            if request.method == "POST" and action == "mailboxes":
                return 200, self.add_mailbox(json_object(request.body)), JSON
            raise MailProblem(404, f"no route {request.method} {request.path}")
        except MailProblem as problem:
            return problem.status, {"error": problem.message}, JSON

    def add_mailbox(self, doc: JSONObject) -> JSONObject:
        """Offer one of Rolodex's addresses on the page: {address, name?}."""
        address, name = doc.get("address"), doc.get("name") or "Acme"
        if not isinstance(address, str) or "@" not in address or not isinstance(name, str):
            raise MailProblem(400, "address must be an email address and name a string")
        mailbox = {"address": address, "name": name}
        with self.lock:
            self.mailboxes = [m for m in self.mailboxes if m["address"] != address]
            self.mailboxes.append(mailbox)
        return mailbox

    def thread(self, address: str) -> list[JSONObject]:
        """The customer's mailbox: what this address sent and the sink's mail to it."""
        wanted = address.strip().lower()
        with self.lock:
            rows = [
                {"direction": "in", "at": s["at"], "subject": s["subject"], "text": s["text"]}
                | {"to": s["to"], "accepted": s["accepted"], "error": s.get("error")}
                for s in self.sent
                if s["from"].lower() == wanted
            ]
        for mail in self.sink.messages(wanted) if self.sink and wanted else []:
            rows.append(
                {"direction": "out", "at": mail["received_at"], "subject": mail["subject"]}
                | {"text": mail["text"], "from": mail["from"], "message_id": mail["message_id"]}
                | {"attachments": mail["attachments"]}
            )
        return sorted(rows, key=lambda row: str(row["at"]))

    def reset(self) -> None:
        """Forget the mails sent."""
        with self.lock:
            self.sent.clear()

    def build(self, doc: JSONObject) -> tuple[email.message.EmailMessage, str, list[str]]:
        """The mail (headers, text, HTML and files), its sender and its recipients."""
        unknown = sorted(set(doc) - SEND_FIELDS)
        if unknown:
            raise MailProblem(400, f"unknown field(s): {', '.join(unknown)}")
        sender = doc.get("from") or "kerry@example.com"
        to = doc.get("to")
        recipients = [to] if isinstance(to, str) else to
        if not isinstance(sender, str) or "@" not in sender:
            raise MailProblem(400, "from must be an email address")
        if not isinstance(recipients, list) or not recipients:
            raise MailProblem(400, "to is required: an address (or a list of them)")
        if not all(isinstance(r, str) and "@" in r for r in recipients):
            raise MailProblem(400, "to must hold email addresses")
        for key in ("from_name", "subject", "text", "html", "in_reply_to", "message_id"):
            if doc.get(key) is not None and not isinstance(doc[key], str):
                raise MailProblem(400, f"{key} must be a string")
        references = doc.get("references") or []
        if isinstance(references, str):
            references = message_ids(references) or [references]
        if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
            raise MailProblem(400, "references must be a list of message ids")
        headers = doc.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise MailProblem(400, "headers must be an object of strings")
        message = email.message.EmailMessage()
        message["From"] = email.utils.formataddr((doc.get("from_name") or "", sender))
        message["To"] = ", ".join(recipients)
        message["Subject"] = doc.get("subject") or ""
        message["Date"] = email.utils.formatdate(localtime=False)
        domain = sender.rpartition("@")[2] or "example.com"
        message["Message-ID"] = doc.get("message_id") or email.utils.make_msgid(domain=domain)
        if doc.get("in_reply_to"):
            message["In-Reply-To"] = doc["in_reply_to"]
        if references:
            message["References"] = " ".join(references)
        for name, value in headers.items():
            del message[name]  # a given header replaces the default one (Message-ID, Date…)
            message[name] = value
        message.set_content(doc.get("text") or "")
        if doc.get("html"):
            message.add_alternative(doc["html"], subtype="html")
        for number, file in enumerate(doc.get("attachments") or []):
            self.attach(message, number, file)
        return message, sender, recipients

    @staticmethod
    def attach(message: email.message.EmailMessage, number: int, file: Any) -> None:
        """One attachment `{filename, content_type, data_base64}`."""
        if not isinstance(file, dict):
            raise MailProblem(400, f"attachments[{number}] must be an object")
        try:
            data = base64.b64decode(str(file.get("data_base64", "")), validate=True)
        except (ValueError, binascii.Error):
            raise MailProblem(400, f"attachments[{number}].data_base64 must be base64") from None
        content_type = str(file.get("content_type") or "application/octet-stream")
        maintype, _, subtype = content_type.partition("/")
        if not maintype or not subtype:
            raise MailProblem(400, f"attachments[{number}].content_type must be type/subtype")
        filename = str(file.get("filename") or f"file-{number + 1}")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)

    def send(self, doc: JSONObject) -> JSONObject:
        """Send one mail to Rolodex's SMTP listener: accepted, or the server's refusal."""
        message, sender, recipients = self.build(doc)
        host, port = doc.get("host"), doc.get("port")
        if host is None and port is None and self.default:
            host, port = self.default
        host = host or (self.default[0] if self.default else "127.0.0.1")
        if not isinstance(host, str) or not isinstance(port, int) or isinstance(port, bool):
            raise MailProblem(
                400, "port is required (Rolodex's SMTP port), unless --rolodex-smtp was given"
            )
        answer: JSONObject = {"message_id": message["Message-ID"]}
        try:
            with smtplib.SMTP(host, port, timeout=TIMEOUT) as client:
                client.send_message(message, from_addr=sender, to_addrs=recipients)
            answer["accepted"] = True
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            answer |= {"accepted": False, "code": code, "error": reply.decode("utf-8", "replace")}
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused (552)…
            error = exc.smtp_error
            text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            answer |= {"accepted": False, "code": exc.smtp_code, "error": text}
        except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout
            answer |= {"accepted": False, "code": None, "error": f"{type(exc).__name__}: {exc}"}
        record = {"at": now_iso(), "host": host, "port": port, "from": sender}
        record |= {"to": recipients, "subject": message["Subject"], "text": doc.get("text") or ""}
        with self.lock:
            self.sent.append(record | answer)
        return answer

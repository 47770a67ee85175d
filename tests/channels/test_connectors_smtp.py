"""The email connector's reading and writing of mail (pure: no server)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from rolodex.channels.connectors.base import InboundItem, OutboundFile, ReplyContext
from rolodex.channels.connectors.smtp import compose, connector, html_to_text, trim_quoted

CONNECTION = {"address": "support@acme.test", "display_name": "Acme", "smtp_host": "h"}


def _mail(**headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = headers.pop("From", "Kerry Fisher <Kerry@Example.com>")
    mail["To"] = "support@acme.test"
    mail["Subject"] = headers.pop("Subject", "Hello")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    return mail


def _item(mail: EmailMessage) -> InboundItem:
    parsed = connector.parse(CONNECTION, bytes(mail), "message/rfc822")
    [item] = parsed.items
    assert isinstance(item, InboundItem)
    return item


def test_plain_text_sender_thread_and_files() -> None:
    mail = _mail(
        Message_ID="<m2@example.com>",
        In_Reply_To="<m1@example.com>",
        References="<m0@example.com> <m1@example.com>",
    )
    mail.set_content("Here is the invoice.\n")
    mail.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="inv.pdf")
    mail.add_attachment(b"<script>", maintype="text", subtype="html", filename="x.html")
    item = _item(mail)
    assert item.contact_id == "kerry@example.com"
    assert item.attributes == {"address": "kerry@example.com", "name": "Kerry Fisher"}
    assert item.external_id == "<m2@example.com>"
    assert item.references == ("<m0@example.com>", "<m1@example.com>")
    assert item.subject == "Hello"
    assert item.text == "Here is the invoice."
    assert [(f.filename, f.content_type, f.data) for f in item.files] == [
        ("inv.pdf", "application/pdf", b"%PDF-1.4"),
        ("x.html", "text/html", b"<script>"),
    ]


def test_html_only_mail_becomes_safe_text() -> None:
    mail = _mail()
    mail.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Hi &amp; thanks</p>"
        "<script>alert(1)</script><div>Line two<br>Line three</div>"
        "<blockquote>old quoted mail</blockquote></body></html>",
        subtype="html",
    )
    assert _item(mail).text == "Hi & thanks\n\nLine two\nLine three"
    assert html_to_text("<b>x</b> <i>y</i>") == "x y"


def test_quoted_history_is_trimmed() -> None:
    assert trim_quoted("Thanks!\n\nOn Tue, 1 Dec 2026, Acme wrote:\n> Shipped\n") == "Thanks!"
    assert trim_quoted("Gracias\n\nEl mar, 1 dic 2026, Acme escribió:\n> Enviado") == "Gracias"
    assert trim_quoted("Yes\n-----Original Message-----\nFrom: a") == "Yes"
    # Inline quoting followed by an answer is kept whole; a mail that is all quote stays.
    assert trim_quoted("> a question\nmy answer") == "> a question\nmy answer"
    assert trim_quoted("> only a quote") == "> only a quote"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto_reply"),
        ({"Auto_Submitted": "auto-generated"}, "auto_reply"),
        ({"X_Autoreply": "yes"}, "auto_reply"),
        ({"Precedence": "bulk"}, "bulk"),
        ({"List_Id": "<news.example.com>"}, "list"),
        ({"Return_Path": "<>"}, "bounce"),
        ({"From": "MAILER-DAEMON@example.com"}, "bounce"),
        ({"From": "Acme <support@acme.test>"}, "own_address"),
    ],
)
def test_automatic_mail_and_our_own_open_nothing(headers: dict[str, str], reason: str) -> None:
    mail = _mail(**headers)
    mail.set_content("I am out of the office.")
    parsed = connector.parse(CONNECTION, bytes(mail), "message/rfc822")
    assert parsed.items == []
    assert parsed.ignored == {reason: 1}


def test_auto_submitted_no_is_a_person() -> None:
    mail = _mail(Auto_Submitted="no")
    mail.set_content("A person wrote this.")
    assert _item(mail).text == "A person wrote this."


def test_a_mail_without_message_id_gets_a_stable_one() -> None:
    mail = _mail()
    mail.set_content("hi")
    first, again = _item(mail), _item(mail)
    assert first.external_id == again.external_id
    assert first.external_id.endswith("@rolodex.invalid>")


def test_the_reply_is_threaded_and_recognisable() -> None:
    reply = ReplyContext("msg_01abc", "Order 1042", ("<m0@example.com>", "<m1@example.com>"))
    files = [OutboundFile("label.pdf", "application/pdf", b"%PDF")]
    mail = compose(CONNECTION, "kerry@example.com", "Shipped!", files, reply)
    read = BytesParser(policy=policy.default).parsebytes(bytes(mail))
    assert read["Message-ID"] == "<msg_01abc@rolodex.acme.test>"
    assert read["In-Reply-To"] == "<m1@example.com>"
    assert read["References"] == "<m0@example.com> <m1@example.com>"
    assert read["Subject"] == "Re: Order 1042"
    assert read["From"] == "Acme <support@acme.test>"
    body = read.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().strip() == "Shipped!"
    [attachment] = list(read.iter_attachments())
    assert attachment.get_filename() == "label.pdf"
    again = compose(CONNECTION, "k@example.com", "x", [], ReplyContext("m", "Re: Order 1042"))
    assert again["Subject"] == "Re: Order 1042"
    invented = ReplyContext("m", None, ("<abc@rolodex.invalid>",))
    assert compose(CONNECTION, "k@example.com", "x", [], invented)["In-Reply-To"] is None

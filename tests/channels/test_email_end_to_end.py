"""Email end to end: a real `rolodex serve` with its SMTP listener, the customer's mail sent
with the standard library's smtplib, and the simulator's SMTP sink (aiosmtpd, its own
process) as the company's mail server (R11, issue 19)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import pytest

from builders import make_workspace
from rolodex.db import Database
from support.e2e import Api, eventually
from support.live import LiveRolodex
from support.platform_simulator import PlatformSimulator

pytestmark = pytest.mark.slow
ADDRESS = "support@acme.test"
CUSTOMER = "kerry.fisher@example.com"


def _smtp_port(live: LiveRolodex) -> int:
    return int(live.env["ROLODEX_SMTP_PORT"])


async def _connected(db: Database, live: LiveRolodex, sim: PlatformSimulator) -> Api:
    admin = await make_workspace(db)
    api = Api(live.url, admin.token)
    connection = {
        "provider": "smtp",
        "address": ADDRESS,
        "display_name": "Acme Support",
        "smtp_host": "127.0.0.1",
        "smtp_port": sim.smtp_port,
        "smtp_username": "acme",
        "smtp_password": "mail-secret",
    }
    channel = api(
        "POST",
        "/api/v1/channels",
        json={"medium": "email", "name": "Email", "connection": connection},
    )
    assert channel["connection"]["smtp_password_set"] is True
    assert "smtp_password" not in channel["connection"]
    assert channel["webhook_url"] is None  # mail comes by SMTP, never to a webhook
    tested = api("POST", f"/api/v1/channels/{channel['id']}/connection/test")
    assert tested["ok"] is True, tested
    return api


def _mail(subject: str, text: str, **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"Kerry Fisher <{CUSTOMER}>"
    mail["To"] = ADDRESS
    mail["Subject"] = subject
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text)
    return mail


def _send(live: LiveRolodex, mail: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", _smtp_port(live), timeout=10) as client:
        client.send_message(mail)


async def test_mail_in_reply_out_and_the_answer_joins_the_thread(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """smtplib → conversation; the reply reaches the sink threaded; the answer joins it."""
    api = await _connected(db, rolodex, simulator)
    first = _mail("Order 1042", "Hi,\nwhere is my order?\n", Message_ID="<first-1042@example.com>")
    first.add_attachment(
        b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="r.pdf"
    )
    _send(rolodex, first)
    conversation = eventually(lambda: api.conversations())[0]
    assert conversation["subject"] == "Order 1042"
    contact = api("GET", f"/api/v1/contacts/{conversation['contact_id']}")
    assert contact["attributes"]["email-address"] == CUSTOMER
    assert contact["attributes"]["email-name"] == "Kerry Fisher"
    [message] = api.messages(conversation["id"])
    assert message["text"] == "Hi,\nwhere is my order?"
    [receipt] = message["attachments"]
    assert (receipt["filename"], receipt["status"], receipt["size"]) == ("r.pdf", "stored", 16)

    reply = api(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "Shipped!"}
    )
    [sent] = eventually(lambda: simulator.mails(to=CUSTOMER))
    assert sent["in_reply_to"] == "<first-1042@example.com>"
    assert sent["references"] == ["<first-1042@example.com>"]
    assert sent["subject"] == "Re: Order 1042"
    assert "Acme Support" in sent["from"]
    assert ADDRESS in sent["from"]
    assert sent["text"] == "Shipped!"
    assert sent["auth_username"] == "acme"
    delivery = eventually(
        lambda: (
            api.delivery(conversation["id"], reply["id"])["status"] == "sent"
            and api.delivery(conversation["id"], reply["id"])
        )
    )
    assert delivery["provider_message_id"] == sent["message_id"]
    assert sent["message_id"].startswith(f"<{reply['id']}@rolodex.")

    # The customer answers Rolodex's mail (quoting it): the same conversation.
    answer = _mail(
        "Re: Order 1042",
        "Thanks a lot!\n\nOn Tue, 1 Dec 2026 Acme Support wrote:\n> Shipped!\n",
        In_Reply_To=sent["message_id"],
        References=f"<first-1042@example.com> {sent['message_id']}",
    )
    _send(rolodex, answer)
    texts = eventually(
        lambda: (
            [m["text"] for m in api.messages(conversation["id"])]
            if len(api.messages(conversation["id"])) == 3
            else None
        )
    )
    assert texts == ["Hi,\nwhere is my order?", "Shipped!", "Thanks a lot!"]

    # A new mail that names nothing opens a conversation of its own, beside the open one.
    _send(rolodex, _mail("Another question", "Do you ship to Spain?"))
    both = eventually(lambda: len(api.conversations()) == 2 and api.conversations())
    assert {c["contact_id"] for c in both} == {conversation["contact_id"]}


async def test_unknown_address_too_large_and_automatic_mail(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """550 for an address no channel has, 552 over the size limit; an auto-reply and a
    bounce open nothing."""
    api = await _connected(db, rolodex, simulator)
    with smtplib.SMTP("127.0.0.1", _smtp_port(rolodex), timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.send_message(_mail("Hi", "relay me"), to_addrs=["someone@elsewhere.test"])
        assert refused.value.recipients["someone@elsewhere.test"][0] == 550
    with smtplib.SMTP("127.0.0.1", _smtp_port(rolodex), timeout=10) as client:
        # smtplib announces SIZE, so the listener refuses at MAIL FROM already.
        big = _mail("Big", "x" * (int(rolodex.env["ROLODEX_SMTP_MAX_BYTES"]) + 1000))
        with pytest.raises(smtplib.SMTPResponseException) as too_large:
            client.send_message(big)
        assert too_large.value.smtp_code == 552
    _send(rolodex, _mail("Out of office", "I am away.", Auto_Submitted="auto-replied"))
    with smtplib.SMTP("127.0.0.1", _smtp_port(rolodex), timeout=10) as client:
        client.send_message(_mail("Undeliverable", "bounce"), from_addr="")
    _send(rolodex, _mail("A real one", "Hello"))  # processed after the two above

    def processed() -> list[dict[str, Any]]:
        conversations = api.conversations()
        return conversations if conversations else []

    [only] = eventually(processed)
    assert [m["text"] for m in api.messages(only["id"])] == ["Hello"]
    channel = api("GET", "/api/v1/channels")["items"][0]
    events = api("GET", f"/api/v1/channels/{channel['id']}/webhook-events")["items"]
    ignored: dict[str, int] = {}
    for event in events:
        for reason, count in ((event.get("outcome") or {}).get("ignored") or {}).items():
            ignored[reason] = ignored.get(reason, 0) + count
    assert ignored == {"auto_reply": 1, "bounce": 1}


async def test_a_refused_reply_fails_with_the_servers_words(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """A 4xx from the company's mail server is retried; a 5xx fails the reply at once with
    the server's reply text."""
    api = await _connected(db, rolodex, simulator)
    _send(rolodex, _mail("Hello", "Anyone there?"))
    conversation = eventually(lambda: api.conversations())[0]
    simulator.smtp_fail(451, "4.7.1 try again later")
    api("POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "Hi!"})
    [retried] = eventually(lambda: simulator.mails())
    assert retried["text"] == "Hi!"
    simulator.smtp_fail(550, "5.1.1 mailbox unavailable")
    reply = api(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "Yes!"}
    )
    failed = eventually(
        lambda: (
            api.delivery(conversation["id"], reply["id"])["status"] == "failed"
            and api.delivery(conversation["id"], reply["id"])
        )
    )
    assert failed["error"]["code"] == "550"
    assert "mailbox unavailable" in failed["error"]["title"]
    assert len(simulator.mails()) == 1

"""Admin settings > Channels over HTTP: the list, adding a channel, connecting it through the
form of its provider (Meta, Twilio, X, SMTP; secrets never written back into the page), field
errors, the connection test against the platform simulator, Disconnect, failed deliveries with
Retry, and admins only; and in the browser, an SMS, an X and an email channel connected."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from builders import PASSWORD, make_channel, make_user, make_workspace
from rolodex.app import create_app
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.demo import demo_site_channel_id, seed_demo
from rolodex.webchat import api as webchat_api
from rolodex.worker import Worker
from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login
from support.live import LiveRolodex, free_port
from support.platform_simulator import PlatformSimulator

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "EAAG-page-test-token-3f9a"
APP_SECRET = "app-secret-page-test-77c1"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The app under test may call the platform simulator on loopback."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        run_worker=False,
        allow_private_webhook_targets=True,
    )


async def _log_in(client: httpx.AsyncClient, email: str) -> str:
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303, response.text
    page = await client.get("/profile")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


def _status(page: str) -> str:
    found = re.search(r'<p class="status-line" role="status">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def _error(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="field-{field}-error">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def _value(page: str, element_id: str) -> str:
    found = re.search(rf'<input id="{element_id}"[^>]*value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else ""


def _connection(**fields: str) -> dict[str, str]:
    return {"phone_number_id": PHONE_NUMBER_ID, "access_token": ACCESS_TOKEN,
            "app_secret": APP_SECRET, **fields}  # fmt: skip


async def test_the_list_and_adding_a_channel(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    csrf = await _log_in(client, admin.email)
    settings_index = await client.get("/admin")
    assert 'href="/admin/channels">Channels</a>' in settings_index.text

    empty = await client.get("/admin/channels")
    assert empty.status_code == 200
    assert "No channels yet. Add one below." in empty.text
    assert '<label for="channel-name">Name</label>' in empty.text
    assert '<label for="channel-medium">Platform</label>' in empty.text

    refused = await client.post(
        "/admin/channels", data={"name": "", "medium": "whatsapp", "csrf_token": csrf}
    )
    assert refused.status_code == 422
    assert 'id="channel-name-error">This field is required.' in refused.text
    assert "The channel was not added; see the messages beside the fields." in refused.text
    odd = await client.post(
        "/admin/channels", data={"name": "Pigeons", "medium": "pigeon", "csrf_token": csrf}
    )
    assert odd.status_code == 422
    assert 'id="channel-medium-error">Choose one of:' in odd.text
    assert 'value="Pigeons"' in odd.text  # what they typed stays

    added = await client.post(
        "/admin/channels", data={"name": "Support WhatsApp", "medium": "whatsapp",
                                 "csrf_token": csrf},
    )  # fmt: skip
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    assert _status(page.text) == (
        "Channel Support WhatsApp was added. Connect it to its platform below."
    )
    for label in ("Phone number ID", "Access token", "App secret", "Verify token"):
        assert f">{label}" in page.text
    assert "Not connected: enter the details from your Meta app" in page.text
    assert "No failed deliveries." in page.text

    listing = await client.get("/admin/channels")
    channel_id = added.headers["location"].split("/")[-1].split("?")[0]
    row = re.search(rf'<a href="/admin/channels/{channel_id}">Support WhatsApp</a>.*?</tr>',
                    listing.text, re.S)  # fmt: skip
    assert row
    assert "WhatsApp" in row.group(0)
    assert "Not connected" in row.group(0)
    assert "Enabled" in row.group(0)

    # Name and status: disabling shows in the list; an empty name is refused beside the field.
    off = await client.post(
        f"/admin/channels/{channel_id}", data={"name": "WA", "csrf_token": csrf}
    )
    assert off.status_code == 303
    assert _status((await client.get(off.headers["location"])).text) == "Changes to WA are saved."
    listing = await client.get("/admin/channels")
    assert re.search(r"<tr class=\"is-inactive\">.*?>WA</a>.*?Disabled", listing.text, re.S)
    blank = await client.post(
        f"/admin/channels/{channel_id}", data={"name": "", "enabled": "true", "csrf_token": csrf}
    )
    assert blank.status_code == 422
    assert 'id="channel-name-error">This field is required.' in blank.text

    # A web chat channel has the widget's own settings instead of a platform's fields.
    chat = await make_channel(db, admin, "webchat", "Site chat")
    chat_page = (await client.get(f"/admin/channels/{chat}")).text
    assert "Not connected: list the sites that may show the chat" in chat_page
    assert '<label for="webchat-origins">Allowed origins</label>' in chat_page
    assert "Save connection" not in chat_page
    assert "Test connection" not in chat_page


async def test_connecting_through_the_form_stores_it_and_never_echoes_a_secret(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "whatsapp", "Support")
    csrf = await _log_in(client, admin.email)
    url = f"/admin/channels/{channel_id}/connection"

    saved = await client.post(url, data={**_connection(), "csrf_token": csrf})
    assert saved.status_code == 303, saved.text
    page = (await client.get(saved.headers["location"])).text
    assert _status(page).startswith("The connection is saved.")
    assert "Connected to WhatsApp Business Cloud API." in page
    assert ACCESS_TOKEN not in page
    assert APP_SECRET not in page
    assert page.count("Saved — leave empty to keep it.") == 2
    assert _value(page, "webhook-url") == f"{settings.public_url}/webhooks/{channel_id}"
    token = _value(page, "verify-token")
    assert len(token) >= 24
    assert _value(page, "field-verify_token") == token
    assert _value(page, "field-graph_url") == "https://graph.facebook.com"
    assert "Under Webhook fields, subscribe to messages." in page

    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"]["phone_number_id"] == PHONE_NUMBER_ID
    assert stored["connection"]["access_token_set"] is True
    assert stored["connection"]["verify_token"] == token

    # Secrets left empty keep the stored ones; the rest is saved as typed.
    again = await client.post(
        url,
        data={"phone_number_id": "42", "access_token": "", "app_secret": "",
              "verify_token": "my-own-verify-token", "csrf_token": csrf},
    )  # fmt: skip
    assert again.status_code == 303
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"]["phone_number_id"] == "42"
    assert stored["connection"]["verify_token"] == "my-own-verify-token"
    assert stored["connection"]["app_secret_set"] is True

    listing = await client.get("/admin/channels")
    assert "Connected (WhatsApp Business Cloud API)" in listing.text


SID = "AC" + "5a1b" * 8
TWILIO_TOKEN = "twilio-page-token-9d2e"
X_SECRET = "x-consumer-secret-page-41aa"
X_TOKEN = "x-user-token-page-7f03"
SMTP_PASSWORD = "smtp-page-password-c3d1"


async def test_sms_channels_connect_to_twilio_with_its_own_fields(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "sms", "Texts")
    csrf = await _log_in(client, admin.email)
    page = (await client.get(f"/admin/channels/{channel_id}")).text
    for label in ("Account SID", "Auth token", "Twilio phone number", "Twilio API URL"):
        assert f">{label}" in page
    for meta in ("Phone number ID", "App secret", "Verify token", "Graph API"):
        assert meta not in page
    assert "enter the details from your Twilio account" in page

    url = f"/admin/channels/{channel_id}/connection"
    refused = await client.post(
        url, data={"account_sid": "AC12", "auth_token": TWILIO_TOKEN,
                   "from_number": "555 0100", "csrf_token": csrf},
    )  # fmt: skip
    assert refused.status_code == 422
    assert _error(refused.text, "account_sid") == (
        "An Account SID is AC followed by 32 letters a to f and digits."
    )
    assert _error(refused.text, "from_number").startswith(
        "Write the number in international format"
    )
    assert _value(refused.text, "field-from_number") == "555 0100"
    assert TWILIO_TOKEN not in refused.text
    no_token = await client.post(
        url, data={"account_sid": SID, "from_number": "+15005550006", "csrf_token": csrf}
    )
    assert _error(no_token.text, "auth_token") == "Enter this secret to connect the channel."

    saved = await client.post(
        url, data={"account_sid": SID, "auth_token": TWILIO_TOKEN,
                   "from_number": "+15005550006", "csrf_token": csrf},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    page = (await client.get(saved.headers["location"])).text
    assert _status(page).startswith("The connection is saved. Set the number's messaging webhook")
    assert "Connected to Twilio." in page
    assert TWILIO_TOKEN not in page
    assert page.count("Saved — leave empty to keep it.") == 1
    assert "Set up the webhook in Twilio" in page
    assert _value(page, "webhook-url") == f"{settings.public_url}/webhooks/{channel_id}"
    assert 'id="verify-token"' not in page  # Twilio has no handshake
    assert _value(page, "field-api_url") == "https://api.twilio.com"
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"] == {
        "provider": "twilio", "account_sid": SID, "from_number": "+15005550006",
        "api_url": "https://api.twilio.com", "auth_token_set": True,
    }  # fmt: skip
    assert "Connected (Twilio)" in (await client.get("/admin/channels")).text

    client.headers.update(SPANISH)
    spanish = (await client.get(f"/admin/channels/{channel_id}")).text
    assert ">SID de la cuenta</label>" in spanish
    assert "Configura el webhook en Twilio" in spanish


async def test_x_and_email_channels_connect_with_their_own_fields(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    x_id = await make_channel(db, admin, "twitter", "X DMs")
    mail_id = await make_channel(db, admin, "email", "Support mail")
    csrf = await _log_in(client, admin.email)

    saved = await client.post(
        f"/admin/channels/{x_id}/connection",
        data={"account_user_id": "1234567890", "consumer_secret": X_SECRET,
              "access_token": X_TOKEN, "csrf_token": csrf},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    page = (await client.get(saved.headers["location"])).text
    assert "Connected to X." in page
    assert "Set up the webhook in X" in page
    assert page.count("Saved — leave empty to keep it.") == 2
    assert X_SECRET not in page
    assert X_TOKEN not in page
    stored = (await client.get(f"/api/v1/channels/{x_id}", headers=admin.headers)).json()
    assert stored["connection"]["account_user_id"] == "1234567890"
    assert stored["connection"]["consumer_secret_set"] is True
    assert stored["connection"]["access_token_set"] is True

    page = (await client.get(f"/admin/channels/{mail_id}")).text
    for label in ("Email address", "Sender name", "SMTP server", "SMTP port", "SMTP user name",
                  "SMTP password", "Use STARTTLS"):  # fmt: skip
        assert label in page
    assert 'id="field-smtp_starttls" name="smtp_starttls" value="true"' in page
    url = f"/admin/channels/{mail_id}/connection"
    mail = {"address": "Support@Acme.test", "display_name": "Acme Support",
            "smtp_host": "smtp.acme.test", "smtp_port": "587", "csrf_token": csrf}  # fmt: skip
    refused = await client.post(
        url, data={**mail, "address": "not an address", "smtp_port": "70000",
                   "smtp_host": "smtp acme"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert (
        _error(refused.text, "address") == "Enter a valid email address, such as ana@example.com."
    )
    assert _error(refused.text, "smtp_port") == "Enter a port number from 1 to 65535."
    assert _error(refused.text, "smtp_host") == (
        "Write a host name or an IP address, e.g. smtp.acme.com."
    )
    assert _value(refused.text, "field-smtp_port") == "70000"

    # No password: a server that takes mail without a login.
    saved = await client.post(url, data={**mail, "smtp_starttls": "true"})
    assert saved.status_code == 303, saved.text
    page = (await client.get(saved.headers["location"])).text
    assert "Connected: replies leave through smtp.acme.test:587." in page
    assert 'id="webhook-url"' not in page  # mail does not come by webhook
    assert "Receiving mail is off: this Rolodex does not listen for SMTP" in page
    assert 'value="true" checked' in page
    stored = (await client.get(f"/api/v1/channels/{mail_id}", headers=admin.headers)).json()
    assert stored["connection"] == {
        "provider": "smtp", "address": "support@acme.test", "display_name": "Acme Support",
        "smtp_host": "smtp.acme.test", "smtp_port": 587, "smtp_starttls": True,
        "smtp_password_set": False,
    }  # fmt: skip

    # With a login; then unticked, and the password left empty is kept.
    await client.post(
        url, data={**mail, "smtp_username": "support", "smtp_password": SMTP_PASSWORD}
    )
    again = await client.post(url, data={**mail, "smtp_username": "support"})
    assert again.status_code == 303
    stored = (await client.get(f"/api/v1/channels/{mail_id}", headers=admin.headers)).json()
    assert stored["connection"]["smtp_password_set"] is True
    assert stored["connection"]["smtp_starttls"] is False
    assert stored["connection"]["smtp_username"] == "support"

    settings.smtp_port = 2525  # the listener is on: the page says where mail must go
    page = (await client.get(f"/admin/channels/{mail_id}")).text
    assert "Receiving mail is off" not in page
    assert _value(page, "mail-address") == "support@acme.test"
    assert _value(page, "mail-listener") == "127.0.0.1:2525"
    assert SMTP_PASSWORD not in page


async def test_connection_fields_are_explained_beside_each_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "whatsapp", "Support")
    csrf = await _log_in(client, admin.email)
    url = f"/admin/channels/{channel_id}/connection"

    refused = await client.post(
        url,
        data={"phone_number_id": "", "access_token": ACCESS_TOKEN, "app_secret": "x",
              "verify_token": "short", "api_version": "21", "csrf_token": csrf},
    )  # fmt: skip
    assert refused.status_code == 422
    page = refused.text
    assert _error(page, "phone_number_id") == "This field is required."
    assert _error(page, "verify_token") == "Enter at least 8 characters."
    assert _error(page, "api_version") == "Write the version as Meta does, e.g. v21.0."
    assert 'aria-invalid="true"' in page
    assert "The connection was not saved; see the messages beside the fields." in page
    assert ACCESS_TOKEN not in page  # a typed secret is not written back either
    assert _value(page, "field-verify_token") == "short"

    # Refusals of the service, by field: a missing secret, a Graph URL that is not allowed.
    no_secret = await client.post(
        url, data={"phone_number_id": PHONE_NUMBER_ID, "app_secret": "x", "csrf_token": csrf}
    )
    assert no_secret.status_code == 422
    assert _error(no_secret.text, "access_token") == "Enter this secret to connect the channel."
    bad_id = await client.post(
        url, data={**_connection(phone_number_id="12 34"), "csrf_token": csrf}
    )
    assert _error(bad_id.text, "phone_number_id") == (
        "Use only letters, digits and the signs . _ : -"
    )
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"] is None

    client.headers.update(SPANISH)
    spanish = await client.post(url, data={**_connection(phone_number_id=""), "csrf_token": csrf})
    assert _error(spanish.text, "phone_number_id") == "Este campo es obligatorio."
    assert ">Identificador del número de teléfono</label>" in spanish.text
    assert "La conexión no se guardó; mira los mensajes junto a los campos." in spanish.text


async def test_graph_url_refused_where_platform_calls_may_not_go(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "whatsapp", "Support")
    csrf = await _log_in(client, admin.email)
    settings.allow_private_webhook_targets = False
    refused = await client.post(
        f"/admin/channels/{channel_id}/connection",
        data={**_connection(graph_url="http://127.0.0.1:9"), "csrf_token": csrf},
    )
    assert refused.status_code == 422
    assert _error(refused.text, "graph_url")
    assert _value(refused.text, "field-graph_url") == "http://127.0.0.1:9"


async def test_test_connection_says_what_the_platform_answered_and_disconnect(
    client: httpx.AsyncClient, db: Database, simulator: PlatformSimulator
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "whatsapp", "Support")
    simulator.add_account(
        platform="whatsapp", id=PHONE_NUMBER_ID, access_token=ACCESS_TOKEN,
        app_secret=APP_SECRET, webhook_url="http://127.0.0.1:9/unused", name="Acme Support",
        display_phone_number="15550100",
    )  # fmt: skip
    csrf = await _log_in(client, admin.email)
    connect = f"/admin/channels/{channel_id}/connection"
    saved = await client.post(
        connect, data={**_connection(graph_url=simulator.url), "csrf_token": csrf}
    )
    assert saved.status_code == 303, saved.text

    tested = await client.post(f"/admin/channels/{channel_id}/test", data={"csrf_token": csrf})
    assert tested.status_code == 200
    assert '<p class="test-result is-ok" role="status">Connected to Acme Support (15550100).' in (
        tested.text
    )

    await client.post(
        connect, data={"phone_number_id": PHONE_NUMBER_ID, "access_token": "wrong-token",
                       "graph_url": simulator.url, "csrf_token": csrf},
    )  # fmt: skip
    failed = await client.post(f"/admin/channels/{channel_id}/test", data={"csrf_token": csrf})
    found = re.search(r'<p class="alert test-result" role="alert">([^<]*)</p>', failed.text)
    assert found, failed.text
    assert html.unescape(found.group(1)) == (
        "Connection failed: Invalid OAuth access token - Cannot parse access token (code 190)."
    )

    off = await client.post(f"/admin/channels/{channel_id}/disconnect", data={"csrf_token": csrf})
    assert off.status_code == 303
    page = (await client.get(off.headers["location"])).text
    assert _status(page) == (
        "Support is disconnected: Rolodex no longer receives or sends its messages."
    )
    assert "Not connected: enter the details" in page
    assert 'id="webhook-url"' not in page
    assert "Test connection" not in page
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"] is None
    assert stored["webhook_url"] is None


def _signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


async def test_failed_deliveries_are_listed_with_retry(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "whatsapp", "Support")
    csrf = await _log_in(client, admin.email)
    saved = await client.post(
        f"/admin/channels/{channel_id}/connection",
        data={**_connection(graph_url="http://127.0.0.1:9"), "csrf_token": csrf},
    )
    assert saved.status_code == 303
    broken = json.dumps({"object": "whatsapp_business_account", "entry": "nope"}).encode()
    posted = await client.post(f"/webhooks/{channel_id}", content=broken, headers=_signed(broken))
    assert posted.status_code == 200
    await Worker(db, settings).run_until_idle()

    page = (await client.get(f"/admin/channels/{channel_id}")).text
    rows = re.findall(r'action="/admin/channels/[^/]+/deliveries/([^/]+)/retry"', page)
    assert len(rows) == 1
    assert re.search(rf'<td class="last-error" id="failed-{rows[0]}-error">[^<]+</td>', page)
    retried = await client.post(
        f"/admin/channels/{channel_id}/deliveries/{rows[0]}/retry", data={"csrf_token": csrf}
    )
    assert retried.status_code == 303
    page = (await client.get(retried.headers["location"])).text
    assert _status(page) == "The delivery will be processed again in a moment."
    assert "No failed deliveries." in page
    twice = await client.post(
        f"/admin/channels/{channel_id}/deliveries/{rows[0]}/retry", data={"csrf_token": csrf}
    )
    assert twice.status_code == 409
    assert '<p class="alert" role="alert">Only a delivery that failed can be retried.' in twice.text


async def test_channels_pages_are_for_admins(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel_id = await make_channel(db, admin, "whatsapp", "Support")

    signed_out = await client.get("/admin/channels")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login?next=/admin/channels"

    csrf = await _log_in(client, agent.email)
    for path in ("/admin/channels", f"/admin/channels/{channel_id}"):
        refused = await client.get(path)
        assert refused.status_code == 403, path
        assert "Only workspace admins can do this." in refused.text
    posted = await client.post(
        f"/admin/channels/{channel_id}/connection", data={**_connection(), "csrf_token": csrf}
    )
    assert posted.status_code == 403
    added = await client.post(
        "/admin/channels", data={"name": "Sneaky", "medium": "sms", "csrf_token": csrf}
    )
    assert added.status_code == 403
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"] is None

    # Another workspace's channel is not found, as the API says.
    other = await make_workspace(db, name="Other")
    foreign = await make_channel(db, other, "whatsapp", "Theirs")
    await client.post("/logout", data={"csrf_token": csrf})
    await _log_in(client, admin.email)
    assert (await client.get(f"/admin/channels/{foreign}")).status_code == 404


# --- Web chat: the widget's settings, the identity secret, the preview, the demo shop ------


@pytest.fixture
async def fresh_limits() -> None:
    """Visitor rate-limit counters from zero (they are per process, and other tests count)."""
    await webchat_api.reset_limits()


def _textarea(page: str, element_id: str) -> str:
    found = re.search(rf'<textarea id="{element_id}"[^>]*>([^<]*)</textarea>', page)
    return html.unescape(found.group(1)) if found else ""


def _webchat_error(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="webchat-{field}-error">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def _signature(secret: str, identifier: str) -> str:
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


async def _connect_webchat(client: httpx.AsyncClient, admin: Any, channel_id: str) -> str:
    """Connect through the API; the channel's identity secret."""
    connection = {"provider": "widget", "allowed_origins": ["https://shop.example"]}
    patched = await client.patch(
        f"/api/v1/channels/{channel_id}", json={"connection": connection}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    return str(patched.json()["connection"]["identity_secret"])


async def test_a_web_chat_channel_is_set_up_from_its_page(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "webchat", "Shop chat")
    csrf = await _log_in(client, admin.email)
    url = f"/admin/channels/{channel_id}/webchat"
    page = (await client.get(f"/admin/channels/{channel_id}")).text
    assert 'id="webchat-color" name="color" type="color" value="#1f6feb"' in page
    assert "<legend>Pre-chat form</legend>" in page
    assert '<label for="webchat-greeting-es">Greeting in Spanish' in page
    assert 'id="webchat-link-emails-warning"><strong>Warning:</strong>' in page
    assert 'id="webchat-script-tag"' not in page  # nothing to paste before it is on
    assert "Identity verification" not in page

    empty = await client.post(url, data={"allowed_origins": " \r\n", "csrf_token": csrf})
    assert empty.status_code == 422
    assert _webchat_error(empty.text, "origins").startswith("Write one origin per line")
    refused = await client.post(
        url, data={"allowed_origins": "https://shop.example/cart", "color": "#123abc",
                   "greeting_es": "¡" * 301, "pre_chat_fields": ["email"], "csrf_token": csrf},
    )  # fmt: skip
    assert refused.status_code == 422
    assert _webchat_error(refused.text, "origins").startswith("Write one origin per line")
    assert _webchat_error(refused.text, "greeting-es") == "Write at most 300 characters."
    assert "The settings were not saved; see the messages beside the fields." in refused.text
    assert _textarea(refused.text, "webchat-origins") == "https://shop.example/cart"
    assert 'type="color" value="#123abc"' in refused.text  # what they chose stays
    assert 'name="pre_chat_fields" value="email" checked' in refused.text
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"] is None

    saved = await client.post(
        url, data={"allowed_origins": "https://shop.example\r\n\r\nhttp://127.0.0.1:8123/\r\n",
                   "pre_chat_fields": ["email", "first_name"], "color": "#aa3300",
                   "greeting_en": "Hi there!", "greeting_es": "¡Hola!", "csrf_token": csrf},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    page = (await client.get(saved.headers["location"])).text
    assert _status(page) == "The web chat settings of Shop chat are saved."
    assert "Connected: the chat works on the sites below." in page
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    connection = stored["connection"]
    secret = connection["identity_secret"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    expected = {
        "provider": "widget", "allowed_origins": ["https://shop.example", "http://127.0.0.1:8123"],
        "pre_chat_fields": ["first_name", "email"], "color": "#aa3300",
        "greeting": {"en": "Hi there!", "es": "¡Hola!"}, "link_unverified_emails": False,
    }  # fmt: skip
    assert {key: connection.get(key) for key in expected} == expected
    assert stored["webhook_url"] is None

    assert _textarea(page, "webchat-script-tag") == (
        f'<script src="{settings.public_url}/widget.js" data-channel="{channel_id}" async></script>'
    )
    assert _value(page, "webchat-secret") == secret
    assert _textarea(page, "webchat-origins") == "https://shop.example\nhttp://127.0.0.1:8123"
    assert 'name="pre_chat_fields" value="last_name">' in page
    assert 'id="webchat-link-emails" name="link_unverified_emails" value="true"\n' in page
    assert f'<iframe class="preview-frame" src="/admin/channels/{channel_id}/preview"' in page
    assert "Connected (web chat widget)" in (await client.get("/admin/channels")).text

    # Saving again keeps the identity secret (the company's site signs with it).
    again = await client.post(
        url, data={"allowed_origins": "https://shop.example", "link_unverified_emails": "true",
                   "color": "#aa3300", "csrf_token": csrf},
    )  # fmt: skip
    assert again.status_code == 303
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"]["identity_secret"] == secret
    assert stored["connection"]["link_unverified_emails"] is True
    assert stored["connection"]["pre_chat_fields"] == []
    assert stored["connection"]["greeting"] == {}
    page = (await client.get(f"/admin/channels/{channel_id}")).text
    assert 'name="link_unverified_emails" value="true" checked' in page

    client.headers.update(SPANISH)
    spanish = (await client.get(f"/admin/channels/{channel_id}")).text
    assert '<label for="webchat-origins">Orígenes permitidos</label>' in spanish
    assert "Verificación de identidad" in spanish


@pytest.mark.usefixtures("fresh_limits")
async def test_the_identity_secret_signs_with_the_snippets_and_rotates(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "webchat", "Shop chat")
    secret = await _connect_webchat(client, admin, channel_id)
    csrf = await _log_in(client, admin.email)
    page = (await client.get(f"/admin/channels/{channel_id}")).text
    sessions = f"/public/v1/webchat/{channel_id}/sessions"

    # The Python snippet, run as the page shows it, signs as Rolodex checks.
    monkeypatch.setenv("ROLODEX_IDENTITY_SECRET", secret)
    scope: dict[str, Any] = {}
    exec(_textarea(page, "webchat-snippet-python"), scope)  # the page's own code, as shown
    signed = scope["identifier_hash"]("user-42")
    assert signed == _signature(secret, "user-42")
    if shutil.which("node"):
        script = (
            _textarea(page, "webchat-snippet-node")
            + 'process.stdout.write(identifierHash("user-42"));'
        )
        node = await asyncio.create_subprocess_exec(
            "node", "-e", script, stdout=asyncio.subprocess.PIPE
        )
        out, _err = await node.communicate()
        assert out.decode() == signed
    assert "hash_hmac('sha256', $identifier, getenv('ROLODEX_IDENTITY_SECRET'))" in _textarea(
        page, "webchat-snippet-php"
    )
    assert 'data-identifier="{{ user.id }}"' in _textarea(page, "webchat-verified-tag")
    verified = await client.post(
        sessions, json={"identifier": "user-42", "identifier_hash": signed}
    )
    assert verified.status_code == 201, verified.text
    assert verified.json()["verified"] is True

    # Rotate asks first; only the confirmed second press makes a new secret.
    asked = await client.post(
        f"/admin/channels/{channel_id}/identity-secret", data={"csrf_token": csrf}
    )
    assert asked.status_code == 200
    assert 'id="rotate-question" role="alert">Rotate the identity secret?' in asked.text
    assert '<input type="hidden" name="confirm" value="yes">' in asked.text
    assert _value(asked.text, "webchat-secret") == secret
    rotated = await client.post(
        f"/admin/channels/{channel_id}/identity-secret", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert rotated.status_code == 303
    page = (await client.get(rotated.headers["location"])).text
    assert _status(page).startswith("The identity secret is rotated")
    new_secret = _value(page, "webchat-secret")
    assert re.fullmatch(r"[0-9a-f]{64}", new_secret)
    assert new_secret != secret
    old = await client.post(sessions, json={"identifier": "user-42", "identifier_hash": signed})
    assert old.status_code == 401
    assert old.json()["code"] == "bad_identifier_hash"
    new = {"identifier": "user-42", "identifier_hash": _signature(new_secret, "user-42")}
    assert (await client.post(sessions, json=new)).status_code == 201

    # A channel without an identity secret says so instead.
    whatsapp = await make_channel(db, admin, "whatsapp", "Support")
    refused = await client.post(
        f"/admin/channels/{whatsapp}/identity-secret", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert refused.status_code == 409
    assert '<p class="alert" role="alert">Only a connected web chat channel has an identity' in (
        refused.text
    )

    # Admins only.
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    await client.post("/logout", data={"csrf_token": csrf})
    csrf = await _log_in(client, agent.email)
    for path, data in (("webchat", {"allowed_origins": "https://evil.example"}),
                       ("identity-secret", {"confirm": "yes"})):  # fmt: skip
        posted = await client.post(
            f"/admin/channels/{channel_id}/{path}", data={**data, "csrf_token": csrf}
        )
        assert posted.status_code == 403, path
    assert (await client.get(f"/admin/channels/{channel_id}/preview")).status_code == 403
    stored = (await client.get(f"/api/v1/channels/{channel_id}", headers=admin.headers)).json()
    assert stored["connection"]["identity_secret"] == new_secret
    assert stored["connection"]["allowed_origins"] == ["https://shop.example"]


async def test_the_preview_is_a_rolodex_page_with_the_widget(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel_id = await make_channel(db, admin, "webchat", "Shop chat")
    await _log_in(client, admin.email)
    preview = f"/admin/channels/{channel_id}/preview"
    off = await client.get(preview)
    assert off.status_code == 200
    assert "Save the widget settings to see the chat here." in off.text
    assert "widget.js" not in off.text

    await _connect_webchat(client, admin, channel_id)
    on = await client.get(preview, headers=SPANISH)
    assert on.status_code == 200
    assert '<html lang="es">' in on.text  # the widget speaks the page's language
    assert f'<script src="/widget.js" data-channel="{channel_id}" async></script>' in on.text
    # The channel page may frame it; nothing else may, and the channel page itself stays unframed.
    assert "frame-ancestors 'self'" in on.headers["content-security-policy"]
    page = await client.get(f"/admin/channels/{channel_id}")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


@pytest.mark.usefixtures("fresh_limits")
async def test_the_demo_shop_page_plays_a_website_visitor(settings: Settings, db: Database) -> None:
    async def fetch(*paths: str) -> list[httpx.Response]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return [await c.get(path) for path in paths]

    login, site = await fetch("/login", "/demo/site")
    assert "Play a website visitor" not in login.text
    assert site.status_code == 404

    assert await seed_demo(db, settings)
    channel_id = await demo_site_channel_id(db)
    assert channel_id is not None
    login, site, css = await fetch("/login", "/demo/site", "/demo/site.css")
    assert '<a href="/demo/site">Play a website visitor</a>' in login.text
    assert site.status_code == 200
    assert f'<script src="/widget.js" data-channel="{channel_id}" async></script>' in site.text
    assert "Acme Coffee Shop" in site.text
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")

    # The demo channel takes visitors from the shop page and from the simulator's page.
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            config = await c.get(f"/public/v1/webchat/{channel_id}/config")
            assert config.json()["pre_chat_fields"] == ["first_name", "email"]
            assert config.json()["greeting"]["es"].startswith("¡Hola!")
            for origin, expected in (("http://127.0.0.1:8000", 201),
                                     ("http://localhost:8000", 201),
                                     ("http://127.0.0.1:8020", 201),
                                     ("https://elsewhere.example", 403)):  # fmt: skip
                made = await c.post(
                    f"/public/v1/webchat/{channel_id}/sessions", json={}, headers={"Origin": origin}
                )
                assert made.status_code == expected, origin


# --- In the browser ------------------------------------------------------------------------


def _add_channel(page: Any, url: str, name: str, platform: str) -> str:
    """Add a channel from the Channels page; its id (the page it lands on)."""
    page.goto(f"{url}/admin/channels")
    add = page.get_by_role("region", name="Add a channel")
    add.get_by_label("Name").fill(name)
    add.get_by_label("Platform").select_option(label=platform)
    add.get_by_role("button", name="Add channel").click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    return str(page.url.split("/admin/channels/")[1].split("?")[0])


def _connect(page: Any, fields: dict[str, str]) -> Any:
    connection = page.get_by_role("region", name="Connection")
    for label, value in fields.items():
        connection.get_by_label(label).fill(value)
    connection.get_by_role("button", name="Save connection").click()
    return page.get_by_role("region", name="Connection")


# The form is the same on both databases (the connection is one JSON column): SQLite only.
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_admin_connects_sms_x_and_email_in_the_browser(browser: Any, settings: Settings) -> None:
    smtp_port = free_port()
    rolodex = LiveRolodex(settings, ROLODEX_SMTP_PORT=str(smtp_port)).start()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        created = create_workspace(settings)
        page = context.new_page()
        page.goto(f"{rolodex.url}/admin/channels")
        login(page, "boss@acme.test", LOGIN_PASSWORD)

        # SMS through Twilio: a wrong SID is refused beside its field, the secret not kept.
        sms_id = _add_channel(page, rolodex.url, "Support SMS", "SMS")
        expect(page.get_by_text("enter the details from your Twilio account")).to_be_visible()
        expect(page.get_by_label("Phone number ID")).to_have_count(0)
        connection = _connect(page, {"Account SID": "AC123", "Auth token": TWILIO_TOKEN,
                                     "Twilio phone number": "+15005550006"})  # fmt: skip
        expect(connection.get_by_label("Account SID")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#field-account_sid-error")).to_have_text(
            "An Account SID is AC followed by 32 letters a to f and digits."
        )
        expect(connection.get_by_label("Twilio phone number")).to_have_value("+15005550006")
        expect(connection.get_by_label("Auth token")).to_have_value("")
        assert_accessible(page)
        _connect(page, {"Account SID": SID, "Auth token": TWILIO_TOKEN})
        expect(page.get_by_text("Connected to Twilio.")).to_be_visible()
        webhook = page.get_by_role("region", name="Set up the webhook in Twilio")
        expect(webhook.get_by_role("textbox", name="Webhook URL")).to_have_value(
            f"{rolodex.url}/webhooks/{sms_id}"
        )
        expect(webhook).to_contain_text("A message comes in")
        assert TWILIO_TOKEN not in page.content()
        assert_accessible(page)

        # X direct messages.
        x_id = _add_channel(page, rolodex.url, "Support X", "Twitter/X")
        _connect(page, {"Account user ID": "1234567890", "API key secret": X_SECRET,
                        "Access token": X_TOKEN})  # fmt: skip
        expect(page.get_by_text("Connected to X.")).to_be_visible()
        expect(page.get_by_role("region", name="Set up the webhook in X")).to_contain_text(
            "Account Activity webhook"
        )
        expect(page.get_by_text("Saved — leave empty to keep it.")).to_have_count(2)

        # Email: where mail must reach Rolodex's own SMTP listener.
        mail_id = _add_channel(page, rolodex.url, "Support mail", "Email")
        _connect(page, {"Email address": "help@acme.test", "Sender name": "Acme Help",
                        "SMTP server": "smtp.acme.test", "SMTP port": "587",
                        "SMTP user name": "help", "SMTP password": SMTP_PASSWORD})  # fmt: skip
        expect(
            page.get_by_text("Connected: replies leave through smtp.acme.test:587.")
        ).to_be_visible()
        mail = page.get_by_role("region", name="Receive mail")
        expect(mail.get_by_role("textbox", name="Forward mail for")).to_have_value("help@acme.test")
        expect(mail.get_by_role("textbox", name="To Rolodex's SMTP server")).to_have_value(
            f"127.0.0.1:{smtp_port}"
        )
        page.get_by_role("region", name="Connection").get_by_label("Use STARTTLS").check()
        _connect(page, {})
        expect(page.get_by_role("status").first).to_contain_text("The connection is saved.")
        expect(page.get_by_label("Use STARTTLS")).to_be_checked()
        assert SMTP_PASSWORD not in page.content()
        assert_accessible(page)
        page.set_viewport_size({"width": 800, "height": 800})
        assert_accessible(page)

        with api_client(rolodex.url, created["token"]) as api:
            sms = api.get(f"/api/v1/channels/{sms_id}").json()["connection"]
            x = api.get(f"/api/v1/channels/{x_id}").json()["connection"]
            email = api.get(f"/api/v1/channels/{mail_id}").json()["connection"]
        assert sms == {"provider": "twilio", "account_sid": SID, "from_number": "+15005550006",
                       "api_url": "https://api.twilio.com", "auth_token_set": True}  # fmt: skip
        assert x == {"provider": "x", "account_user_id": "1234567890",
                     "api_url": "https://api.twitter.com", "consumer_secret_set": True,
                     "access_token_set": True}  # fmt: skip
        assert email == {"provider": "smtp", "address": "help@acme.test",
                         "display_name": "Acme Help", "smtp_host": "smtp.acme.test",
                         "smtp_port": 587, "smtp_username": "help", "smtp_starttls": True,
                         "smtp_password_set": True}  # fmt: skip
    finally:
        context.close()
        rolodex.stop()


# The page is the same on both databases (the connection is one JSON column): SQLite only.
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_admin_sets_up_web_chat_and_rotates_its_secret_in_the_browser(
    browser: Any, settings: Settings
) -> None:
    rolodex = LiveRolodex(settings).start()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        created = create_workspace(settings)
        page = context.new_page()
        page.goto(f"{rolodex.url}/admin/channels")
        login(page, "boss@acme.test", LOGIN_PASSWORD)
        chat_id = _add_channel(page, rolodex.url, "Shop chat", "Web chat")
        expect(page.get_by_text("Not connected: list the sites")).to_be_visible()
        expect(page.get_by_role("region", name="Identity verification")).to_have_count(0)

        # A path is refused beside the field; what was typed stays.
        settings_card = page.get_by_role("region", name="Widget settings")
        origins = settings_card.get_by_label("Allowed origins")
        origins.fill("https://shop.example/cart")
        settings_card.get_by_role("button", name="Save settings").click()
        expect(origins).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#webchat-origins-error")).to_contain_text("one origin per line")
        assert_accessible(page)

        origins.fill("https://shop.example\nhttp://127.0.0.1:8123")
        prechat = settings_card.get_by_role("group", name="Pre-chat form")
        prechat.get_by_label("First name").check()
        prechat.get_by_label("Email").check()
        settings_card.get_by_label("Colour").fill("#0a7d4f")
        settings_card.get_by_label("Greeting in English").fill("Hello from the page test!")
        settings_card.get_by_label("Greeting in Spanish").fill("¡Hola desde la prueba!")
        settings_card.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_have_text(
            "The web chat settings of Shop chat are saved."
        )
        install = page.get_by_role("region", name="Add the chat to your site")
        expect(install.get_by_role("textbox", name="Script tag")).to_have_value(
            f'<script src="{rolodex.url}/widget.js" data-channel="{chat_id}" async></script>'
        )
        identity = page.get_by_role("region", name="Identity verification")
        secret_box = identity.get_by_role("textbox", name="Identity secret")
        secret = secret_box.input_value()
        assert re.fullmatch(r"[0-9a-f]{64}", secret)
        for language in ("Python", "Node.js", "PHP"):
            expect(identity.get_by_role("textbox", name=language)).to_contain_text(
                "ROLODEX_IDENTITY_SECRET"
            )
        assert_accessible(page)

        # Rotate asks first; keeping the secret changes nothing, confirming makes a new one.
        identity.get_by_role("button", name="Rotate secret").click()
        question = page.get_by_role("alert").filter(has_text="Rotate the identity secret?")
        expect(question).to_be_visible()
        keep = page.get_by_role("link", name="Keep the current secret")
        expect(keep).to_be_focused()
        assert_accessible(page)
        keep.click()
        expect(secret_box).to_have_value(secret)
        identity.get_by_role("button", name="Rotate secret").click()
        page.get_by_role("button", name="Rotate the secret").click()
        expect(page.get_by_role("status")).to_contain_text("The identity secret is rotated")
        expect(secret_box).not_to_have_value(secret)
        rotated = secret_box.input_value()

        # The live preview: the widget, with the saved colour and greeting, inside the page.
        frame = page.locator("iframe[title='Preview of the chat']")
        frame.scroll_into_view_if_needed()  # the launcher is fixed to the frame's own corner
        preview = frame.content_frame
        launcher = preview.get_by_role("button", name="Open chat")
        launcher.click()
        expect(preview.get_by_text("Hello from the page test!")).to_be_visible()
        page.set_viewport_size({"width": 800, "height": 800})
        assert_accessible(page)

        with api_client(rolodex.url, created["token"]) as api:
            connection = api.get(f"/api/v1/channels/{chat_id}").json()["connection"]
        assert connection["identity_secret"] == rotated
        assert connection["allowed_origins"] == ["https://shop.example", "http://127.0.0.1:8123"]
        assert connection["pre_chat_fields"] == ["first_name", "email"]
        assert connection["color"] == "#0a7d4f"
        assert connection["greeting"] == {
            "en": "Hello from the page test!",
            "es": "¡Hola desde la prueba!",
        }
    finally:
        context.close()
        rolodex.stop()

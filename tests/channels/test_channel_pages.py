"""Admin settings > Channels over HTTP: the list, adding a channel, connecting it through the
form (secrets never written back into the page), field errors, the connection test against the
platform simulator, Disconnect, failed deliveries with Retry, and admins only."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
from pathlib import Path

import httpx
import pytest

from builders import PASSWORD, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.worker import Worker
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

    # A medium with no platform connection here yet says how its messages arrive instead.
    sms = await make_channel(db, admin, "sms", "Texts")
    page = (await client.get(f"/admin/channels/{sms}")).text
    assert "Rolodex cannot connect a SMS channel to its platform from this page yet." in page
    assert f"POST /api/v1/channels/{sms}/inbound" in page
    assert "Save connection" not in page


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

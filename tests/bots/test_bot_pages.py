"""Admin settings > Integrations & API > Virtual agents over HTTP: the list, Add a virtual agent
with its errors beside the fields, a bot's page (settings, the secret with Rotate after a confirm
step, REST credentials shown once, Delete after a confirm step), the plan's message outside
Enterprise, agents refused, Spanish; and in the browser, an admin registers a bot."""

from __future__ import annotations

import base64
import html
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from builders import make_channel, make_conversation, make_user, make_workspace, sign_in
from rolodex.auth.principals import Role
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.plans import Plan
from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login
from support.live import LiveRolodex

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
URL = "https://bots.example.com/events"


def _form(csrf: str, **fields: Any) -> dict[str, Any]:
    return {
        "csrf_token": csrf,
        "name": "Concierge",
        "webhook_url": URL,
        "activation": "inception",
        "handoff": "new_queue",
        "response_timeout_seconds": "300",
        "on_error": "new",
        **fields,
    }


def _status(page: str) -> str:
    found = re.search(r'<p class="status-line" role="status">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def _error(page: str, element_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{element_id}-error">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def _value(page: str, element_id: str) -> str:
    found = re.search(rf'<input id="{element_id}"[^>]*value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else ""


async def test_an_admin_adds_edits_rotates_and_deletes_a_bot(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin, "webchat", "Shop chat")
    sms = await make_channel(db, admin, "sms", "Text us")
    csrf = await sign_in(client, admin.email)
    index = await client.get("/admin")
    assert 'href="/admin/bots">Integrations &amp; API &gt; Virtual agents</a>' in index.text

    empty = await client.get("/admin/bots")
    assert empty.status_code == 200
    assert "No virtual agents yet. Add one below." in empty.text
    for control in ("bot-name", "bot-webhook-url", "bot-timeout"):
        assert f'<label for="{control}">' in empty.text
    assert f'name="channel_ids" value="{chat}"' in empty.text
    assert "Shop chat" in empty.text
    assert "Text us" in empty.text
    assert "before it reaches a team" in empty.text  # activation in plain words

    # Refusals beside the fields; what was typed stays.
    refused = await client.post(
        "/admin/bots",
        data=_form(csrf, name="", webhook_url="", response_timeout_seconds="0"),
    )
    assert refused.status_code == 422
    assert _error(refused.text, "bot-name") == "This field is required."
    assert _error(refused.text, "bot-webhook-url") == "This field is required."
    assert _error(refused.text, "bot-timeout") == "Enter a number of seconds from 1 to 3600."
    assert "The virtual agent was not added; see the messages beside the fields." in refused.text
    assert 'aria-invalid="true"' in refused.text
    unsafe = await client.post(
        "/admin/bots",
        data=_form(csrf, webhook_url="http://127.0.0.1/hook", channel_ids=[sms]),
    )
    assert unsafe.status_code == 422
    assert _error(unsafe.text, "bot-webhook-url")
    assert _value(unsafe.text, "bot-name") == "Concierge"
    assert f'value="{sms}" checked' in unsafe.text
    odd = await client.post("/admin/bots", data=_form(csrf, activation="sometimes"))
    assert odd.status_code == 422
    assert _error(odd.text, "bot-activation").startswith("Choose one of:")
    unknown = await client.post("/admin/bots", data=_form(csrf, channel_ids=["chn_nope"]))
    assert unknown.status_code == 422
    assert _error(unknown.text, "bot-channels") == (
        "There is no channel with this id in the workspace."
    )

    added = await client.post("/admin/bots", data=_form(csrf, channel_ids=[chat]))
    assert added.status_code == 303, added.text
    location = added.headers["location"]
    bot_id = location.split("/")[-1].split("?")[0]
    shown = await client.get(location)
    assert _status(shown.text) == "Concierge VA was added. Set up the bot with its secret below."
    assert "<h1>Concierge VA</h1>" in shown.text
    secret = _value(shown.text, "bot-secret")
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert "No events yet." in shown.text
    assert f'value="{chat}" checked' in shown.text
    listing = await client.get("/admin/bots")
    row = re.search(rf'<a href="/admin/bots/{bot_id}">Concierge VA</a>.*?</tr>', listing.text, re.S)
    assert row
    assert "Inception" in row.group(0)
    assert "Shop chat" in row.group(0)

    # Settings: a bad timeout is refused beside its field; then saved.
    too_long = await client.post(
        f"/admin/bots/{bot_id}", data=_form(csrf, response_timeout_seconds="5000")
    )
    assert too_long.status_code == 422
    assert _error(too_long.text, "bot-timeout") == "Enter a number of seconds from 1 to 3600."
    assert _value(too_long.text, "bot-timeout") == "5000"
    saved = await client.post(
        f"/admin/bots/{bot_id}",
        data=_form(csrf, name="Helper", activation="delegation", handoff="previous_agent",
                   response_timeout_seconds="30", on_error="resolved", channel_ids=[sms]),
    )  # fmt: skip
    assert saved.status_code == 303
    after = await client.get(saved.headers["location"])
    assert _status(after.text) == "Changes to Helper VA are saved."
    bot = (await client.get(f"/api/v1/bots/{bot_id}", headers=admin.headers)).json()
    assert (bot["name"], bot["activation"], bot["handoff"], bot["on_error"]) == (
        "Helper", "delegation", "previous_agent", "resolved"
    )  # fmt: skip
    assert (bot["channel_ids"], bot["response_timeout_seconds"]) == ([sms], 30)

    # Rotate asks first; confirming makes a new secret.
    asked = await client.post(f"/admin/bots/{bot_id}/secret", data={"csrf_token": csrf})
    assert asked.status_code == 200
    assert "Rotate the secret of Helper VA?" in asked.text
    assert _value(asked.text, "bot-secret") == secret
    rotated = await client.post(
        f"/admin/bots/{bot_id}/secret", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert rotated.status_code == 303
    page = await client.get(rotated.headers["location"])
    assert "The secret of Helper VA is rotated" in _status(page.text)
    assert _value(page.text, "bot-secret") not in ("", secret)

    # Credentials: shown once, and they get a token.
    made = await client.post(f"/admin/bots/{bot_id}/credentials", data={"csrf_token": csrf})
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    assert "Copy the client secret now: it is not shown again." in made.text
    client_id = _value(made.text, "bot-client-id")
    client_secret = _value(made.text, "bot-client-secret")
    assert client_id
    assert client_secret
    again = await client.get(f"/admin/bots/{bot_id}")
    assert client_secret not in again.text
    pair = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    token = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {pair}"},
    )
    assert token.status_code == 200, token.text

    # Without the form's CSRF token nothing changes.
    forged = await client.post(f"/admin/bots/{bot_id}/delete", data={"confirm": "yes"})
    assert forged.status_code == 403

    # Delete asks first; confirming removes it and its credentials.
    question = await client.post(f"/admin/bots/{bot_id}/delete", data={"csrf_token": csrf})
    assert "Delete Helper VA? Its REST credentials stop working" in question.text
    deleted = await client.post(
        f"/admin/bots/{bot_id}/delete", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert deleted.status_code == 303
    gone = await client.get(deleted.headers["location"])
    assert _status(gone.text).startswith("The virtual agent was deleted")
    assert "No virtual agents yet." in gone.text
    assert (await client.get(f"/admin/bots/{bot_id}")).status_code == 404
    refused_token = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {pair}"},
    )
    assert refused_token.status_code == 401


async def test_the_plan_message_agents_refused_and_spanish(
    client: httpx.AsyncClient, db: Database
) -> None:
    business = await make_workspace(db, plan=Plan.BUSINESS, name="Smallco")
    csrf = await sign_in(client, business.email)
    gated = await client.get("/admin/bots")
    assert gated.status_code == 200
    assert "Virtual agents come with the Enterprise plan" in gated.text
    assert 'action="/admin/bots"' not in gated.text
    assert (await client.post("/admin/bots", data=_form(csrf))).status_code == 403
    await client.post("/logout", data={"csrf_token": csrf})

    admin = await make_workspace(db)
    bot = await client.post(
        "/api/v1/bots",
        json={"name": "Concierge", "webhook_url": URL, "activation": "delegation"},
        headers=admin.headers,
    )
    bot_id = bot.json()["id"]
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    agent_csrf = await sign_in(client, agent.email)
    assert (await client.get("/admin/bots")).status_code == 403
    assert (await client.get(f"/admin/bots/{bot_id}")).status_code == 403
    assert (await client.post("/admin/bots", data=_form(agent_csrf))).status_code == 403
    refused = await client.post(
        f"/admin/bots/{bot_id}/secret", data={"csrf_token": agent_csrf, "confirm": "yes"}
    )
    assert refused.status_code == 403
    await client.post("/logout", data={"csrf_token": agent_csrf})

    await sign_in(client, admin.email)
    spanish = await client.get("/admin/bots", headers=SPANISH)
    assert "<h1>Agentes virtuales</h1>" in spanish.text
    assert "Añadir un agente virtual" in spanish.text
    one = await client.get(f"/admin/bots/{bot_id}", headers=SPANISH)
    assert "Secreto de firma" in one.text
    assert "Aún no hay eventos." in one.text


# The page is the same on both databases: SQLite only.
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_admin_registers_a_bot_in_the_browser(browser: Any, settings: Settings) -> None:
    rolodex = LiveRolodex(settings).start()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        created = create_workspace(settings)
        with api_client(rolodex.url, created["token"]) as api:
            made = api.post("/api/v1/channels", json={"name": "Shop chat", "medium": "webchat"})
            assert made.status_code == 201, made.text
        page = context.new_page()
        page.goto(f"{rolodex.url}/admin")
        login(page, "boss@acme.test", LOGIN_PASSWORD)
        page.get_by_role("link", name="Integrations & API > Virtual agents").click()
        expect(page.get_by_role("heading", name="Virtual agents", exact=True)).to_be_visible()
        expect(page.get_by_text("No virtual agents yet.")).to_be_visible()
        assert_accessible(page)

        # Blanks pass the browser's own check but not the server's: said beside the field.
        add = page.get_by_role("region", name="Add a virtual agent")
        add.get_by_label("Name", exact=True).fill("   ")
        add.get_by_label("Webhook URL").fill(URL)
        add.get_by_role("button", name="Add virtual agent").click()
        expect(page.locator("#bot-name-error")).to_have_text("This field is required.")
        expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
        assert_accessible(page)

        add = page.get_by_role("region", name="Add a virtual agent")
        add.get_by_label("Name", exact=True).fill("Concierge")
        add.get_by_label("Webhook URL").fill(URL)
        add.get_by_role("group", name="Activation").get_by_label("Delegation").check()
        add.get_by_role("group", name="Channels").get_by_label("Shop chat").check()
        add.get_by_label("Response timeout (seconds)").fill("60")
        add.get_by_role("button", name="Add virtual agent").click()
        expect(page.get_by_role("heading", name="Concierge VA", level=1)).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("Concierge VA was added.")
        secret_box = page.get_by_role("textbox", name="Signing secret")
        secret = secret_box.input_value()
        assert re.fullmatch(r"[0-9a-f]{64}", secret)
        expect(page.get_by_text("No events yet.")).to_be_visible()
        assert_accessible(page)

        # Rotate asks first; keeping changes nothing, confirming makes a new secret.
        page.get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_role("alert").filter(has_text="Rotate the secret of")).to_be_visible()
        keep = page.get_by_role("link", name="Keep the current secret")
        expect(keep).to_be_focused()
        assert_accessible(page)
        keep.click()
        expect(secret_box).to_have_value(secret)
        page.get_by_role("button", name="Rotate secret").click()
        page.get_by_role("button", name="Rotate the secret").click()
        expect(page.get_by_role("status")).to_contain_text("is rotated")
        expect(secret_box).not_to_have_value(secret)

        page.get_by_role("button", name="Create credentials").click()
        client_id = page.get_by_role("textbox", name="Client ID").input_value()
        client_secret = page.get_by_role("textbox", name="Client secret").input_value()
        assert client_id.startswith("cli_")
        assert client_secret
        assert_accessible(page)
        token = httpx.post(
            f"{rolodex.url}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
        )
        assert token.status_code == 200, token.text

        page.get_by_role("link", name="Virtual agents").click()
        expect(page.get_by_role("link", name="Concierge VA")).to_be_visible()
        page.set_viewport_size({"width": 800, "height": 800})
        assert_accessible(page)
    finally:
        context.close()
        rolodex.stop()


async def _bot_headers(client: httpx.AsyncClient, admin: Any, bot_id: str) -> dict[str, str]:
    made = await client.post(f"/api/v1/bots/{bot_id}/credentials", headers=admin.headers)
    assert made.status_code == 201, made.text
    pair = made.json()
    secret = base64.b64encode(f"{pair['client_id']}:{pair['client_secret']}".encode()).decode()
    token = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {secret}"},
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _activity(page: str) -> str:
    found = re.search(r'<section class="card bot-activity".*?</section>', page, re.S)
    assert found, "no Recent activity section"
    return found.group(0)


async def test_the_bot_page_lists_recent_activity_newest_first(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "whatsapp", "WhatsApp")
    await sign_in(client, admin.email)
    made = await client.post(
        "/api/v1/bots",
        json={"name": "Concierge", "webhook_url": URL, "activation": "delegation"},
        headers=admin.headers,
    )
    bot_id = made.json()["id"]
    empty = _activity((await client.get(f"/admin/bots/{bot_id}")).text)
    assert '<h2 id="events-heading">Recent activity</h2>' in empty
    assert "No events yet." in empty
    assert "<table" not in empty

    cid = (await make_conversation(client, admin, channel))["conversation_id"]
    delegated = await client.post(
        f"/api/v1/conversations/{cid}/delegate", json={"bot_id": bot_id}, headers=admin.headers
    )
    assert delegated.status_code == 200, delegated.text
    bot = await _bot_headers(client, admin, bot_id)
    acted = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}",
        json={"applyConversationNotes": ["Asked for the order number"]},
        headers=bot,
    )
    assert acted.status_code < 300, acted.text

    listed = _activity((await client.get(f"/admin/bots/{bot_id}")).text)
    assert "No events yet." not in listed
    rows = re.findall(r"<tr>\s*<td class=\"when-cell\">.*?</tr>", listed, re.S)
    assert rows, listed
    newest = rows[0]
    assert "Action applied" in newest
    assert "applyConversationNotes" in newest
    assert f'<a href="/conversations/{cid}" class="mono">{cid}</a>' in newest
    assert "Done" in newest
    for heading in ("When", "What", "Type", "Conversation", "Outcome", "Detail"):
        assert f'<th scope="col">{heading}</th>' in listed

    spanish = _activity((await client.get(f"/admin/bots/{bot_id}", headers=SPANISH)).text)
    assert "Actividad reciente" in spanish
    assert "Acción aplicada" in spanish


async def test_the_thread_shows_the_bot_its_notes_and_labels_and_works_without_script(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "whatsapp", "WhatsApp")
    csrf = await sign_in(client, admin.email)
    made = await client.post(
        "/api/v1/bots",
        json={"name": "Concierge", "webhook_url": URL, "activation": "delegation"},
        headers=admin.headers,
    )
    bot_id = made.json()["id"]
    topic = await client.post(
        "/api/v1/labels", json={"kind": "topic", "name": "Orders"}, headers=admin.headers
    )
    assert topic.status_code == 201, topic.text
    cid = (await make_conversation(client, admin, channel))["conversation_id"]

    # Open and unheld: Hand to bot lists the workspace's bots; Take back is hidden.
    before = (await client.get(f"/conversations/{cid}")).text
    assert re.search(r'<form [^>]*class="take-back" hidden>', before)
    assert re.search(r'<form [^>]*class="hand-to-bot" >', before)
    assert f'<option value="{bot_id}">Concierge VA</option>' in before
    assert '<ul class="thread-labels" aria-label="Labels" hidden>' in before

    # Without script: the form hands it to the bot (the same call as POST …/delegate).
    version = (await client.get(f"/api/v1/conversations/{cid}", headers=admin.headers)).json()[
        "version"
    ]
    stale = await client.post(
        f"/conversations/{cid}/delegate",
        data={"csrf_token": csrf, "bot_id": bot_id, "version": str(version + 5)},
    )
    assert stale.status_code == 412
    handed = await client.post(
        f"/conversations/{cid}/delegate",
        data={"csrf_token": csrf, "bot_id": bot_id, "version": str(version)},
    )
    assert handed.status_code == 303, handed.text
    bot = await _bot_headers(client, admin, bot_id)
    acted = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}",
        json={"applyConversationNotes": ["Wants a refund"], "applyTopics": ["orders"]},
        headers=bot,
    )
    assert acted.status_code < 300, acted.text

    held = (await client.get(f"/conversations/{cid}")).text
    assert '<span class="thread-assignee is-bot">Assigned to Concierge VA</span>' in held
    assert re.search(r'<form [^>]*class="take-back" >', held)
    assert re.search(r'<form [^>]*class="hand-to-bot" hidden>', held)
    assert (
        '<span class="badge bot-va"><span class="visually-hidden">Assigned to:</span>'
        " Concierge VA</span>"
    ) in held
    note = re.search(r'<li class="message note author-bot"[^>]*>.*?</li>', held, re.S)
    assert note, held
    assert '<p class="note-label">Internal note</p>' in note.group(0)
    assert "Wants a refund" in note.group(0)
    assert '<span class="author">Concierge VA</span>' in note.group(0)
    assert "message-state" not in note.group(0)
    assert (
        '<li class="label-chip kind-topic"><span class="label-kind">Topic</span> Orders</li>'
        in (held)
    )

    # Take back without script: the assignment form's "to me".
    back = await client.post(f"/conversations/{cid}/assign", data={"csrf_token": csrf, "me": "1"})
    assert back.status_code == 303
    detail = (await client.get(f"/api/v1/conversations/{cid}", headers=admin.headers)).json()
    assert (detail["bot_id"], detail["assignee_id"]) == (None, admin.user_id)
    after = (await client.get(f"/conversations/{cid}")).text
    assert '<span class="thread-assignee">Assigned to you</span>' in after
    assert 'class="badge bot-va"' not in after
    refused = await client.post(
        f"/inbox/v1/virtual-agent/conversations/{cid}",
        json={"sendMessage": {"text": "Still there?"}},
        headers=bot,
    )
    assert refused.status_code == 404

    spanish = (await client.get(f"/conversations/{cid}", headers=SPANISH)).text
    assert "Pasar al bot" in spanish
    assert "Recuperar" in spanish
    assert "Nota interna" in spanish

"""Contact groups, routing and prioritization, and the queue, as people use them (issue 16).

Rules read with labels, a dropdown's rule value is picked from its options, groups are edited
in place, problems are written beside their field (an old success line goes), the page stays
inside its cards at 800 px, both pages pass axe-core, and both speak Spanish.
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login

AGENT_EMAIL = "vic@acme.test"
AGENT_PASSWORD = "vic-password"
NARROW = {"width": 800, "height": 900}
WIDE = {"width": 1280, "height": 800}

# Elements of a card that stick out of it (sideways), by id or tag: none may.
OUTSIDE_CARDS = """() => [...document.querySelectorAll('.card')].flatMap((card) => {
  const box = card.getBoundingClientRect();
  return [...card.querySelectorAll('*')].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && (r.right > box.right + 0.5 || r.left < box.left - 0.5);
  }).map((el) => el.id || el.tagName.toLowerCase());
})"""


def _setup(admin: httpx.Client) -> dict[str, Any]:
    attributes = [
        {"label": "Country", "key": "country", "type": "text"},
        {"label": "Plan", "key": "plan", "type": "dropdown", "options": ["Gold", "Silver"]},
        {"label": "Seats", "key": "seats", "type": "text", "format": "number"},
    ]
    for body in attributes:
        created = admin.post("/api/v1/attributes", json=body)
        assert created.status_code == 201, created.text
    team = admin.post("/api/v1/teams", json={"name": "Iberia desk"})
    assert team.status_code == 201, team.text
    channel = admin.post("/api/v1/channels", json={"medium": "webchat", "name": "Chat"})
    assert channel.status_code == 201, channel.text
    group = {
        "name": "Spain",
        "rules": [
            {"attribute": "country", "operator": "is", "value": "ES"},
            {"attribute": "seats", "operator": "gte", "value": 10},
        ],
    }
    assert admin.post("/api/v1/contact-groups", json=group).status_code == 201
    user = {"email": AGENT_EMAIL, "name": "Vic", "role": "agent", "password": AGENT_PASSWORD}
    assert admin.post("/api/v1/users", json=user).status_code == 201
    return {"team": team.json()["id"], "channel": channel.json()["id"]}


def _check_layout(page: Any) -> None:
    assert_accessible(page)
    page.set_viewport_size(NARROW)
    assert page.evaluate(OUTSIDE_CARDS) == []
    assert_accessible(page)
    page.set_viewport_size(WIDE)


def test_rules_read_with_labels_and_a_group_is_edited_in_place(page: Any, live_server: Any) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        _setup(admin)
        page.goto(f"{live_server.url}/admin/routing")
        login(page, "boss@acme.test", LOGIN_PASSWORD)
        groups = page.get_by_role("region", name="Contact groups")
        spain = groups.locator('li[data-key="spain"]')
        # Labels, not keys, and operators as people say them.
        expect(spain).to_contain_text("Every rule: Country is ES; Seats is at least 10")
        _check_layout(page)

        spain.get_by_role("button", name="Edit group Spain").click()
        editor = spain.get_by_role("form")
        expect(editor.get_by_label("Name")).to_be_focused()
        expect(editor.get_by_label("Name")).to_have_value("Spain")
        expect(editor.get_by_label("Rule 2 operator")).to_have_value("gte")
        _check_layout(page)  # the rules box stays inside its card, editor open

        editor.get_by_label("Name").fill("Iberia")
        editor.get_by_label("Rule 1 attribute").select_option("plan")
        # A dropdown's value is picked from its options, not typed.
        value = editor.get_by_label("Rule 1 value")
        expect(value).to_have_js_property("tagName", "SELECT")
        options = value.locator("option").all_inner_texts()
        assert options == ["Choose a value", "Gold", "Silver"]
        value.select_option("Gold")
        operators = editor.get_by_label("Rule 1 operator").locator("option").all_inner_texts()
        assert operators == ["is", "is any of", "has a value"]
        editor.get_by_label("Remove rule 2").click()
        editor.get_by_label("Contacts must match").select_option("any")
        editor.get_by_label("Group is on").uncheck()
        editor.get_by_role("button", name="Save group").click()

        expect(spain).to_contain_text("Iberia")
        expect(spain).to_contain_text("Any rule: Plan is Gold")
        expect(spain).to_contain_text("Off")
        expect(spain.get_by_role("status")).to_have_text("Group Iberia saved.")
        expect(spain.get_by_role("form")).to_have_count(0)
        saved = admin.get("/api/v1/contact-groups/spain").json()
        assert saved["name"] == "Iberia"
        assert saved["match"] == "any"
        assert saved["enabled"] is False
        assert saved["rules"] == [{"attribute": "plan", "operator": "is", "value": "Gold"}]
        audit = admin.get("/api/v1/audit-events").json()["items"]
        assert "contact_group.updated" in [e["action"] for e in audit]

        # Any of a dropdown's options: several picked from a list.
        spain.get_by_role("button", name="Edit group Iberia").click()
        editor = spain.get_by_role("form")
        editor.get_by_label("Rule 1 operator").select_option("any_of")
        editor.get_by_label("Rule 1 values").select_option(["Gold", "Silver"])
        editor.get_by_label("Group is on").check()
        editor.get_by_role("button", name="Save group").click()
        expect(spain).to_contain_text("Any rule: Plan is any of Gold, Silver")
        saved = admin.get("/api/v1/contact-groups/spain").json()
        assert saved["rules"] == [
            {"attribute": "plan", "operator": "any_of", "value": ["Gold", "Silver"]}
        ]
        assert saved["enabled"] is True

        # Cancel leaves the group as it was and the form goes back under the list.
        spain.get_by_role("button", name="Edit group Iberia").click()
        spain.get_by_label("Name").fill("Changed my mind")
        spain.get_by_role("button", name="Cancel").click()
        expect(spain).to_contain_text("Iberia")
        expect(groups.get_by_role("heading", name="Add group")).to_be_visible()
        assert admin.get("/api/v1/contact-groups/spain").json()["name"] == "Iberia"

        # A delete is confirmed in the reader's words and told where the group was.
        page.once("dialog", lambda dialog: dialog.accept())
        groups.get_by_role("button", name="Delete group Iberia").click()
        expect(groups.locator("#groups-status")).to_have_text("Group Iberia deleted.")
        expect(spain).to_have_count(0)
        assert admin.get("/api/v1/contact-groups/spain").status_code == 404


def test_problems_are_written_beside_their_field_and_clear_the_old_success_line(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        ids = _setup(admin)
        page.goto(f"{live_server.url}/admin/routing")
        login(page, "boss@acme.test", LOGIN_PASSWORD)
        groups = page.get_by_role("region", name="Contact groups")
        routing = page.get_by_role("region", name="Routing")
        priority = page.get_by_role("region", name="Prioritization")

        routing.get_by_label("Spain goes to").select_option(label="Iberia desk")
        routing.get_by_role("button", name="Save routing").click()
        expect(routing.get_by_role("status")).to_have_text("Routing saved.")
        assert admin.get("/api/v1/settings/routing").json()["group_routes"] == [
            {"group": "spain", "team_id": ids["team"]}
        ]

        # A number over the limit: the server's message for people, beside the points.
        priority.get_by_label("Chat", exact=True).check()
        priority.get_by_label("Chat points").fill("5000")
        priority.get_by_role("button", name="Save prioritization").click()
        error = priority.locator(f"#pc-{ids['channel']}-error")
        expect(error).to_have_text("Enter 1000 or less.")
        expect(priority.get_by_label("Chat points")).to_have_attribute("aria-invalid", "true")
        expect(routing.get_by_role("status")).to_have_text("")  # the old success line is gone
        expect(page.get_by_text("prioritized_channel_ids")).to_have_count(0)  # no raw paths
        priority.get_by_label("Chat points").fill("2")
        priority.get_by_role("button", name="Save prioritization").click()
        expect(priority.get_by_role("status")).to_have_text("Prioritization saved.")
        expect(error).to_be_hidden()

        # The page's own checks, then the server's (a name another group has), beside fields.
        form = groups.get_by_role("form", name="Add group")
        form.get_by_role("button", name="Add group").click()
        expect(form.locator("#group-name-error")).to_have_text("Enter a name for the group.")
        expect(form.locator("#rule-0-error")).to_have_text("Choose an attribute.")
        expect(priority.get_by_role("status")).to_have_text("")
        expect(form.get_by_label("Name")).to_be_focused()
        form.get_by_label("Name").fill("spain")
        form.get_by_label("Rule 1 attribute").select_option("seats")
        form.get_by_label("Rule 1 operator").select_option("gt")
        form.get_by_label("Rule 1 value").fill("3")
        form.get_by_role("button", name="Add group").click()
        expect(form.locator("#group-name-error")).to_have_text(
            "Another group is already called spain."
        )
        expect(form.locator("#rule-0-error")).to_be_hidden()
        form.get_by_label("Name").fill("Big accounts")
        form.get_by_role("button", name="Add group").click()
        expect(form.get_by_role("status")).to_have_text("Group Big accounts added.")
        expect(form.locator("#group-name-error")).to_be_hidden()
        expect(groups.locator('li[data-key="big_accounts"]')).to_contain_text(
            "Every rule: Seats is more than 3"
        )

        # A refused delete is told beside the group it is about.
        page.once("dialog", lambda dialog: dialog.accept())
        groups.get_by_role("button", name="Delete group Spain").click()
        refusal = groups.locator("#group-spain-error")
        expect(refusal).to_contain_text("Routing or prioritization uses the group Spain")
        expect(form.get_by_role("status")).to_have_text("")
        _check_layout(page)


def _inbound(admin: httpx.Client, channel_id: str, sender: str) -> dict[str, Any]:
    body = {"external_message_id": f"m-{sender}", "sender": {"id": sender}, "text": "Hello"}
    response = admin.post(f"/api/v1/channels/{channel_id}/inbound", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_queue_explains_each_score_in_words_for_admins_and_agents(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        ids = _setup(admin)
        other = admin.post("/api/v1/teams", json={"name": "Nobody"}).json()["id"]
        routing = {
            "prioritized_groups": [{"group": "vip", "weight": 5}, {"group": "spain", "weight": 3}],
            "prioritized_channel_ids": [{"channel_id": ids["channel"], "weight": 2}],
            "group_routes": [{"group": "spain", "team_id": ids["team"]}],
        }
        assert admin.patch("/api/v1/settings/routing", json=routing).status_code == 200
        olga = _inbound(admin, ids["channel"], "olga")
        values = {"attributes": {"vip": True, "country": "es", "seats": "12"}}
        written = admin.patch(f"/api/v1/contacts/{olga['contact_id']}/attributes", json=values)
        assert written.status_code == 200, written.text
        pere = _inbound(admin, ids["channel"], "pere")
        moved = admin.patch(
            f"/api/v1/conversations/{pere['conversation_id']}", json={"team_id": ids["team"]}
        )
        assert moved.status_code == 200, moved.text

    for email, password in (("boss@acme.test", LOGIN_PASSWORD), (AGENT_EMAIL, AGENT_PASSWORD)):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/queue")
        login(page, email, password)
        queue = page.get_by_role("list", name="Queue")
        first = queue.get_by_role("listitem").first
        expect(first).to_contain_text("olga")
        expect(first.locator(".priority")).to_have_text("Priority 10")
        expect(first).to_contain_text("VIP: +5, Group Spain: +3, Channel Chat: +2")
        expect(first).not_to_contain_text("group:")
        expect(queue.get_by_role("listitem").nth(1)).to_contain_text("Channel Chat: +2")
        expect(first).to_contain_text("waiting since")
        _check_layout(page)

        # The team filter applies when chosen; an empty result says so and offers a way back.
        page.get_by_label("Team").select_option(label="Nobody")
        expect(page).to_have_url(f"{live_server.url}/queue?team_id={other}")
        empty = page.get_by_role("heading", name="No new conversation in this team's queue")
        expect(empty).to_be_visible()
        page.get_by_role("link", name="Show every team").click()
        expect(page.get_by_role("list", name="Queue").get_by_role("listitem")).to_have_count(2)
        page.get_by_label("Team").select_option(label="Iberia desk")
        expect(page.get_by_role("list", name="Queue").get_by_role("listitem")).to_have_count(1)
        _check_layout(page)


def test_both_pages_speak_spanish(page: Any, live_server: Any) -> None:
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        ids = _setup(admin)
        admin.patch("/api/v1/settings/routing", json={"prioritized_groups": ["vip"]})
        olga = _inbound(admin, ids["channel"], "olga")
        admin.patch(
            f"/api/v1/contacts/{olga['contact_id']}/attributes", json={"attributes": {"vip": True}}
        )

    page.goto(f"{live_server.url}/login?next=/admin/routing")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    page.context.set_extra_http_headers({"Accept-Language": "es-ES,es;q=0.9"})
    page.goto(f"{live_server.url}/admin/routing")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Grupos de contacto, enrutamiento y priorización"
    )
    groups = page.get_by_role("region", name="Grupos de contacto")
    spain = groups.locator('li[data-key="spain"]')
    expect(spain).to_contain_text("Todas las reglas: Country es ES; Seats es al menos 10")
    expect(groups.locator('li[data-key="vip"]')).to_contain_text("Contactos marcados como VIP.")
    spain.get_by_role("button", name="Editar el grupo Spain").click()
    operators = spain.get_by_label("Condición de la regla 2").locator("option").all_inner_texts()
    assert operators == [
        "es",
        "es mayor que",
        "es al menos",
        "es menor que",
        "es como máximo",
        "tiene un valor",
    ]
    spain.get_by_label("Nombre").fill("")
    spain.get_by_role("button", name="Guardar grupo").click()
    expect(spain.locator("#group-name-error")).to_have_text("Escribe un nombre para el grupo.")
    routing = page.get_by_role("region", name="Enrutamiento")
    routing.get_by_role("button", name="Guardar enrutamiento").click()
    expect(routing.get_by_role("status")).to_have_text("Enrutamiento guardado.")
    assert_accessible(page)

    page.goto(f"{live_server.url}/queue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cola")
    first = page.get_by_role("list", name="Cola").get_by_role("listitem").first
    expect(first.locator(".priority")).to_have_text("Prioridad 1")
    expect(first).to_contain_text("VIP: +1")
    expect(first).to_contain_text("esperando desde")
    assert_accessible(page)

"""People in a real Chromium: a Spanish login, the profile's language, Account, Users & teams (B10).

Each page is checked with axe-core at 1280 and 800 px (tests/support/axe.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from playwright.sync_api import expect

from rolodex import i18n
from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login

WIDTHS = (1280, 800)


def in_spanish(message: str) -> str:
    """The catalog's Spanish for a message id (the id itself while it has none)."""
    with Path(str(i18n.CATALOG).format(locale="es")).open("rb") as po:
        found = read_po(po, locale="es").get(message)
    return str(found.string) if found is not None and found.string else message


def check_at_both_widths(page: Any) -> None:
    """axe-core finds nothing serious and nothing is wider than the window, at 1280 and 800 px."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def _agent(live_server: Any, token: str, email: str = "nora@acme.test") -> str:
    with api_client(live_server.url, token) as admin:
        body = {"email": email, "name": "Nora", "role": "agent", "password": LOGIN_PASSWORD}
        created = admin.post("/api/v1/users", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


def test_a_spanish_browser_logs_in_in_spanish_and_switches_to_english(
    browser: Any, live_server: Any
) -> None:
    create_workspace(live_server.settings)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, extra_http_headers={"Accept-Language": "es-ES"}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Inicia sesión en Rolodex")).to_be_visible()
    check_at_both_widths(page)

    page.get_by_label("Correo electrónico").fill("boss@acme.test")
    page.get_by_label("Contraseña").fill("wrong-password")
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("alert")).to_have_text(
        "El correo electrónico o la contraseña no son correctos."
    )
    page.get_by_label("Contraseña").fill(LOGIN_PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("heading", name="Configuración de administrador")).to_be_visible()
    nav = page.get_by_role("navigation", name=in_spanish("Main"))
    for label in ("Agent workspace", "Admin settings", "Exports", "Privacy & security"):
        expect(nav.get_by_role("link", name=in_spanish(label), exact=True)).to_be_visible()
    main = page.get_by_role("main")
    for label in ("Account", "Users & teams"):
        expect(main.get_by_role("link", name=in_spanish(label), exact=True)).to_be_visible()
    expect(main).not_to_contain_text("Users & teams")
    check_at_both_widths(page)

    nav.get_by_role(
        "link", name="Admin", exact=True
    ).click()  # the person's own name leads to the profile
    expect(page.get_by_role("heading", name="Tu perfil")).to_be_visible()
    language = page.get_by_label("Idioma", exact=True)
    expect(language).to_have_value("")
    expect(language.locator("option:checked")).to_have_text("El idioma de tu navegador (Español)")
    check_at_both_widths(page)
    language.select_option(label="English")
    page.get_by_label("Zona horaria", exact=True).select_option("America/Mexico_City")
    page.get_by_role("button", name="Guardar").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your language and time zone are saved.")
    expect(page.locator("html")).to_have_attribute("data-time-zone", "America/Mexico_City")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Admin settings")).to_be_visible()
    nav.get_by_role("link", name="Admin settings").click()
    expect(page.get_by_role("heading", name="Admin settings")).to_be_visible()
    expect(page.get_by_role("link", name="Users & teams")).to_be_visible()
    context.close()


def test_the_account_page_shows_the_plan_and_sets_the_workspace_zone(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings, plan="business")
    agent_id = _agent(live_server, created["token"])
    assert agent_id
    page.goto(f"{live_server.url}/login")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin settings").click()
    page.get_by_role("link", name="Account", exact=True).click()
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()
    expect(page.get_by_text("Business plan")).to_be_visible()
    features = page.get_by_role("table", name="What your plan includes")
    webhooks = features.get_by_role("row", name=re.compile("^Webhooks"))
    expect(webhooks).to_contain_text("Included")
    expect(webhooks).to_contain_text("Business and Enterprise")
    vip = features.get_by_role("row", name=re.compile("^VIP contacts"))
    expect(vip).to_contain_text("Not included")
    expect(vip).to_contain_text("Enterprise")
    check_at_both_widths(page)

    page.get_by_label("Workspace time zone").select_option("Europe/Madrid")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text(
        "The workspace's time zone is saved: Europe/Madrid."
    )
    # People without a zone of their own now see the workspace's.
    page.goto(f"{live_server.url}/profile")
    expect(page.locator("html")).to_have_attribute("data-time-zone", "Europe/Madrid")
    expect(page.get_by_label("Time zone", exact=True).locator("option:checked")).to_have_text(
        "The workspace's time zone (Europe/Madrid)"
    )


def test_an_admin_edits_deactivates_and_builds_teams_in_users_and_teams(
    page: Any, live_server: Any
) -> None:
    created = create_workspace(live_server.settings)
    agent_id = _agent(live_server, created["token"])
    with api_client(live_server.url, created["token"]) as admin:
        token = admin.post("/api/v1/auth/token", json={
            "email": "nora@acme.test", "password": LOGIN_PASSWORD,
        }).json()["access_token"]  # fmt: skip
    page.goto(f"{live_server.url}/admin")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    page.get_by_role("link", name="Users & teams").click()
    expect(page.get_by_role("heading", name="Users & teams")).to_be_visible()
    check_at_both_widths(page)

    # A bad address is explained beside its field, in words for people.
    page.get_by_label("Name", exact=True).fill("Theo")
    page.get_by_label("Email", exact=True).fill("theo@")
    page.get_by_label("Password", exact=True).fill("theo-password")
    page.get_by_label("Email", exact=True).evaluate("e => e.type = 'text'")  # past the browser
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_label("Email", exact=True)).to_have_accessible_description(
        "Enter a valid email address, such as ana@example.com."
    )
    check_at_both_widths(page)

    page.get_by_role("link", name="Edit Nora").click()
    expect(page.get_by_role("heading", name="Edit Nora")).to_be_visible()
    check_at_both_widths(page)
    page.get_by_label("Name", exact=True).fill("Nora Díaz")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Changes to Nora Díaz are saved.")
    expect(page.get_by_role("cell", name="Nora Díaz", exact=True)).to_be_visible()

    page.get_by_role("link", name="Edit Nora Díaz").click()
    page.get_by_role("button", name="Deactivate Nora Díaz").click()
    expect(page.get_by_role("status")).to_contain_text("Nora Díaz is deactivated")
    row = page.get_by_role("row", name=re.compile("Nora Díaz"))
    expect(row).to_contain_text("Deactivated")
    with api_client(live_server.url, token) as nora:
        assert nora.get("/api/v1/me").status_code == 401

    # Teams: created with members, then renamed and given other members.
    page.get_by_label("Team name").fill("Front desk")
    page.get_by_role("group", name="Members").get_by_label("Admin", exact=True).check()
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_have_text("Team Front desk was created.")
    expect(page.get_by_role("listitem").filter(has_text="Front desk")).to_contain_text("Admin")
    page.get_by_role("link", name="Edit team Front desk").click()
    check_at_both_widths(page)
    page.get_by_label("Team name").fill("VIP desk")
    members = page.get_by_role("group", name="Members")
    expect(members.get_by_label("Nora Díaz (deactivated)")).to_have_count(0)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Changes to team VIP desk are saved.")
    with api_client(live_server.url, created["token"]) as admin:
        teams = admin.get("/api/v1/teams").json()["items"]
        assert [(t["name"], t["member_ids"]) for t in teams] == [
            ("VIP desk", [created["admin_user_id"]])
        ]
        assert admin.get(f"/api/v1/users/{agent_id}").json()["active"] is False


def test_an_agent_has_a_profile_and_no_admin_pages(page: Any, live_server: Any) -> None:
    created = create_workspace(live_server.settings)
    _agent(live_server, created["token"])
    page.goto(f"{live_server.url}/login")
    login(page, "nora@acme.test", LOGIN_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Admin settings")).to_have_count(0)
    nav.get_by_role("link", name="Nora", exact=True).click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    check_at_both_widths(page)
    page.get_by_label("Language", exact=True).select_option(label="Español")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Tu perfil")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Se guardaron tu idioma y tu zona horaria.")
    check_at_both_widths(page)

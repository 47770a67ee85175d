"""Admin settings > Contact attributes and the agent's Contact tab, in a real Chromium (issue 4).

Data is set up the way an operator and an integration do it: the CLI makes the
workspace, the REST API (over HTTP, with the admin's token) makes channels,
attributes, agents and inbound messages. The people then use the pages.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from rolodex import i18n
from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, api_client, create_workspace, login

AGENT_EMAIL = "nora@acme.test"
AGENT_PASSWORD = "nora-password"


@dataclass
class Scene:
    """A workspace seen from outside: the admin's API client and the server's address."""

    url: str
    admin: httpx.Client

    def channel(self, name: str, medium: str = "webchat") -> str:
        """A new channel; its id."""
        response = self.admin.post("/api/v1/channels", json={"medium": medium, "name": name})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def conversation(self, channel_id: str, sender: str, attributes: dict[str, Any]) -> str:
        """An inbound message from a sender with platform attributes; the conversation id."""
        body = {
            "external_message_id": f"{channel_id}-{sender}",
            "sender": {"id": sender, "attributes": attributes},
            "text": "Hello, I need help with my order",
        }
        response = self.admin.post(f"/api/v1/channels/{channel_id}/inbound", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["conversation_id"])

    def custom(self, label: str, **extra: Any) -> dict[str, Any]:
        """A custom attribute made through the API."""
        response = self.admin.post(
            "/api/v1/attributes", json={"label": label, "type": "text", **extra}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def keys(self) -> list[str]:
        """The attribute keys in the admin's order, as the API reports them."""
        response = self.admin.get("/api/v1/attributes")
        assert response.status_code == 200, response.text
        data = response.json()
        items = data if isinstance(data, list) else data["items"]
        return [item["key"] for item in items]

    def agent(self) -> None:
        """An agent who logs in with AGENT_EMAIL / AGENT_PASSWORD."""
        body = {
            "email": AGENT_EMAIL,
            "name": "Nora Agent",
            "role": "agent",
            "password": AGENT_PASSWORD,
        }
        response = self.admin.post("/api/v1/users", json=body)
        assert response.status_code == 201, response.text


@pytest.fixture
def scene(live_server: Any) -> Iterator[Scene]:
    """An enterprise workspace with an agent, and the admin's API client."""
    created = create_workspace(live_server.settings)
    with api_client(live_server.url, created["token"]) as admin:
        made = Scene(live_server.url, admin)
        made.agent()
        yield made


@pytest.fixture
def agent_page(browser: Any) -> Iterator[Any]:
    """A second person's browser (own cookies), beside the admin's `page`."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def open_settings(page: Any, scene: Scene) -> Any:
    """The admin logs in on the Contact attributes page; returns its attribute list."""
    page.goto(f"{scene.url}/admin/contact-attributes")
    login(page, "boss@acme.test", LOGIN_PASSWORD)
    expect(page.get_by_role("heading", name="Contact attributes", exact=True)).to_be_visible()
    listing = page.get_by_role("list", name="Attributes in the Contact tab")
    expect(listing.get_by_role("listitem").first).to_be_visible()
    return listing


def open_conversation(page: Any, scene: Scene, conversation_id: str, *, log_in: bool) -> Any:
    """The agent opens a conversation; returns its loaded Contact tab."""
    page.goto(f"{scene.url}/conversations/{conversation_id}")
    if log_in:
        login(page, AGENT_EMAIL, AGENT_PASSWORD)
    tab = page.get_by_role("complementary", name="Contact tab")
    expect(tab.locator(".contact-tab-body")).to_have_attribute("aria-busy", "false")
    return tab


def row(container: Any, name: str) -> Any:
    """The admin list's item named by an attribute's label."""
    return container.get_by_role("listitem", name=name, exact=True)


def field(tab: Any, label: str) -> Any:
    """The Contact tab's item of one attribute: the one showing its label."""
    values = tab.get_by_role("list", name="Contact attributes")
    return values.get_by_role("listitem").filter(has=tab.page.get_by_text(label, exact=True))


def test_admin_drags_an_attribute_and_the_agent_sees_the_new_order(
    page: Any, agent_page: Any, scene: Scene
) -> None:
    channel = scene.channel("Website")
    account = scene.custom("Account id")
    title = scene.custom("Job title")
    conversation = scene.conversation(channel, "visitor-1", {"email": "ana@example.com"})

    tab = open_conversation(agent_page, scene, conversation, log_in=True)
    expect(tab.get_by_role("listitem")).to_contain_text(["Account id", "Job title"])

    listing = open_settings(page, scene)
    row(listing, "Job title").drag_to(row(listing, "Account id"))
    # The result shows in the moved row, where the admin is looking.
    expect(row(listing, "Job title").get_by_role("status")).to_contain_text(
        "Job title moved to position"
    )
    keys = scene.keys()
    assert keys.index(title["key"]) < keys.index(account["key"])

    agent_page.reload()
    tab = agent_page.get_by_role("complementary", name="Contact tab")
    expect(tab.get_by_role("listitem")).to_contain_text(["Job title", "Account id"])


def test_move_buttons_reorder_for_keyboard_users(page: Any, scene: Scene) -> None:
    scene.channel("Website")
    first = scene.custom("Account id")
    second = scene.custom("Job title")
    scene.custom("Region")

    listing = open_settings(page, scene)
    move_down = row(listing, "Account id").get_by_role("button", name="Move down")
    move_down.focus()
    page.keyboard.press("Enter")
    expect(row(listing, "Account id").get_by_role("status")).to_contain_text(
        "Account id moved to position"
    )
    keys = scene.keys()
    assert keys.index(second["key"]) < keys.index(first["key"])
    # Focus stays on the moved attribute's button, so pressing again keeps moving it.
    expect(row(listing, "Account id").get_by_role("button", name="Move down")).to_be_focused()


def test_toggling_an_attribute_off_hides_it_from_the_contact_tab(
    page: Any, agent_page: Any, scene: Scene
) -> None:
    channel = scene.channel("Website")
    scene.custom("Account id")
    conversation = scene.conversation(channel, "visitor-1", {"email": "ana@example.com"})
    tab = open_conversation(agent_page, scene, conversation, log_in=True)
    expect(field(tab, "Account id")).to_be_visible()

    listing = open_settings(page, scene)
    toggle = row(listing, "Account id").get_by_role("checkbox", name="Show Account id")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    expect(row(listing, "Account id").get_by_role("status")).to_contain_text(
        "Account id is hidden from the Contact tab"
    )

    tab = open_conversation(agent_page, scene, conversation, log_in=False)
    expect(field(tab, "Web chat email")).to_be_visible()
    expect(field(tab, "Account id")).to_have_count(0)

    page.reload()
    expect(page.get_by_role("checkbox", name="Show Account id")).not_to_be_checked()


def test_a_platform_attribute_hidden_on_one_channel_only(
    page: Any, agent_page: Any, scene: Scene
) -> None:
    europe = scene.channel("Web EU")
    america = scene.channel("Web US")
    in_europe = scene.conversation(europe, "visitor-eu", {"email": "eu@example.com"})
    in_america = scene.conversation(america, "visitor-us", {"email": "us@example.com"})

    listing = open_settings(page, scene)
    email = row(listing, "Web chat email")
    expect(email.get_by_text("Platform", exact=True)).to_be_visible()
    email.get_by_role("checkbox", name="Show Web chat email on Web EU").uncheck()
    expect(email.get_by_role("status")).to_contain_text("Web chat email is hidden on Web EU")
    expect(email.get_by_role("checkbox", name="Show Web chat email on Web US")).to_be_checked()

    tab = open_conversation(agent_page, scene, in_europe, log_in=True)
    expect(field(tab, "Web chat email")).to_have_count(0)
    tab = open_conversation(agent_page, scene, in_america, log_in=False)
    expect(field(tab, "Web chat email")).to_contain_text("us@example.com")


def test_admin_creates_a_dropdown_and_the_agent_picks_a_value_that_persists(
    page: Any, agent_page: Any, scene: Scene
) -> None:
    channel = scene.channel("Website")
    conversation = scene.conversation(channel, "visitor-1", {"email": "ana@example.com"})

    listing = open_settings(page, scene)
    page.get_by_role("button", name="Add attribute").click()
    form = page.get_by_role("dialog", name="Add attribute")
    form.get_by_label("Label").fill("Plan tier")
    form.get_by_label("Dropdown list").check()
    form.get_by_label("Options").fill("Gold")
    form.get_by_role("button", name="Add attribute").click()
    # The server refuses a dropdown with one option; the page says so beside the field.
    expect(form.get_by_role("alert")).to_be_visible()
    expect(form.get_by_label("Options")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("Options").fill("Gold\nSilver\nBronze")
    form.get_by_role("button", name="Add attribute").click()
    expect(row(listing, "Plan tier")).to_contain_text("Dropdown list")
    expect(form).to_be_hidden()
    expect(row(listing, "Plan tier").get_by_role("status")).to_have_text(
        "Plan tier was added at the end of the list."
    )

    tab = open_conversation(agent_page, scene, conversation, log_in=True)
    # A dropdown value saves on change (the agent workspace's rule, issue 16).
    tab.get_by_label("Plan tier").select_option("Silver")
    expect(tab.get_by_role("status")).to_have_text("Plan tier saved.")

    agent_page.reload()
    tab = agent_page.get_by_role("complementary", name="Contact tab")
    expect(tab.get_by_label("Plan tier")).to_have_value("Silver")
    expect(field(tab, "Plan tier")).to_contain_text("Agent")
    tab.get_by_text("History", exact=True).click()
    expect(tab.get_by_role("list", name="Value history")).to_contain_text("Silver")


def test_a_bad_value_is_refused_inline(agent_page: Any, scene: Scene) -> None:
    channel = scene.channel("Website")
    scene.custom("Work email", format="email")
    conversation = scene.conversation(channel, "visitor-1", {"email": "ana@example.com"})

    tab = open_conversation(agent_page, scene, conversation, log_in=True)
    tab.get_by_label("Work email").fill("not an email")
    field(tab, "Work email").get_by_role("button", name="Save").click()
    expect(field(tab, "Work email").get_by_role("alert")).to_be_visible()
    expect(tab.get_by_label("Work email")).to_have_attribute("aria-invalid", "true")

    tab.get_by_label("Work email").fill("ana@work.example")
    field(tab, "Work email").get_by_role("button", name="Save").click()
    expect(tab.get_by_role("status")).to_have_text("Work email saved.")
    expect(field(tab, "Work email").get_by_role("alert")).to_have_count(0)


def test_an_agent_sees_a_platform_attribute_as_read_only(agent_page: Any, scene: Scene) -> None:
    channel = scene.channel("Website")
    scene.custom("Account id")
    conversation = scene.conversation(channel, "visitor-1", {"email": "ana@example.com"})

    tab = open_conversation(agent_page, scene, conversation, log_in=True)
    email = field(tab, "Web chat email")
    expect(email).to_contain_text("ana@example.com")
    expect(email).to_contain_text("Read-only")
    expect(email).to_have_attribute("title", re.compile("Platform"))
    expect(email.get_by_role("textbox")).to_have_count(0)
    expect(email.get_by_role("button")).to_have_count(0)
    expect(tab.get_by_label("Account id")).to_be_editable()

    agent_page.goto(f"{scene.url}/admin/contact-attributes")
    expect(agent_page.get_by_role("alert")).to_contain_text("Only workspace admins")


def test_admin_renames_and_deletes_a_custom_attribute(page: Any, scene: Scene) -> None:
    scene.channel("Website")
    scene.custom("Account id")
    scene.custom("Job title")

    listing = open_settings(page, scene)
    row(listing, "Account id").get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit Account id")
    dialog.get_by_label("Label").fill("job TITLE")  # another attribute's label
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Another attribute is already called “job TITLE”. Choose another label."
    )
    dialog.get_by_label("Label").fill("Customer number")
    dialog.get_by_role("button", name="Save changes").click()
    expect(row(listing, "Customer number")).to_be_visible()
    # The result beside the row, and focus back on its Edit button.
    expect(row(listing, "Customer number").get_by_role("status")).to_have_text(
        "Customer number saved."
    )
    expect(row(listing, "Customer number").get_by_role("button", name="Edit")).to_be_focused()
    expect(row(listing, "Web chat email").get_by_role("button", name="Delete")).to_have_count(0)

    row(listing, "Job title").get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete Job title?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(row(listing, "Job title")).to_be_visible()

    row(listing, "Job title").get_by_role("button", name="Delete").click()
    confirm.get_by_role("button", name="Delete attribute").click()
    expect(page.locator("#list-status")).to_have_text("Job title deleted.")
    expect(row(listing, "Job title")).to_have_count(0)
    page.reload()
    expect(row(listing, "Customer number")).to_be_visible()
    expect(row(listing, "Job title")).to_have_count(0)


def test_removing_an_option_in_use_asks_before_clearing_values(page: Any, scene: Scene) -> None:
    channel = scene.channel("Website")
    tier = scene.custom("Plan tier", type="dropdown", options=["Gold", "Silver"])
    scene.conversation(channel, "visitor-1", {"email": "ana@example.com"})
    contact = scene.admin.get("/api/v1/contacts").json()["items"][0]["id"]
    body = {"attributes": {tier["key"]: "Gold"}}
    assert scene.admin.patch(f"/api/v1/contacts/{contact}/attributes", json=body).is_success

    listing = open_settings(page, scene)
    row(listing, "Plan tier").get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit Plan tier")
    dialog.get_by_label("Options").fill("Silver\nBronze")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.get_by_role("alert")).to_contain_text("1 contact uses the removed option Gold")

    dialog.get_by_role("button", name="Remove options and clear values").click()
    expect(dialog).to_be_hidden()
    expect(row(listing, "Plan tier")).to_contain_text("2 options")
    values = scene.admin.get(f"/api/v1/contacts/{contact}").json()["attributes"]
    assert tier["key"] not in values


def long_list(scene: Scene) -> None:
    """A workspace as support teams have it: four channels and a dozen custom fields."""
    for name, medium in (("Website", "webchat"), ("Shop", "whatsapp"), ("Texts", "sms")):
        scene.channel(name, medium)
    scene.channel("Mail", "email")
    for n in range(12):
        scene.custom(f"Field {n + 1}")


def tabs_to(page: Any, element_id: str, limit: int = 60) -> int:
    """How many Tab presses from the top of the page reach the element."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return presses
    return limit + 1


def test_add_is_a_dialog_at_the_top_and_its_result_shows_where_the_admin_looks(
    page: Any, scene: Scene
) -> None:
    long_list(scene)
    listing = open_settings(page, scene)
    opener = page.get_by_role("button", name="Add attribute")
    # Before: the Add form was 200 Tab presses away, at the bottom of a 3,900 px page.
    assert tabs_to(page, "add-open") <= 20
    expect(opener).to_be_in_viewport()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add attribute")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Label")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    opener.click()
    dialog.get_by_label("Label").fill("Número de pedido")
    dialog.get_by_role("button", name="Add attribute").click()
    expect(dialog).to_be_hidden()
    added = row(listing, "Número de pedido")
    expect(added).to_be_focused()
    note = added.get_by_role("status")
    expect(note).to_have_text("Número de pedido was added at the end of the list.")
    expect(note).to_be_in_viewport()

    # The same label again, in another case: refused beside the Label field, in the dialog;
    # the old success line goes.
    opener.click()
    dialog.get_by_label("Label").fill(" número de PEDIDO ")
    dialog.get_by_role("button", name="Add attribute").click()
    error = dialog.get_by_role("alert")
    expect(error).to_have_text(
        "Another attribute is already called “número de PEDIDO”. Choose another label."
    )
    expect(error).to_be_in_viewport()
    expect(dialog.get_by_label("Label")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Label")).to_be_focused()
    expect(note).to_have_text("")
    labels = [a["label"].casefold() for a in scene.admin.get("/api/v1/attributes").json()]
    assert labels.count("número de pedido") == 1


def test_validation_messages_are_written_for_people_beside_each_field(
    page: Any, scene: Scene
) -> None:
    scene.channel("Website")
    open_settings(page, scene)
    page.get_by_role("button", name="Add attribute").click()
    dialog = page.get_by_role("dialog", name="Add attribute")
    submit = dialog.get_by_role("button", name="Add attribute")

    submit.click()  # no label
    expect(dialog.locator("#add-label-error")).to_have_text("Enter a label.")
    expect(dialog.get_by_label("Label")).to_have_attribute("aria-invalid", "true")

    dialog.get_by_label("Label").fill("Plan tier")
    dialog.get_by_label("Key").fill("Plan Tier")
    submit.click()
    expect(dialog.locator("#add-key-error")).to_have_text(
        "Use only lower-case letters, digits and _ (no spaces)."
    )
    expect(dialog.locator("#add-label-error")).to_be_hidden()

    dialog.get_by_label("Key").fill("")
    dialog.get_by_label("Dropdown list").check()
    dialog.get_by_label("Options").fill("Gold")
    submit.click()
    expect(dialog.locator("#add-options-error")).to_have_text(
        "A dropdown list needs at least two options."
    )
    expect(dialog.get_by_role("alert")).to_have_count(1)
    # Never the developers' text: field paths and Pydantic's wording.
    text = dialog.inner_text()
    for raw in ("String should", "List should", "options:", "label:", "body."):
        assert raw not in text


@pytest.mark.parametrize("width", [1280, 800])
def test_the_page_and_its_dialogs_pass_axe_and_fit(page: Any, scene: Scene, width: int) -> None:
    long_list(scene)
    page.set_viewport_size({"width": width, "height": 900})
    listing = open_settings(page, scene)
    assert_accessible(page)

    page.get_by_role("button", name="Add attribute").click()
    dialog = page.get_by_role("dialog", name="Add attribute")
    dialog.get_by_label("Dropdown list").check()
    assert_accessible(page)
    dialog.get_by_role("button", name="Add attribute").click()
    expect(dialog.get_by_role("alert")).to_have_count(1)
    assert_accessible(page)  # with its error messages shown
    page.keyboard.press("Escape")

    row(listing, "Field 1").get_by_role("button", name="Edit").click()
    expect(page.get_by_role("dialog", name="Edit Field 1")).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("Escape")
    row(listing, "Field 2").get_by_role("checkbox", name="Show Field 2").uncheck()
    expect(row(listing, "Field 2").get_by_role("status")).not_to_be_empty()
    assert_accessible(page)  # with a result shown in a row


def _spanish(message: str) -> str:
    def inside() -> str:
        i18n.use(locale="es")
        return i18n.translate(message)

    return contextvars.copy_context().run(inside)


def test_a_spanish_admin_reads_the_page_and_its_messages_in_spanish(
    browser: Any, scene: Scene
) -> None:
    scene.channel("Sitio web")
    scene.custom("Número de pedido", format="phone")
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, extra_http_headers={"Accept-Language": "es-ES"}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{scene.url}/admin/contact-attributes")
    page.fill("input[name=email]", "boss@acme.test")
    page.fill("input[name=password]", LOGIN_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", name="Atributos de contacto", exact=True)).to_be_visible()
    listing = page.get_by_role("list", name="Atributos en la pestaña Contacto")
    # A built-in label is translated; the one the admin typed is data, shown as typed.
    platform = row(listing, _spanish("Web chat email"))
    expect(platform.get_by_text("Plataforma", exact=True)).to_be_visible()
    expect(row(listing, "Número de pedido")).to_contain_text("Campo de texto · Número de teléfono")
    page.get_by_role("button", name="Añadir atributo").click()
    dialog = page.get_by_role("dialog", name="Añadir atributo")
    expect(dialog.get_by_label("Formato")).to_contain_text("Número de teléfono")
    dialog.get_by_label("Etiqueta").fill("NÚMERO DE PEDIDO")
    dialog.get_by_role("button", name="Añadir atributo").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Otro atributo ya se llama “NÚMERO DE PEDIDO”. Elige otra etiqueta."
    )
    context.close()

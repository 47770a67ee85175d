"""Every page of the navigation in Spanish for a Spanish browser (B10, issue 16).

An admin whose browser asks for `es-ES` logs in and walks every page the navigation and the
admin settings index lead to: no English message of the catalog may be left on any of them,
the page says `lang="es"`, and times read in Spanish.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from playwright.sync_api import expect

from rolodex import i18n
from support.axe import assert_accessible
from support.browser import LOGIN_PASSWORD, api_client, create_workspace


def _english_phrases() -> list[re.Pattern[str]]:
    """The English texts of the catalog whose Spanish differs, as whole-word patterns."""
    with Path(str(i18n.CATALOG).format(locale="es")).open("rb") as po:
        catalog = read_po(po, locale="es")
    patterns = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        english = message.id if isinstance(message.id, str) else message.id[0]
        spanish = message.string if isinstance(message.string, str) else message.string[0]
        # The fixed parts around placeholders are what a person would read; a lone word cut
        # out of a longer message ("… deleted.") is too weak a sign to count.
        parts = re.split(r"%\(\w+\)[sdr]", english)
        for part in parts:
            part = part.strip(" .,:;…!?()")
            if len(parts) > 1 and " " not in part:
                continue
            if part and part not in spanish and re.search(r"[A-Za-z]{3}", part):
                patterns.append(re.compile(rf"(?<![\w]){re.escape(part)}(?![\w])"))
    return patterns


# The page's words, leaving out data: pick lists of IANA zone names and the person's own name.
VISIBLE_TEXT = """() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll("select, datalist, .me-name, script").forEach((n) => n.remove());
  document.body.append(clone);
  clone.hidden = false;
  // Names that stay English in Spanish text: the specification "Standard Webhooks".
  const text = clone.innerText.replaceAll("Standard Webhooks", "");
  clone.remove();
  return text;
}"""


def _setup(url: str, token: str) -> None:
    with api_client(url, token) as admin:
        channel = admin.post("/api/v1/channels", json={"medium": "whatsapp", "name": "Soporte"})
        assert channel.status_code == 201, channel.text
        body = {
            "external_message_id": "m-1",
            "sender": {"id": "wa-ana", "attributes": {"phone": "+34600000000"}},
            "text": "Hola",
        }
        sent = admin.post(f"/api/v1/channels/{channel.json()['id']}/inbound", json=body)
        assert sent.status_code == 201, sent.text


def test_a_spanish_browser_sees_every_page_in_spanish(browser: Any, live_server: Any) -> None:
    """Login, workspace, every admin section, exports, privacy, profile: no English left."""
    created = create_workspace(live_server.settings)
    _setup(live_server.url, created["token"])
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, extra_http_headers={"Accept-Language": "es-ES"}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    english = _english_phrases()
    assert len(english) > 100, "the catalog should hold the pages' messages"

    def check(path: str) -> None:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        page.wait_for_load_state("networkidle")
        text = page.evaluate(VISIBLE_TEXT)
        left = sorted({p.pattern for p in english if p.search(text)})
        assert not left, f"{path} still shows English: {left[:10]}"

    check("/login")
    page.fill("input[name=email]", "boss@acme.test")
    page.fill("input[name=password]", LOGIN_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator("nav.sidebar")).to_be_visible()
    targets = ["/", "/profile"]
    targets += [a.get_attribute("href") for a in page.locator("nav.sidebar ul a").all()]
    page.goto(f"{live_server.url}/admin")
    targets += [a.get_attribute("href") for a in page.locator("main a[href^='/admin/']").all()]
    for path in dict.fromkeys(t for t in targets if t):
        check(path)
        assert_accessible(page)
    # A conversation with its thread and Contact tab, and a time written the Spanish way.
    page.goto(f"{live_server.url}/")
    page.locator("main a[href^='/conversations/']").first.click()
    page.wait_for_load_state("networkidle")
    months = "ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic"
    assert re.search(rf"\b\d{{1,2}} ({months})\.? \d{{4}}", page.inner_text("main")), (
        "no time in Spanish on the conversation page"
    )
    text = page.evaluate(VISIBLE_TEXT)
    assert not [p.pattern for p in english if p.search(text)]
    context.close()

"""`GET /widget.js`: the web chat widget, its styles and its Spanish texts in one script.

The widget runs on other companies' sites, where it cannot load Rolodex's page catalog
(`/i18n/<locale>.js`) or a stylesheet without a second request and a flash of unstyled chat;
so its source (`static/widget/widget.js`) gets both put in place of two markers, once per process.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rolodex import i18n
from rolodex.i18n import N_

WIDGET_DIR = Path(__file__).resolve().parent.parent / "static" / "widget"

# Every text the widget shows (its `t("…")` calls), translated here for every language at once:
# the script picks one on the visitor's page, from <html lang> or the browser.
MESSAGES = (
    N_("Chat with us"),
    N_("Open chat"),
    N_("Open chat (%(count)s unread)"),
    N_("Close chat"),
    N_("Conversation"),
    N_("Hi! How can we help you today?"),
    N_("Before we start, please tell us who you are."),
    N_("First name"),
    N_("Last name"),
    N_("Email"),
    N_("Start chat"),
    N_("Please fill in every field."),
    N_("Please enter a valid email address."),
    N_("Message"),
    N_("Write a message…"),
    N_("Attach a file"),
    N_("Files to send"),
    N_("Remove %(name)s"),
    N_("Images or PDF, up to %(size)s"),
    N_("Send"),
    N_("You"),
    N_("Support"),
    N_("%(name)s is not a kind of file the chat accepts."),
    N_("%(name)s is too large (the limit is %(size)s)."),
    N_("You are sending messages too quickly. Please wait a moment."),
    N_("That is too large to send."),
    N_("The chat cannot be reached. Check your connection and try again."),
    N_("Something went wrong. Please try again."),
)

# Short: a new release reaches every site within minutes; the ETag makes rechecks cheap.
CACHE_CONTROL = "public, max-age=300"

router = APIRouter(include_in_schema=False)


def translations(locale: str) -> dict[str, str]:
    """The widget's texts in a language, those that differ from the English ids."""

    def run() -> dict[str, str]:
        i18n.use(locale)
        return {m: text for m in MESSAGES if (text := i18n.translate(m)) != m}

    # A copy of the context, so choosing a language here never changes the request's own.
    return contextvars.copy_context().run(run)


def _minified_css() -> str:
    css = (WIDGET_DIR / "widget.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return re.sub(r"\s+", " ", css).strip()


@cache
def widget_script() -> tuple[bytes, str]:
    """The served script and its ETag (built once per process from the package's files)."""
    source = (WIDGET_DIR / "widget.js").read_text(encoding="utf-8")
    # English is the message ids themselves: only the other languages travel.
    catalogs = {locale: translations(locale) for locale in i18n.LOCALES if locale != "en"}
    body = source.replace('"__ROLODEX_CSS__"', json.dumps(_minified_css())).replace(
        '"__ROLODEX_MESSAGES__"', json.dumps(catalogs, ensure_ascii=False)
    )
    data = body.encode("utf-8")
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


@router.get("/widget.js")
async def widget(request: Request) -> Response:
    """The web chat widget for `<script src=".../widget.js" data-channel="…" async>`."""
    body, etag = widget_script()
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": etag,
        # Any site may embed it, also with crossorigin/SRI or behind a COEP policy.
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)

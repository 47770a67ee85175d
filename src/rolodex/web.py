"""Server-rendered pages: the Jinja environment, the page context and the friendly error page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from rolodex import i18n
from rolodex.auth.deps import SESSION_COOKIE, csrf_token_for
from rolodex.auth.principals import Principal
from rolodex.errors import AppError, NotFound
from rolodex.i18n import N_

PACKAGE_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.translate,
    lambda singular, plural, n: i18n.ngettext(singular, plural, n),
    newstyle=True,
)
templates.env.filters["when"] = i18n.format_time

# The left navigation, as SPEC and DESIGN name the sections: (key, label, href, admins only).
NAVIGATION = (
    ("agent", N_("Agent workspace"), "/", False),
    ("admin", N_("Admin settings"), "/admin", True),
    ("exports", N_("Exports"), "/exports", True),
    ("privacy", N_("Privacy & security"), "/privacy", True),
)

# Shared page assets that are not files: the JavaScript catalog of the reader's language.
router = APIRouter(include_in_schema=False)


@router.get("/i18n/{locale}.js")
async def javascript_catalog(locale: str) -> Response:
    """The translations the pages' scripts use (`rolodex.t`), as one small script."""
    if locale not in i18n.LOCALES:
        raise NotFound(i18n.gettext("No such language."))
    body = "window.rolodexMessages = " + json.dumps(i18n.js_messages(locale), ensure_ascii=False)
    return Response(
        body + ";\n",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


def page(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    section: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page inside the layout, with the navigation and a CSRF token for its forms."""
    cookie = request.cookies.get(SESSION_COOKIE)
    csrf = csrf_token_for(request, cookie) if cookie and principal else ""
    return templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            # Agents see only what they may use; admin sections are not offered to them.
            "navigation": [
                (key, i18n.translate(label), href)
                for key, label, href, admins_only in NAVIGATION
                if principal is None or principal.is_admin or not admins_only
            ],
            "section": section,
            "csrf_token": csrf,
            "locale": i18n.current_locale(),
            "time_zone": i18n.current_time_zone(),
            **context,
        },
        status_code=status_code,
    )


def to_login(request: Request) -> RedirectResponse:
    """Send a signed-out visitor to the login page, remembering where they were going."""
    target = request.url.path
    if request.url.query:
        target += f"?{request.url.query}"
    return RedirectResponse(f"/login?next={target}", status_code=303)


def render_error_page(request: Request, error: AppError) -> Response:
    """A friendly HTML page for an error met while browsing."""
    if error.status == 401:
        return to_login(request)
    return page(
        request,
        "error.html",
        getattr(request.state, "principal", None),
        status_code=error.status,
        error=error,
    )

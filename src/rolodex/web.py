"""Server-rendered pages: the Jinja environment, the page context and the friendly error page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from rolodex.auth.deps import SESSION_COOKIE, csrf_token_for
from rolodex.auth.principals import Principal
from rolodex.errors import AppError

PACKAGE_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))

# The left navigation, as SPEC and DESIGN name the sections.
NAVIGATION = (
    ("agent", "Agent workspace", "/"),
    ("admin", "Admin settings", "/admin"),
    ("exports", "Exports", "/exports"),
    ("privacy", "Privacy & security", "/privacy"),
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
            "navigation": NAVIGATION,
            "section": section,
            "csrf_token": csrf,
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

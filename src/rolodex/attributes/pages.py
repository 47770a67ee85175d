"""Admin settings > Agent workspace > Contact attributes.

The page is a shell: static/attributes.js lists, reorders, toggles, adds, edits and
deletes attributes through the REST API (`/api/v1/attributes…`), so every action
goes through the same service call as its API twin.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from rolodex.auth.deps import SignedIn
from rolodex.catalogue import CATALOGUE
from rolodex.db import TransactionalRoute
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

# The formats a text attribute may declare (B7), as the page names them.
TEXT_FORMATS = (
    ("text", "Text"),
    ("number", "Number"),
    ("email", "Email"),
    ("phone", "Phone number"),
    ("url", "URL"),
    ("date", "Date"),
)


@router.get("/admin/contact-attributes", response_class=HTMLResponse)
async def contact_attributes(request: Request, principal: SignedIn) -> HTMLResponse:
    """The ordered attribute list with toggles, reordering, and the Add attribute form."""
    principal.require_admin()
    return page(
        request,
        "attributes/index.html",
        principal,
        section="admin",
        formats=TEXT_FORMATS,
        # For the platform-to-custom mappings of "Attribute used for matching" (linking).
        platform_attributes=[(a.key, a.label) for m in CATALOGUE.values() for a in m.values()],
    )

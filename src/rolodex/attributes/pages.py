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
from rolodex.i18n import N_, translate
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

# The formats a text attribute may declare (B7), as the page names them (translated when shown;
# static/attributes.js names them the same way in its badges).
TEXT_FORMATS = (
    ("text", N_("Text")),
    ("number", N_("Number")),
    ("email", N_("Email")),
    ("phone", N_("Phone number")),
    ("url", N_("URL")),
    ("date", N_("Date")),
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
        formats=[(value, translate(name)) for value, name in TEXT_FORMATS],
        # For the platform-to-custom mappings of "Attribute used for matching" (linking):
        # built-in labels, in the reader's language (catalogue's shown_label).
        platform_attributes=[
            (a.key, a.shown_label) for m in CATALOGUE.values() for a in m.values()
        ],
    )

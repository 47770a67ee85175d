"""The admin settings index and the sections whose domains have not built their pages yet.

The agent workspace ("/") lives in rolodex.inbox.pages.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from rolodex.auth.deps import SignedIn
from rolodex.db import TransactionalRoute
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

# Admin settings sections, named as SPEC names them; each domain's pages fill one in.
ADMIN_SECTIONS = (
    ("Users & teams", "/admin/users", "Add admins and agents, and group agents into teams."),
    (
        "Agent workspace > Contact attributes",
        "/admin/contact-attributes",
        "Choose which contact attributes agents see, in what order; add your own.",
    ),
    (
        "Agent workspace > Contact groups, routing and prioritization",
        "/admin/routing",
        "Group contacts by their attributes, route groups and VIPs to teams, and order the queue.",
    ),
    (
        "Integrations & API > CRM",
        "/admin/crm",
        "Connect your CRM: look-ups, CRM-managed attributes and write-backs.",
    ),
    (
        "Integrations & API > Webhooks",
        "/admin/webhooks",
        "Send signed contact, conversation and message events to your own systems.",
    ),
)


@router.get("/admin", response_class=HTMLResponse)
async def admin_settings(request: Request, principal: SignedIn) -> HTMLResponse:
    """The list of admin settings sections."""
    principal.require_admin()
    return page(
        request,
        "shell/section.html",
        principal,
        section="admin",
        heading="Admin settings",
        links=ADMIN_SECTIONS,
        empty_title="",
        empty_text="",
    )

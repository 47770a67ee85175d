"""The admin settings index, Admin settings > Account, and each person's profile.

The agent workspace ("/") lives in rolodex.inbox.pages.
"""

from __future__ import annotations

from typing import Annotated, Any

from babel.lists import format_list
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from rolodex import i18n
from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.auth.principals import Principal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.i18n import N_
from rolodex.kit.clock import utcnow
from rolodex.models import Workspace
from rolodex.plans import FEATURE_PLANS, Feature, Plan, feature_name, has_feature
from rolodex.schemas import Text
from rolodex.users import service as users
from rolodex.users.schemas import PreferencesUpdate, form_errors
from rolodex.web import page
from rolodex.workspaces import service
from rolodex.workspaces.schemas import WorkspaceUpdate

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

# Admin settings sections, named as SPEC names them; each domain's pages fill one in.
# English message ids, shown in the reader's language.
ADMIN_SECTIONS = (
    (
        N_("Account"),
        "/admin/account",
        N_("Your plan and what it includes, and the workspace's time zone."),
    ),
    (
        N_("Users & teams"),
        "/admin/users",
        N_("Add admins and agents, edit or deactivate them, and group agents into teams."),
    ),
    (
        N_("Channels"),
        "/admin/channels",
        N_(
            "Connect WhatsApp, Messenger, Instagram, SMS, X, email and the web chat widget: "
            "credentials, what to set up on each platform, a connection test and failed "
            "deliveries."
        ),
    ),
    (
        N_("Agent workspace > Contact attributes"),
        "/admin/contact-attributes",
        N_("Choose which contact attributes agents see, in what order; add your own."),
    ),
    (
        N_("Agent workspace > Contact groups, routing and prioritization"),
        "/admin/routing",
        N_(
            "Group contacts by their attributes, route groups and VIPs to teams, "
            "and order the queue."
        ),
    ),
    (
        N_("Integrations & API > CRM"),
        "/admin/crm",
        N_("Connect your CRM: look-ups, CRM-managed attributes and write-backs."),
    ),
    (
        N_("Integrations & API > Webhooks"),
        "/admin/webhooks",
        N_("Send signed contact, conversation and message events to your own systems."),
    ),
    (
        N_("Integrations & API > Virtual agents"),
        "/admin/bots",
        N_("Connect your bots: they greet contacts, collect details and hand over to agents."),
    ),
)


@router.get("/admin", response_class=HTMLResponse)
async def admin_settings(request: Request, principal: SignedIn) -> HTMLResponse:
    """The list of admin settings sections."""
    principal.require_admin()
    links = [
        (i18n.translate(label), href, i18n.translate(text)) for label, href, text in ADMIN_SECTIONS
    ]
    return page(
        request,
        "shell/section.html",
        principal,
        section="admin",
        heading=i18n.translate(N_("Admin settings")),
        links=links,
    )


# --- Admin settings > Account ----------------------------------------------------------------


def _plans_with(feature: Feature) -> str:
    # Plan names are product names: the same in every language, joined the language's way.
    plans = [p.value.capitalize() for p in Plan if p in FEATURE_PLANS[feature]]
    return format_list(plans, locale=i18n.current_locale())


async def _account_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    workspace: Workspace | None = None,
    chosen: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal.require_admin()
    workspace = workspace or await service.get_workspace(session, principal)
    features = [
        {
            "name": feature_name(f),
            "included": has_feature(workspace.plan, f),
            "plans": _plans_with(f),
        }
        for f in Feature
    ]
    saved = request.query_params.get("saved") == "1" and not errors
    return page(
        request,
        "workspaces/account.html",
        principal,
        section="admin",
        workspace=workspace,
        plan_name=workspace.plan.capitalize(),
        features=features,
        zones=service.time_zone_choices(workspace.time_zone),
        chosen=chosen or workspace.time_zone,
        errors=errors or {},
        saved=saved,
        status_code=status_code,
    )


@router.get("/admin/account", response_class=HTMLResponse)
async def account_page(request: Request, session: SessionDep, principal: SignedIn) -> HTMLResponse:
    """The workspace's plan and the features it includes, and its time zone (admins)."""
    return await _account_page(request, session, principal)


@router.post("/admin/account")
async def save_account(
    request: Request,
    session: SessionDep,
    principal: SignedInForm,
    time_zone: Annotated[Text, Form(max_length=64)] = "",
) -> Response:
    """Set the workspace's time zone (the same service call as PATCH /api/v1/workspace)."""
    principal.require_admin()
    try:
        data = WorkspaceUpdate.model_validate({"time_zone": time_zone})
    except ValidationError as exc:
        return await _account_page(
            request,
            session,
            principal,
            chosen=time_zone,
            errors=form_errors(exc),
            status_code=422,
        )
    await service.set_time_zone(session, principal, data.time_zone)
    return RedirectResponse("/admin/account?saved=1", status_code=303)


# --- Your profile ----------------------------------------------------------------------------


async def _profile_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal.require_user()
    assert principal.user_id is not None
    user = await users.access_user_by_id(session, principal, principal.user_id)
    workspace = await service.get_workspace(session, principal)
    form = form or {"locale": user.locale or "", "time_zone": user.time_zone or ""}
    browser = i18n.negotiate(request.headers.get("accept-language"))
    context: dict[str, Any] = {
        "user": user,
        "workspace_zone": workspace.time_zone,
        "browser_language": i18n.LANGUAGE_NAMES[browser],
        "languages": list(i18n.LANGUAGE_NAMES.items()),
        "zones": service.time_zone_choices(user.time_zone, form["time_zone"]),
        "form": form,
        "errors": errors or {},
        "saved": request.query_params.get("saved") == "1" and not errors,
        "now": utcnow(),
    }
    return page(
        request,
        "workspaces/profile.html",
        principal,
        section="profile",
        status_code=status_code,
        **context,
    )


@router.get("/profile", response_class=HTMLResponse)
async def profile_page(request: Request, session: SessionDep, principal: SignedIn) -> HTMLResponse:
    """Your language and time zone (everyone who logs in)."""
    return await _profile_page(request, session, principal)


@router.post("/profile")
async def save_profile(
    request: Request,
    session: SessionDep,
    principal: SignedInForm,
    locale: Annotated[Text, Form(max_length=10)] = "",
    time_zone: Annotated[Text, Form(max_length=64)] = "",
) -> Response:
    """Save your language and time zone (the same service call as PATCH /api/v1/me).

    An empty choice returns to the default: the browser's language, the workspace's zone.
    The page that follows is in the new language.
    """
    form = {"locale": locale, "time_zone": time_zone}
    try:
        data = PreferencesUpdate.model_validate(
            {"locale": locale or None, "time_zone": time_zone or None}
        )
    except ValidationError as exc:
        return await _profile_page(
            request, session, principal, form=form, errors=form_errors(exc), status_code=422
        )
    await users.set_preferences(session, principal, data)
    return RedirectResponse("/profile?saved=1", status_code=303)

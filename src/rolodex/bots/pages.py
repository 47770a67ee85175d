"""Admin settings > Integrations & API > Virtual agents: the workspace's bots, Add a bot, and
a page per bot (its settings, its signing secret with Rotate, REST credentials, Delete).

Plain forms posted to the server (the same service calls as /api/v1/bots…), so every change
works without script; a change ends on a page with a line saying what was done. Rotating the
secret and deleting a bot ask to confirm first. Enterprise workspaces only; admins only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.auth.principals import Principal
from rolodex.bots import service
from rolodex.bots.schemas import (
    Activation,
    BotCreate,
    BotCredentials,
    BotRead,
    BotUpdate,
    Handoff,
    OnError,
)
from rolodex.catalogue import medium_label
from rolodex.channels import service as channels
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.errors import AppError
from rolodex.i18n import N_, translate
from rolodex.plans import Feature, has_feature
from rolodex.schemas import Text
from rolodex.users.schemas import form_errors
from rolodex.web import page

T = TypeVar("T")

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

# The choices, explained in plain words (English message ids).
ACTIVATIONS = (
    (
        Activation.INCEPTION,
        N_("Inception"),
        N_(
            "The bot answers every new conversation on its channels first, before it reaches "
            "a team."
        ),
    ),
    (
        Activation.DELEGATION,
        N_("Delegation"),
        N_("The bot takes a conversation only when an agent hands it over from the thread."),
    ),
)
HANDOFFS = (
    (Handoff.NEW_QUEUE, N_("Back to the queue as a new conversation, routed as usual")),
    (Handoff.PREVIOUS_AGENT, N_("Back to the agent who held it before the bot")),
)
ON_ERRORS = (
    (OnError.NEW, N_("Back to the queue as a new conversation")),
    (OnError.RESOLVED, N_("Resolve the conversation")),
)

# What a page says after a change (`?done=<key>`), about the bot "<Name> VA".
DONE = {
    "added": N_("%(name)s was added. Set up the bot with its secret below."),
    "saved": N_("Changes to %(name)s are saved."),
    "rotated": N_("The secret of %(name)s is rotated: events are signed with the new one now."),
}
DELETED = N_("The virtual agent was deleted; its REST credentials stop working.")

# Recent activity: what each entry was, and how it went.
DIRECTIONS = {"event": N_("Event sent"), "action": N_("Action applied")}
OUTCOMES = {"ok": N_("Done"), "failed": N_("Failed"), "ignored": N_("Ignored")}
ACTIVITY_LIMIT = 50

TIMEOUT_MESSAGE = N_("Enter a number of seconds from 1 to 3600.")

Name = Annotated[Text, Form(max_length=200)]
Url = Annotated[Text, Form(max_length=4000)]
Choice = Annotated[Text, Form(max_length=40)]
ChannelIds = Annotated[list[str] | None, Form()]


def _allow_private(request: Request) -> bool:
    return bool(request.app.state.settings.allow_private_webhook_targets)


def _typed(
    name: Name = "",
    webhook_url: Url = "",
    activation: Choice = "",
    channel_ids: ChannelIds = None,
    handoff: Choice = "",
    response_timeout_seconds: Choice = "",
    on_error: Choice = "",
) -> dict[str, Any]:
    """The form as typed: what the page shows back, and what the schemas validate."""
    return {
        "name": name,
        "webhook_url": webhook_url,
        "activation": activation,
        "channel_ids": list(dict.fromkeys(channel_ids or [])),
        "handoff": handoff,
        "response_timeout_seconds": response_timeout_seconds,
        "on_error": on_error,
    }


# The add and the edit form post the same fields.
TypedForm = Annotated[dict[str, Any], Depends(_typed)]


def _form_of(bot: BotRead) -> dict[str, Any]:
    return {
        "name": bot.name,
        "webhook_url": bot.webhook_url,
        "activation": bot.activation.value,
        "channel_ids": list(bot.channel_ids),
        "handoff": bot.handoff.value,
        "response_timeout_seconds": str(bot.response_timeout_seconds),
        "on_error": bot.on_error.value,
    }


def _problem_errors(exc: AppError) -> dict[str, str]:
    """A service's refusal as messages by form field (`channel_ids.0` is `channel_ids`); what
    names no field goes under `form`. A 403 or 404 is raised as it is."""
    if exc.status in (403, 404):
        raise exc
    out: dict[str, str] = {}
    for error in exc.errors:
        out.setdefault(str(error.get("field", "form")).split(".")[0], str(error["message"]))
    if not out:
        out["form"] = exc.detail
    return out


async def _attempt(action: Callable[[], Awaitable[T]]) -> tuple[T | None, dict[str, str], int]:
    """A form's service call: its result, or its refusal as messages by field and its status."""
    try:
        return await action(), {}, 200
    except ValidationError as exc:
        errors = form_errors(exc)
        if "response_timeout_seconds" in errors:
            errors["response_timeout_seconds"] = translate(TIMEOUT_MESSAGE)
        return None, errors, 422
    except AppError as exc:
        return None, _problem_errors(exc), exc.status


async def _channel_choices(session: SessionDep, principal: Principal) -> list[dict[str, str]]:
    rows, _next = await channels.list_channels(session, principal, cursor=None, limit=100)
    return [{"id": c.id, "name": c.name, "medium": medium_label(c.medium)} for c in rows]


def _choices() -> dict[str, Any]:
    return {
        "activations": [
            (a.value, translate(label), translate(text)) for a, label, text in ACTIVATIONS
        ],
        "handoffs": [(h.value, translate(label)) for h, label in HANDOFFS],
        "on_errors": [(o.value, translate(label)) for o, label in ON_ERRORS],
    }


def _blank_form() -> dict[str, Any]:
    return {
        "name": "",
        "webhook_url": "",
        "activation": Activation.INCEPTION.value,
        "channel_ids": [],
        "handoff": Handoff.NEW_QUEUE.value,
        "response_timeout_seconds": "300",
        "on_error": OnError.NEW.value,
    }


# --- The list and Add a bot ------------------------------------------------------------------


async def _list_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal.require_admin()
    available = has_feature(principal.plan, Feature.BOTS)
    context: dict[str, Any] = {"available": available}
    if available:
        bots, _next = await service.list_bots(session, principal, cursor=None, limit=100)
        names = await channels.channel_names(session, principal)
        labels = {a.value: translate(label) for a, label, _text in ACTIVATIONS}
        context |= {
            "bots": [
                (b, labels[b.activation.value], [names.get(c, c) for c in b.channel_ids])
                for b in bots
            ],
            "channels": await _channel_choices(session, principal),
            "form": form or _blank_form(),
            "errors": errors or {},
            "done": translate(DELETED) if request.query_params.get("done") == "deleted" else "",
            **_choices(),
        }
    return page(
        request,
        "bots/index.html",
        principal,
        section="admin",
        status_code=status_code,
        **context,
    )


@router.get("/admin/bots", response_class=HTMLResponse)
async def bots_page(request: Request, session: SessionDep, principal: SignedIn) -> HTMLResponse:
    """The workspace's virtual agents and Add a virtual agent (the plan's message elsewhere)."""
    return await _list_page(request, session, principal)


@router.post("/admin/bots")
async def add_bot(
    request: Request,
    session: SessionDep,
    principal: SignedInForm,
    form: TypedForm,
) -> Response:
    """Add a bot from the page (the same service call as POST /api/v1/bots)."""
    principal.require_admin()
    bot, errors, status_code = await _attempt(
        lambda: service.create_bot(
            session,
            principal,
            BotCreate.model_validate(form),
            allow_private=_allow_private(request),
        )
    )
    if bot is not None:
        return RedirectResponse(f"/admin/bots/{bot.id}?done=added", status_code=303)
    return await _list_page(
        request, session, principal, form=form, errors=errors, status_code=status_code
    )


# --- One bot ---------------------------------------------------------------------------------


async def _bot_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    bot_id: str,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    credentials: BotCredentials | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    principal.require_admin()
    bot = service.read(await service.access_bot_by_id(session, principal, bot_id))
    done_key = request.query_params.get("done", "")
    done = translate(DONE[done_key]) % {"name": bot.display_name} if done_key in DONE else ""
    activity = await service.log(session, principal, bot_id, ACTIVITY_LIMIT)
    return page(
        request,
        "bots/bot.html",
        principal,
        section="admin",
        bot=bot,
        channels=await _channel_choices(session, principal),
        form=form or _form_of(bot),
        errors=errors or {},
        credentials=credentials,
        activity=activity,
        directions={key: translate(label) for key, label in DIRECTIONS.items()},
        outcomes={key: translate(label) for key, label in OUTCOMES.items()},
        done="" if errors or credentials else done,
        status_code=status_code,
        **_choices(),
        **context,
    )


def _back(bot_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/bots/{bot_id}?done={done}", status_code=303)


@router.get("/admin/bots/{bot_id}", response_class=HTMLResponse)
async def bot_page(
    request: Request, bot_id: str, session: SessionDep, principal: SignedIn
) -> HTMLResponse:
    """One virtual agent: its settings, its signing secret, REST credentials, recent activity
    (the events sent to it and the actions it asked for, newest first)."""
    return await _bot_page(request, session, principal, bot_id)


@router.post("/admin/bots/{bot_id}")
async def save_bot(
    request: Request,
    bot_id: str,
    session: SessionDep,
    principal: SignedInForm,
    form: TypedForm,
) -> Response:
    """Save a bot's settings (the same service call as PATCH /api/v1/bots/{id}); no channel
    ticked means none."""
    principal.require_admin()
    saved, errors, status_code = await _attempt(
        lambda: service.update_bot(
            session,
            principal,
            bot_id,
            BotUpdate.model_validate(form),
            allow_private=_allow_private(request),
        )
    )
    if saved is not None:
        return _back(bot_id, "saved")
    return await _bot_page(
        request, session, principal, bot_id, form=form, errors=errors, status_code=status_code
    )


@router.post("/admin/bots/{bot_id}/secret")
async def rotate_secret(
    request: Request,
    bot_id: str,
    session: SessionDep,
    principal: SignedInForm,
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Rotate the bot's signing secret (POST /api/v1/bots/{id}/secret); the first press asks to
    confirm, since the bot must then check signatures with the new one."""
    principal.require_admin()
    if confirm != "yes":
        return await _bot_page(request, session, principal, bot_id, confirm_rotate=True)
    await service.rotate_secret(session, principal, bot_id)
    return _back(bot_id, "rotated")


@router.post("/admin/bots/{bot_id}/credentials", response_class=HTMLResponse)
async def create_credentials(
    request: Request, bot_id: str, session: SessionDep, principal: SignedInForm
) -> HTMLResponse:
    """New REST credentials for the bot (POST /api/v1/bots/{id}/credentials): the page that
    answers shows the client secret, this once."""
    principal.require_admin()
    credentials = await service.create_credentials(session, principal, bot_id)
    shown = await _bot_page(request, session, principal, bot_id, credentials=credentials)
    shown.headers["Cache-Control"] = "no-store"  # the client secret is in it
    return shown


@router.post("/admin/bots/{bot_id}/delete")
async def delete_bot(
    request: Request,
    bot_id: str,
    session: SessionDep,
    principal: SignedInForm,
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Delete the bot (DELETE /api/v1/bots/{id}); the first press asks to confirm."""
    principal.require_admin()
    if confirm != "yes":
        return await _bot_page(request, session, principal, bot_id, confirm_delete=True)
    await service.delete_bot(session, principal, bot_id)
    return RedirectResponse("/admin/bots?done=deleted", status_code=303)

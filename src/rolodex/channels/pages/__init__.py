"""Admin settings > Channels: the workspace's channels, and a page per channel to connect it.

Plain forms posted to the server (the same service calls as /api/v1/channels…), so every
change works without script; a change ends on the channel's page with a line saying what was
done. Secrets are never written back into a page: a saved one says so, and an empty field
keeps it (as an omitted secret does on PATCH).
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.auth.principals import Principal
from rolodex.catalogue import Medium, medium_label
from rolodex.channels import service
from rolodex.channels.pages import webchat
from rolodex.channels.pages.forms import (
    PROVIDERS,
    Provider,
    attempt,
    connection_document,
    connection_fields,
    connection_line,
    done_message,
    typed_back,
)
from rolodex.channels.schemas import ChannelCreate, ChannelRead, ChannelUpdate
from rolodex.config import Settings
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.errors import AppError
from rolodex.i18n import _, translate
from rolodex.schemas import Text
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

Short = Annotated[Text, Form(max_length=200)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --- Admin settings > Channels -----------------------------------------------------------


async def _list_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    cursor: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, next_cursor = await service.list_channels(session, principal, cursor=cursor, limit=100)
    settings = _settings(request)
    channels = [service.read(row, settings) for row in rows]
    return page(
        request,
        "channels/index.html",
        principal,
        section="admin",
        channels=[(c, medium_label(c.medium), connection_line(c)) for c in channels],
        next_cursor=next_cursor,
        media=[(m.value, medium_label(m)) for m in Medium],
        form=form or {"name": "", "medium": Medium.WHATSAPP.value},
        errors=errors or {},
        status_code=status_code,
    )


@router.get("/admin/channels", response_class=HTMLResponse)
async def channels_page(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The workspace's channels (name, platform, connected or not, enabled) and Add a channel."""
    return await _list_page(request, session, principal, cursor=cursor)


@router.post("/admin/channels")
async def add_channel(
    request: Request,
    session: SessionDep,
    principal: SignedInForm,
    name: Short = "",
    medium: Annotated[Text, Form(max_length=20)] = "",
) -> Response:
    """Add a channel from the page (the same service call as POST /api/v1/channels)."""
    form = {"name": name, "medium": medium}
    settings = _settings(request)
    channel, errors, status_code = await attempt(
        lambda: service.create_channel(
            session, principal, ChannelCreate.model_validate(form), settings
        )
    )
    if channel is not None:
        return RedirectResponse(f"/admin/channels/{channel.id}?done=added", status_code=303)
    return await _list_page(
        request, session, principal, form=form, errors=errors, status_code=status_code
    )


# --- One channel ---------------------------------------------------------------------------


async def _channel_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    channel_id: str,
    *,
    status_code: int = 200,
    details_form: dict[str, Any] | None = None,
    details_errors: dict[str, str] | None = None,
    connection_form: dict[str, str] | None = None,
    connection_errors: dict[str, str] | None = None,
    webchat_form: dict[str, Any] | None = None,
    webchat_errors: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    settings = _settings(request)
    channel = service.read(await service.get_channel(session, principal, channel_id), settings)
    if channel.medium == Medium.WEBCHAT:
        context["webchat"] = _webchat(channel, settings, webchat_form, webchat_errors)
    provider = PROVIDERS.get(channel.medium)
    failed, _next = await service.list_webhook_events(
        session, principal, channel.id, status="failed", cursor=None, limit=50
    )
    done = done_message(request.query_params.get("done", ""), provider)
    shown = channel.connection or {}
    email = provider is not None and provider.key == "smtp"
    fields = connection_fields(provider, shown, connection_form) if provider else []
    errors = connection_errors or {}
    # A refusal that names no field of the form (the provider, the whole connection).
    stray = [m for k, m in errors.items() if k not in {f["name"] for f in fields}]
    return page(
        request,
        "channels/channel.html",
        principal,
        section="admin",
        channel=channel,
        medium=medium_label(channel.medium),
        provider=provider,
        state=_state(channel, provider) if provider else "",
        setup_heading=translate(provider.setup_heading) if provider and not email else "",
        steps=[translate(step) for step in provider.steps] if provider else [],
        mail=_mail_intake(shown, settings) if email else None,
        fields=fields,
        connection_errors=errors,
        connection_alert="; ".join(dict.fromkeys(stray)),
        details_form=details_form or {"name": channel.name, "enabled": channel.enabled},
        details_errors=details_errors or {},
        verify_token=shown.get("verify_token", ""),
        failed=failed,
        done=translate(done) % {"name": channel.name} if done else "",
        status_code=status_code,
        **context,
    )


def _webchat(
    channel: ChannelRead,
    settings: Settings,
    form: dict[str, Any] | None,
    errors: dict[str, str] | None,
) -> dict[str, Any]:
    """What a web chat channel's page shows: the widget's settings form, and once connected the
    script tag, the identity secret with its snippets and the preview."""
    connection = channel.connection or {}
    values = form or webchat.settings_form(connection)
    public = urlsplit(settings.public_url)
    return {
        "connected": connection.get("provider") == webchat.PROVIDER,
        "form": values,
        "errors": errors or {},
        "pre_chat": [
            (key, translate(label), key in values["pre_chat_fields"])
            for key, label in webchat.PRE_CHAT_FIELDS
        ],
        "greetings": [
            (lang, translate(label), values[f"greeting_{lang}"])
            for lang, label in webchat.LANGUAGES
        ],
        "max_origins": webchat.MAX_ORIGINS,
        "public_origin": f"{public.scheme}://{public.netloc}",
        "script_tag": webchat.script_tag(settings.public_url, channel.id),
        "verified_tag": webchat.verified_script_tag(settings.public_url, channel.id),
        "secret": connection.get("identity_secret", ""),
        "secret_variable": webchat.SECRET_VARIABLE,
        "snippets": [
            {"key": key, "language": language, "code": code, "rows": code.count("\n") + 1}
            for key, language, code in webchat.snippets()
        ],
    }


def _state(channel: ChannelRead, provider: Provider) -> str:
    """The connection's state line: connected to what, or what to enter to connect."""
    if channel.connection is None:
        return translate(provider.not_connected) % {"provider": provider.name}
    if provider.key == "smtp":
        connection = channel.connection
        return _(
            "Connected: replies leave through %(server)s.",
            server=f"{connection.get('smtp_host', '')}:{connection.get('smtp_port', '')}",
        )
    return _("Connected to %(provider)s.", provider=provider.name)


def _every_interface(host: str) -> bool:
    try:
        return not host or ip_address(host).is_unspecified
    except ValueError:  # a host name
        return False


def _mail_intake(connection: dict[str, Any], settings: Settings) -> dict[str, str]:
    """Where mail to an email channel's address must arrive: Rolodex's own SMTP listener
    (`ROLODEX_SMTP_PORT`), or nowhere while that setting is unset."""
    if settings.smtp_port is None:
        return {"address": connection.get("address", ""), "listener": ""}
    host = settings.smtp_host
    if _every_interface(host):  # no one address to give: the public name is the one
        host = urlsplit(settings.public_url).hostname or host
    return {"address": connection.get("address", ""), "listener": f"{host}:{settings.smtp_port}"}


def _back(channel_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/channels/{channel_id}?done={done}", status_code=303)


@router.get("/admin/channels/{channel_id}", response_class=HTMLResponse)
async def channel_page(
    request: Request, channel_id: str, session: SessionDep, principal: SignedIn
) -> HTMLResponse:
    """One channel: its name and status, its connection, the webhook to set up, the test, and
    its failed deliveries."""
    return await _channel_page(request, session, principal, channel_id)


@router.post("/admin/channels/{channel_id}")
async def save_channel(
    request: Request,
    channel_id: str,
    session: SessionDep,
    principal: SignedInForm,
    name: Short = "",
    enabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Rename, enable or disable a channel (PATCH /api/v1/channels/{id} with name, enabled)."""
    form: dict[str, Any] = {"name": name, "enabled": enabled == "true"}
    settings = _settings(request)
    saved, errors, status_code = await attempt(
        lambda: service.update_channel(
            session, principal, channel_id, ChannelUpdate.model_validate(form), settings
        )
    )
    if saved is not None:
        return _back(channel_id, "saved")
    return await _channel_page(
        request,
        session,
        principal,
        channel_id,
        details_form=form,
        details_errors=errors,
        status_code=status_code,
    )


@router.post("/admin/channels/{channel_id}/connection")
async def connect_channel(
    request: Request, channel_id: str, session: SessionDep, principal: SignedInForm
) -> Response:
    """Connect or re-connect a channel (PATCH /api/v1/channels/{id} with `connection`).

    The form holds the fields of the channel's provider; a secret left empty keeps the stored
    one, an empty verify token keeps (or makes) one.
    """
    settings = _settings(request)
    channel = await service.get_channel(session, principal, channel_id)
    provider = PROVIDERS.get(Medium(channel.medium))
    if provider is None:  # nothing to connect here yet: the page says so
        return RedirectResponse(f"/admin/channels/{channel_id}", status_code=303)
    # Only this provider's fields are read (the body is size-limited by the middleware, and
    # each field's length by the connection's schema).
    form = await request.form()
    given = {f.name: v for f in provider.fields if isinstance(v := form.get(f.name, ""), str)}

    async def connect() -> object:
        connection = provider.model.model_validate(connection_document(provider, given))
        data = ChannelUpdate(connection=connection)
        return await service.update_channel(session, principal, channel_id, data, settings)

    saved, errors, status_code = await attempt(connect, provider)
    if saved is not None:
        return _back(channel_id, "connected")
    return await _channel_page(
        request,
        session,
        principal,
        channel_id,
        connection_form=typed_back(provider, given),
        connection_errors=errors,
        status_code=status_code,
    )


@router.post("/admin/channels/{channel_id}/disconnect")
async def disconnect_channel(
    request: Request, channel_id: str, session: SessionDep, principal: SignedInForm
) -> Response:
    """Disconnect a channel (PATCH /api/v1/channels/{id} with `connection: null`)."""
    data = ChannelUpdate.model_validate({"connection": None})
    await service.update_channel(session, principal, channel_id, data, _settings(request))
    return _back(channel_id, "disconnected")


@router.post("/admin/channels/{channel_id}/test", response_class=HTMLResponse)
async def test_connection(
    request: Request, channel_id: str, session: SessionDep, principal: SignedInForm
) -> HTMLResponse:
    """Call the platform with the stored credentials and say what it answered (the same service
    call as POST /api/v1/channels/{id}/connection/test)."""
    result, errors, status_code = await attempt(
        lambda: service.test_connection(session, principal, channel_id, _settings(request))
    )
    if result is None:
        test = {"ok": False, "text": "; ".join(dict.fromkeys(errors.values()))}
    elif result.ok:
        test = {"ok": True, "text": _("Connected to %(account)s.", account=result.account or "")}
    else:
        error = result.error or {}
        test = {
            "ok": False,
            "text": _(
                "Connection failed: %(title)s (code %(code)s).",
                title=error.get("title", ""),
                code=error.get("code", ""),
            ),
        }
    return await _channel_page(
        request, session, principal, channel_id, test=test, status_code=status_code
    )


@router.post("/admin/channels/{channel_id}/deliveries/{event_id}/retry")
async def retry_delivery(
    request: Request,
    channel_id: str,
    event_id: str,
    session: SessionDep,
    principal: SignedInForm,
) -> Response:
    """Process a failed delivery again (POST /api/v1/channels/{id}/webhook-events/{id}/retry)."""
    retried, errors, status_code = await attempt(
        lambda: service.retry_webhook_event(session, principal, channel_id, event_id)
    )
    if retried is not None:
        return _back(channel_id, "retried")
    return await _channel_page(
        request,
        session,
        principal,
        channel_id,
        deliveries_error="; ".join(dict.fromkeys(errors.values())),
        status_code=status_code,
    )


# --- A web chat channel: the widget ------------------------------------------------------


def _problem_fields(exc: AppError) -> dict[str, str]:
    """A service's refusal of the widget settings as messages by form field."""
    if exc.status in (403, 404):
        raise exc
    out: dict[str, str] = {}
    for error in exc.errors:
        out.setdefault(webchat.field_of(str(error.get("field", "form"))), str(error["message"]))
    return out or {"form": exc.detail}


@router.post("/admin/channels/{channel_id}/webchat")
async def save_webchat(
    request: Request, channel_id: str, session: SessionDep, principal: SignedInForm
) -> Response:
    """Connect a web chat channel or change its widget (PATCH /api/v1/channels/{id} with a
    `widget` connection): allowed origins, pre-chat fields, colour, greetings, email linking."""
    settings = _settings(request)
    channel = await service.get_channel(session, principal, channel_id)
    if channel.medium != Medium.WEBCHAT.value:
        return RedirectResponse(f"/admin/channels/{channel_id}", status_code=303)
    form = await request.form()
    pre_chat = [v for v in form.getlist("pre_chat_fields") if isinstance(v, str)]
    typed = webchat.typed_form(form, pre_chat)
    try:
        data = ChannelUpdate.model_validate({"connection": webchat.connection_document(typed)})
        await service.update_channel(session, principal, channel_id, data, settings)
    except ValidationError as exc:
        errors, status_code = webchat.validation_errors(exc), 422
    except AppError as exc:
        errors, status_code = _problem_fields(exc), exc.status
    else:
        return _back(channel_id, "webchat")
    return await _channel_page(
        request,
        session,
        principal,
        channel_id,
        webchat_form=typed,
        webchat_errors=errors,
        status_code=status_code,
    )


@router.post("/admin/channels/{channel_id}/identity-secret")
async def rotate_identity_secret(
    request: Request,
    channel_id: str,
    session: SessionDep,
    principal: SignedInForm,
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Rotate a web chat channel's identity secret (POST /api/v1/channels/{id}/identity-secret);
    the first press asks to confirm, since the company's site must then sign with the new one."""
    if confirm != "yes":
        return await _channel_page(request, session, principal, channel_id, confirm_rotate=True)
    rotated, errors, status_code = await attempt(
        lambda: service.rotate_identity_secret(session, principal, channel_id)
    )
    if rotated is not None:
        return _back(channel_id, "rotated")
    return await _channel_page(
        request,
        session,
        principal,
        channel_id,
        secret_error="; ".join(dict.fromkeys(errors.values())),
        status_code=status_code,
    )


@router.get("/admin/channels/{channel_id}/preview", response_class=HTMLResponse)
async def preview_webchat(
    request: Request, channel_id: str, session: SessionDep, principal: SignedIn
) -> HTMLResponse:
    """A page of Rolodex with this channel's widget on it: the channel page's live preview."""
    channel = service.read(
        await service.get_channel(session, principal, channel_id), _settings(request)
    )
    connected = (channel.connection or {}).get("provider") == webchat.PROVIDER
    # From this page's own origin, which its CSP requires of scripts; the widget then calls the
    # origin it came from, Rolodex's public one, which every web chat channel allows.
    return page(
        request,
        "channels/preview.html",
        principal,
        channel=channel,
        widget_src="/widget.js" if connected else "",
    )

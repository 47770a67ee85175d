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

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.auth.principals import Principal
from rolodex.catalogue import Medium, medium_label
from rolodex.channels import service
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
    **context: Any,
) -> HTMLResponse:
    channel = service.read(
        await service.get_channel(session, principal, channel_id), _settings(request)
    )
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
        mail=_mail_intake(shown, _settings(request)) if email else None,
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

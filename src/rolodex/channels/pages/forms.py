"""What the Channels pages know of each provider's form: its fields, what to set up at Meta,
and a service's refusal as messages beside the fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from rolodex.catalogue import Medium
from rolodex.channels.schemas import (
    ChannelRead,
    InstagramConnection,
    MessengerConnection,
    WhatsAppConnection,
)
from rolodex.errors import AppError
from rolodex.i18n import N_, _, translate
from rolodex.users.schemas import form_errors

T = TypeVar("T")

Connection = WhatsAppConnection | MessengerConnection | InstagramConnection


@dataclass(frozen=True)
class Provider:
    """How a medium connects: its provider, the form's fields and what to set up at Meta."""

    key: str
    name: str  # a product name: the same in every language
    model: type[Connection]
    id_field: str
    id_label: str
    bearer_field: str
    bearer_label: str
    steps: tuple[str, ...]


_PASTE = N_(
    "Paste the Webhook URL below as the Callback URL and the Verify token below as the "
    "Verify token, then choose Verify and save."
)
_MESSAGING_STEPS = (
    N_("In the Meta App Dashboard, open the Webhooks product (Messenger > Settings for a Page)."),
    _PASTE,
    N_(
        "Subscribe the Page to these fields: messages, message_echoes, message_deliveries, "
        "message_reads, messaging_postbacks, message_reactions."
    ),
)
PROVIDERS = {
    Medium.WHATSAPP: Provider(
        key="whatsapp_cloud",
        name="WhatsApp Business Cloud API",
        model=WhatsAppConnection,
        id_field="phone_number_id",
        id_label=N_("Phone number ID"),
        bearer_field="access_token",
        bearer_label=N_("Access token"),
        steps=(
            N_(
                "In the Meta App Dashboard, open WhatsApp > Configuration > Webhook "
                "and choose Edit."
            ),
            _PASTE,
            N_("Under Webhook fields, subscribe to messages."),
        ),
    ),
    Medium.FACEBOOK: Provider(
        key="messenger",
        name="Messenger",
        model=MessengerConnection,
        id_field="page_id",
        id_label=N_("Page ID"),
        bearer_field="page_access_token",
        bearer_label=N_("Page access token"),
        steps=_MESSAGING_STEPS,
    ),
    Medium.INSTAGRAM: Provider(
        key="instagram",
        name="Instagram",
        model=InstagramConnection,
        id_field="account_id",
        id_label=N_("Instagram account ID"),
        bearer_field="page_access_token",
        bearer_label=N_("Page access token"),
        steps=_MESSAGING_STEPS,
    ),
}

# What a channel's page says after a change (`?done=<key>`).
DONE = {
    "added": N_("Channel %(name)s was added. Connect it to its platform below."),
    "saved": N_("Changes to %(name)s are saved."),
    "connected": N_(
        "The connection is saved. Set up the webhook in Meta's dashboard, then test the connection."
    ),
    "disconnected": N_(
        "%(name)s is disconnected: Rolodex no longer receives or sends its messages."
    ),
    "retried": N_("The delivery will be processed again in a moment."),
}
# Pattern refusals said for people (the schema's patterns are for developers).
_PATTERN_MESSAGES = {
    "api_version": N_("Write the version as Meta does, e.g. v21.0."),
    "verify_token": N_("Use letters, digits and punctuation, without spaces."),
}
_ID_PATTERN_MESSAGE = N_("Use only letters, digits and the signs . _ : -")


def problem_errors(exc: AppError) -> dict[str, str]:
    """A service's refusal as messages by form field (`connection.x` is the form's `x`)."""
    if exc.status in (403, 404):
        raise exc
    out: dict[str, str] = {}
    for error in exc.errors:
        field = str(error.get("field", "form")).removeprefix("connection.")
        out.setdefault(field, str(error["message"]))
    if not out:
        out["form"] = exc.detail
    return out


def validation_errors(exc: ValidationError, provider: Provider | None = None) -> dict[str, str]:
    """A form's validation failure as messages for people, by field."""
    out = form_errors(exc)
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] != "string_pattern_mismatch":
            continue
        if field in _PATTERN_MESSAGES:
            out[field] = translate(_PATTERN_MESSAGES[field])
        elif provider is not None and field == provider.id_field:
            out[field] = translate(_ID_PATTERN_MESSAGE)
    return out


async def attempt(
    action: Callable[[], Awaitable[T]], provider: Provider | None = None
) -> tuple[T | None, dict[str, str], int]:
    """A form's service call: its result, or its refusal as messages by field and its status."""
    try:
        return await action(), {}, 200
    except ValidationError as exc:
        return None, validation_errors(exc, provider), 422
    except AppError as exc:
        return None, problem_errors(exc), exc.status


def connection_line(channel: ChannelRead) -> str:
    """Whether a channel is connected, and to what, in the list's words."""
    provider = PROVIDERS.get(channel.medium)
    if channel.connection is None or provider is None:
        return _("Not connected")
    return _("Connected (%(provider)s)", provider=provider.name)


def connection_fields(
    provider: Provider, shown: dict[str, Any], typed: dict[str, str] | None
) -> list[dict[str, Any]]:
    """The connection form's fields, each with its value (never a secret's) and whether set."""
    values = typed if typed is not None else {k: str(v) for k, v in shown.items()}

    def text(name: str, label: str, *, required: bool = False, hint: str = "") -> dict[str, Any]:
        return {"name": name, "label": translate(label), "secret": False, "required": required,
                "value": values.get(name, ""), "hint": hint}  # fmt: skip

    def secret(name: str, label: str) -> dict[str, Any]:
        is_set = bool(shown.get(f"{name}_set"))
        hint = _("Saved — leave empty to keep it.") if is_set else ""
        return {"name": name, "label": translate(label), "secret": True, "required": not is_set,
                "value": "", "hint": hint}  # fmt: skip

    return [
        text(provider.id_field, provider.id_label, required=True),
        secret(provider.bearer_field, provider.bearer_label),
        secret("app_secret", N_("App secret")),
        text(
            "verify_token",
            N_("Verify token"),
            hint=_("Leave it empty and Rolodex makes one."),
        ),
        text(
            "graph_url",
            N_("Graph API URL"),
            hint=_("Leave it empty for %(url)s.", url="https://graph.facebook.com"),
        ),
        text("api_version", N_("Graph API version"), hint=_("e.g. %(version)s", version="v21.0")),
    ]


def connection_document(provider: Provider, given: dict[str, str]) -> dict[str, Any]:
    """The `connection` the form asks for: its id always, the rest only where typed (an empty
    secret keeps the stored one; an empty verify token, URL or version takes the default)."""
    doc: dict[str, Any] = {"provider": provider.key, provider.id_field: given[provider.id_field]}
    names = (provider.bearer_field, "app_secret", "verify_token", "graph_url", "api_version")
    return doc | {name: given[name] for name in names if given.get(name)}


def typed_back(provider: Provider, given: dict[str, str]) -> dict[str, str]:
    """What the person typed, shown again after a refusal: never a secret."""
    names = (provider.id_field, "verify_token", "graph_url", "api_version")
    return {name: given.get(name, "") for name in names}

"""What the Channels pages know of each provider's form: its fields, what to set up at the
platform, and a service's refusal as messages beside the fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from rolodex.catalogue import Medium
from rolodex.channels.connectors import meta, twilio, x
from rolodex.channels.schemas import (
    ChannelRead,
    InstagramConnection,
    MessengerConnection,
    SmtpConnection,
    TwilioConnection,
    WhatsAppConnection,
    XConnection,
)
from rolodex.errors import AppError
from rolodex.i18n import N_, _, translate
from rolodex.users.schemas import form_errors

T = TypeVar("T")

Connection = (
    WhatsAppConnection
    | MessengerConnection
    | InstagramConnection
    | TwilioConnection
    | XConnection
    | SmtpConnection
)
Kind = Literal["text", "secret", "number", "email", "checkbox"]


@dataclass(frozen=True)
class FormField:
    """One field of a connection form; the texts are message ids, translated when shown."""

    name: str
    label: str
    kind: Kind = "text"
    required: bool = False
    hint: str = ""  # may name %(default)s: what an empty field stands for
    default: str = ""
    invalid: str = ""  # said when the value has the wrong shape (the schema's pattern, a range)


@dataclass(frozen=True)
class Provider:
    """How a medium connects: its provider, the form's fields and what to set up at the platform."""

    key: str
    name: str  # a product name: the same in every language
    model: type[Connection]
    fields: tuple[FormField, ...]
    not_connected: str  # the state line before connecting (a message id)
    connected: str  # what the page says once the connection is saved (a message id)
    setup_heading: str = ""  # the card that says what to paste where at the platform
    steps: tuple[str, ...] = ()
    verify_token: bool = False  # Meta's subscription handshake: shown beside the webhook URL


_ID_INVALID = N_("Use only letters, digits and the signs . _ : -")
_EMPTY_IS_DEFAULT = N_("Leave it empty for %(default)s.")
_SAVED = N_("Saved — leave empty to keep it.")


def _meta_fields(
    id_field: str, id_label: str, bearer: str, bearer_label: str
) -> tuple[FormField, ...]:
    return (
        FormField(id_field, id_label, required=True, invalid=_ID_INVALID),
        FormField(bearer, bearer_label, "secret", required=True),
        FormField("app_secret", N_("App secret"), "secret", required=True),
        FormField(
            "verify_token",
            N_("Verify token"),
            hint=N_("Leave it empty and Rolodex makes one."),
            invalid=N_("Use letters, digits and punctuation, without spaces."),
        ),
        FormField(
            "graph_url",
            N_("Graph API URL"),
            hint=_EMPTY_IS_DEFAULT,
            default=meta.GRAPH_DEFAULTS["graph_url"],
        ),
        FormField(
            "api_version",
            N_("Graph API version"),
            hint=N_("e.g. %(default)s"),
            default=meta.GRAPH_DEFAULTS["api_version"],
            invalid=N_("Write the version as Meta does, e.g. v21.0."),
        ),
    )


_META_NOT_CONNECTED = N_(
    "Not connected: enter the details from your Meta app to connect this channel to %(provider)s."
)
_META_CONNECTED = N_(
    "The connection is saved. Set up the webhook in Meta's dashboard, then test the connection."
)
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
_IN_META = N_("Set up the webhook in Meta")

PROVIDERS = {
    Medium.WHATSAPP: Provider(
        key="whatsapp_cloud",
        name="WhatsApp Business Cloud API",
        model=WhatsAppConnection,
        fields=_meta_fields(
            "phone_number_id", N_("Phone number ID"), "access_token", N_("Access token")
        ),
        not_connected=_META_NOT_CONNECTED,
        connected=_META_CONNECTED,
        setup_heading=_IN_META,
        steps=(
            N_(
                "In the Meta App Dashboard, open WhatsApp > Configuration > Webhook "
                "and choose Edit."
            ),
            _PASTE,
            N_("Under Webhook fields, subscribe to messages."),
        ),
        verify_token=True,
    ),
    Medium.FACEBOOK: Provider(
        key="messenger",
        name="Messenger",
        model=MessengerConnection,
        fields=_meta_fields("page_id", N_("Page ID"), "page_access_token", N_("Page access token")),
        not_connected=_META_NOT_CONNECTED,
        connected=_META_CONNECTED,
        setup_heading=_IN_META,
        steps=_MESSAGING_STEPS,
        verify_token=True,
    ),
    Medium.INSTAGRAM: Provider(
        key="instagram",
        name="Instagram",
        model=InstagramConnection,
        fields=_meta_fields(
            "account_id", N_("Instagram account ID"), "page_access_token", N_("Page access token")
        ),
        not_connected=_META_NOT_CONNECTED,
        connected=_META_CONNECTED,
        setup_heading=_IN_META,
        steps=_MESSAGING_STEPS,
        verify_token=True,
    ),
    Medium.SMS: Provider(
        key="twilio",
        name="Twilio",
        model=TwilioConnection,
        fields=(
            FormField(
                "account_sid",
                N_("Account SID"),
                required=True,
                hint=N_("On the Twilio Console's dashboard; it starts with AC."),
                invalid=N_("An Account SID is AC followed by 32 letters a to f and digits."),
            ),
            FormField(
                "auth_token",
                N_("Auth token"),
                "secret",
                required=True,
                hint=N_("Twilio signs every webhook with it, and Rolodex sends with it."),
            ),
            FormField(
                "from_number",
                N_("Twilio phone number"),
                required=True,
                hint=N_("The number customers text, in international format: e.g. +14155550100."),
                invalid=N_(
                    "Write the number in international format: + and the country code, "
                    "e.g. +14155550100."
                ),
            ),
            FormField(
                "api_url",
                N_("Twilio API URL"),
                hint=_EMPTY_IS_DEFAULT,
                default=twilio.DEFAULT_API_URL,
            ),
        ),
        not_connected=N_(
            "Not connected: enter the details from your Twilio account to connect this "
            "channel to %(provider)s."
        ),
        connected=N_(
            "The connection is saved. Set the number's messaging webhook in the Twilio "
            "Console, then test the connection."
        ),
        setup_heading=N_("Set up the webhook in Twilio"),
        steps=(
            N_(
                "In the Twilio Console, open Phone Numbers > Manage > Active numbers and "
                "choose this number."
            ),
            N_(
                'Under Messaging Configuration, set "A message comes in" to Webhook, paste the '
                "Webhook URL below, choose HTTP POST and save."
            ),
            N_(
                "Twilio signs each request with the Auth token over this exact URL: if Rolodex's "
                "public address changes, paste the new one. Delivery statuses need nothing "
                "more: each reply asks Twilio to report them to the same URL."
            ),
        ),
    ),
    Medium.TWITTER: Provider(
        key="x",
        name="X",
        model=XConnection,
        fields=(
            FormField(
                "account_user_id",
                N_("Account user ID"),
                required=True,
                hint=N_("The X account's numeric user id, e.g. 1234567890."),
                invalid=_ID_INVALID,
            ),
            FormField(
                "consumer_secret",
                N_("API key secret"),
                "secret",
                required=True,
                hint=N_("Your X app's consumer secret: X signs every delivery with it."),
            ),
            FormField(
                "access_token",
                N_("Access token"),
                "secret",
                required=True,
                hint=N_(
                    "The account's OAuth 2.0 user token, with the dm.read and dm.write scopes."
                ),
            ),
            FormField(
                "api_url", N_("X API URL"), hint=_EMPTY_IS_DEFAULT, default=x.DEFAULT_API_URL
            ),
        ),
        not_connected=N_(
            "Not connected: enter the details from your X developer app to connect this "
            "channel to %(provider)s."
        ),
        connected=N_(
            "The connection is saved. Register the webhook for your X app and subscribe the "
            "account, then test the connection."
        ),
        setup_heading=N_("Set up the webhook in X"),
        steps=(
            N_(
                "In the X Developer Portal, register the Webhook URL below as your app's "
                "Account Activity webhook. X checks it with a CRC request, which Rolodex "
                "answers with the API key secret."
            ),
            N_(
                "Subscribe this account to the webhook: its direct messages then arrive here, "
                "each signed by X."
            ),
        ),
    ),
    Medium.EMAIL: Provider(
        key="smtp",
        name="SMTP",
        model=SmtpConnection,
        fields=(
            FormField(
                "address",
                N_("Email address"),
                "email",
                required=True,
                hint=N_("The address customers write to, e.g. support@acme.com."),
            ),
            FormField(
                "display_name",
                N_("Sender name"),
                hint=N_("Shown as who wrote the replies, e.g. Acme Support."),
            ),
            FormField(
                "smtp_host",
                N_("SMTP server"),
                required=True,
                hint=N_("Your mail server that sends the replies, e.g. smtp.acme.com."),
                invalid=N_("Write a host name or an IP address, e.g. smtp.acme.com."),
            ),
            FormField(
                "smtp_port",
                N_("SMTP port"),
                "number",
                required=True,
                hint=N_("Usually 587 with STARTTLS, or 25."),
                invalid=N_("Enter a port number from 1 to 65535."),
            ),
            FormField(
                "smtp_username",
                N_("SMTP user name"),
                hint=N_("Only if your server asks for a login."),
            ),
            FormField(
                "smtp_password",
                N_("SMTP password"),
                "secret",
                hint=N_("Only if your server asks for a login."),
            ),
            FormField(
                "smtp_starttls",
                N_("Use STARTTLS"),
                "checkbox",
                hint=N_("Encrypt the connection to the server before logging in and sending."),
            ),
        ),
        not_connected=N_(
            "Not connected: enter the address customers write to and the mail server that "
            "sends your replies."
        ),
        connected=N_(
            "The connection is saved. Make sure mail to the address reaches Rolodex (below), "
            "then test the connection."
        ),
    ),
}

# What a channel's page says after a change (`?done=<key>`); "connected" is the provider's.
DONE = {
    "added": N_("Channel %(name)s was added. Connect it to its platform below."),
    "saved": N_("Changes to %(name)s are saved."),
    "disconnected": N_(
        "%(name)s is disconnected: Rolodex no longer receives or sends its messages."
    ),
    "retried": N_("The delivery will be processed again in a moment."),
    "webchat": N_("The web chat settings of %(name)s are saved."),
    "rotated": N_(
        "The identity secret is rotated: identifiers signed with the old one are refused from "
        "now on. Give the new one to your site."
    ),
}
# Pydantic's error types that mean "this value has the wrong shape" for a field with `invalid`.
_SHAPE_ERRORS = {
    "string_pattern_mismatch",
    "int_parsing",
    "int_from_float",
    "greater_than_equal",
    "less_than_equal",
}


def done_message(key: str, provider: Provider | None) -> str | None:
    """The message id for `?done=<key>`, None for a key the page does not know."""
    if key == "connected":
        return provider.connected if provider else None
    return DONE.get(key)


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
    invalid = {f.name: f.invalid for f in provider.fields if f.invalid} if provider else {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] in _SHAPE_ERRORS and field in invalid:
            out[field] = translate(invalid[field])
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
    if channel.connection is not None and channel.connection.get("provider") == "widget":
        return _("Connected (%(provider)s)", provider=_("web chat widget"))
    if channel.connection is None or provider is None:
        return _("Not connected")
    return _("Connected (%(provider)s)", provider=provider.name)


def connection_fields(
    provider: Provider, shown: Mapping[str, Any], typed: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """The connection form's fields, each with its value (never a secret's) and whether set."""
    values = typed if typed is not None else shown
    out = []
    for f in provider.fields:
        hint = translate(f.hint) % {"default": f.default} if f.hint else ""
        required, value = f.required, values.get(f.name)
        if f.kind == "secret":
            # A saved secret is never written back: an empty field keeps it.
            if shown.get(f"{f.name}_set"):
                required, hint = False, translate(_SAVED)
            value = ""
        out.append({
            "name": f.name,
            "label": translate(f.label),
            "kind": f.kind,
            "required": required,
            "optional": not f.required,
            "value": "" if value is None or isinstance(value, bool) else str(value),
            "checked": value is True or value == "true",
            "hint": hint,
        })  # fmt: skip
    return out


def connection_document(provider: Provider, given: Mapping[str, str]) -> dict[str, Any]:
    """The `connection` the form asks for: each field typed (an empty secret keeps the stored
    one; an empty optional field takes its default or none), a checkbox as true or false."""
    doc: dict[str, Any] = {"provider": provider.key}
    for f in provider.fields:
        value = given.get(f.name, "")
        if f.kind == "checkbox":
            doc[f.name] = value == "true"
        elif value.strip():
            doc[f.name] = value
    return doc


def typed_back(provider: Provider, given: Mapping[str, str]) -> dict[str, str]:
    """What the person typed, shown again after a refusal: never a secret."""
    return {f.name: given.get(f.name, "") for f in provider.fields if f.kind != "secret"}

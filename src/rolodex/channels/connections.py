"""A channel's platform connection: checked, stored with its secrets encrypted, read back.

The readable fields live in `channels.connection` (JSON), the secrets in `channels.secrets`
as one Fernet token (kit/crypto.py). A read shows `<secret>_set: true` instead of a secret.
"""

from __future__ import annotations

import secrets
from typing import Any

from rolodex.channels.connectors import connector_for
from rolodex.channels.connectors.base import Connection, Connector
from rolodex.channels.schemas import ConnectionInput
from rolodex.config import Settings
from rolodex.errors import Conflict, InvalidInput
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit import crypto, outbound
from rolodex.models import Channel

SECRETS_SET = "secrets_set"


def apply(channel: Channel, data: ConnectionInput | None, settings: Settings) -> None:
    """Connect, re-connect or (None) disconnect a channel; 422 naming the field when refused."""
    if data is None:
        channel.provider = channel.connection = channel.secrets = None
        return
    connector = connector_for(data.provider)  # the schema admits only registered providers
    if connector.medium != channel.medium:
        raise InvalidInput.for_field(
            "connection.provider",
            _("This provider does not connect a channel of this medium."),
            code="provider_mismatch",
        )
    given = data.model_dump(exclude_none=True, exclude={"provider"})
    kept = _secrets(channel, settings) if channel.provider == data.provider else {}
    sealed = {name: given.pop(name, kept.get(name)) for name in connector.secret_fields}
    for name, value in sealed.items():
        if value is None and name not in connector.optional_secrets:
            raise InvalidInput.for_field(
                f"connection.{name}", _("Enter this secret to connect the channel.")
            )
    readable = {**connector.defaults, **given}
    if connector.verify_token:
        kept_token = (channel.connection or {}).get("verify_token")
        readable.setdefault("verify_token", kept_token or secrets.token_urlsafe(24))
    kept_fields = (channel.connection or {}) if channel.provider == data.provider else {}
    for name, make in connector.generated.items():
        readable[name] = kept_fields.get(name) or make()
    if connector.url_field is not None:
        name = connector.url_field
        try:
            outbound.check_url(readable[name], allow_private=settings.allow_private_webhook_targets)
        except outbound.UnsafeTarget as exc:
            raise InvalidInput.for_field(
                f"connection.{name}", jobs.unsafe_target_message(exc)
            ) from exc
        readable[name] = readable[name].rstrip("/")
    sealed = {name: value for name, value in sealed.items() if value is not None}
    # Which secrets are set, readable without the key (an optional one may be absent).
    readable[SECRETS_SET] = sorted(sealed)
    channel.provider = data.provider
    channel.connection = readable
    channel.secrets = crypto.seal(settings.resolved_secret_key(), sealed)


def _secrets(channel: Channel, settings: Settings) -> dict[str, Any]:
    if not channel.secrets:
        return {}
    try:
        return crypto.unseal(settings.resolved_secret_key(), channel.secrets)
    except crypto.Undecryptable:
        return {}


def load(channel: Channel, settings: Settings) -> tuple[Connector, Connection]:
    """The channel's connector and its whole connection, secrets decrypted (409 if none)."""
    if channel.provider is None or channel.connection is None:
        raise Conflict(_("This channel is not connected to its platform."), code="not_connected")
    try:
        opened = crypto.unseal(settings.resolved_secret_key(), channel.secrets or "")
    except crypto.Undecryptable as exc:
        raise Conflict(
            _(
                "This channel's secrets cannot be read with the current secret key; "
                "enter them again."
            ),
            code="secrets_unreadable",
        ) from exc
    return connector_for(channel.provider), {**channel.connection, **opened}


def describe(channel: Channel) -> dict[str, Any] | None:
    """The connection as a read shows it: its fields and which secrets are set."""
    if channel.provider is None or channel.connection is None:
        return None
    shown: dict[str, Any] = {"provider": channel.provider, **channel.connection}
    present = shown.pop(SECRETS_SET, None)
    for name in connector_for(channel.provider).secret_fields:
        shown[f"{name}_set"] = name in present if present is not None else bool(channel.secrets)
    return shown


def webhook_url(channel: Channel, settings: Settings) -> str | None:
    """Where the platform posts this channel's deliveries (absolute, from ROLODEX_PUBLIC_URL);
    None when not connected or when its platform never posts (email comes by SMTP)."""
    if channel.provider is None or not connector_for(channel.provider).webhooks:
        return None
    return channel_webhook_url(channel.id, settings)


def channel_webhook_url(channel_id: str, settings: Settings) -> str:
    """`{ROLODEX_PUBLIC_URL}/webhooks/{channel_id}`: the URL platforms sign (Twilio)."""
    return f"{settings.public_url.rstrip('/')}/webhooks/{channel_id}"

"""The platform connectors, by provider (the `provider` of a channel's connection)."""

from __future__ import annotations

from rolodex.channels.connectors import (
    instagram,
    messenger,
    smtp,
    twilio,
    whatsapp_cloud,
    widget,
    x,
)
from rolodex.channels.connectors.base import Connector

CONNECTORS: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    """Make a connector reachable by its provider (a later one replaces an earlier one)."""
    CONNECTORS[connector.provider] = connector
    return connector


def connector_for(provider: str) -> Connector:
    """The connector of a provider; KeyError when there is none."""
    return CONNECTORS[provider]


for _connector in (
    whatsapp_cloud.connector,
    messenger.connector,
    instagram.connector,
    x.connector,
    twilio.connector,
    smtp.connector,
    widget.connector,
):
    register(_connector)

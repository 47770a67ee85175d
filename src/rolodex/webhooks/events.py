"""Events of the webhooks domain."""

from __future__ import annotations

from dataclasses import dataclass

from rolodex.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class WebhooksChanged(Event):
    """A workspace's webhooks were added, changed, disabled or removed."""

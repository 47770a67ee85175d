"""Every domain's subscriptions to other domains' events, registered once per process.

This list is the one place that says which domains react to events; each domain declares
what it subscribes to in its own `subscribers.py` (`register(registry)`).
"""

from __future__ import annotations

import importlib

from rolodex.kit.events import registry

# The order is the order reactions run in: memberships before routing (which reads them),
# webhooks (their snapshots see what the others wrote), then the live stream.
SUBSCRIBER_MODULES: tuple[str, ...] = (
    "rolodex.attributes.subscribers",
    "rolodex.channels.subscribers",
    "rolodex.audit.subscribers",
    "rolodex.groups.subscribers",
    "rolodex.routing.subscribers",
    "rolodex.privacy.subscribers",
    "rolodex.crm.subscribers",
    "rolodex.bots.subscribers",
    "rolodex.webhooks.subscribers",
    # Last: the stream only collects what happened; it writes nothing others would read.
    "rolodex.stream.subscribers",
)

_registered = False


def register_all() -> None:
    """Register every domain's subscribers (idempotent: each process does it once)."""
    global _registered
    if _registered:
        return
    for name in SUBSCRIBER_MODULES:
        importlib.import_module(name).register(registry)
    _registered = True

"""What the channels domain does when other domains change things."""

from __future__ import annotations

from rolodex.channels import delivery
from rolodex.conversations.events import MessageSent
from rolodex.kit.events import Registry


def register(registry: Registry) -> None:
    """A reply on a connected channel is queued for delivery in the reply's transaction."""
    registry.on(MessageSent, delivery.on_message_sent)

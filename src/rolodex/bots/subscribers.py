"""What bots do when conversations change: hold new ones, pass on contacts' messages."""

from __future__ import annotations

from rolodex.bots import service
from rolodex.conversations.events import MessageReceived
from rolodex.kit.events import Registry


def register(registry: Registry) -> None:
    """Subscribe in the transaction: a bot is told only of what was committed (the outbox)."""
    registry.on(MessageReceived, service.message_received)

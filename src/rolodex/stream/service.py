"""What other domains use of the stream: one contact's new messages (a web chat visitor's feed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from rolodex.stream.broker import CONNECTED, PING
from rolodex.stream.broker import Broker as Broker


async def contact_messages(
    broker: Broker,
    contact_id: str,
    render: Callable[[str], Awaitable[bytes | None]],
    ping_seconds: float,
) -> AsyncIterator[bytes]:
    """SSE frames of the contact's new messages, each rendered by `render(message_id)` (None:
    skipped), with a `: connected` comment first and `: ping` comments while idle."""
    queue = broker.watch(contact_id)
    try:
        yield CONNECTED
        while True:
            try:
                async with asyncio.timeout(ping_seconds):
                    message_id = await queue.get()
            except TimeoutError:
                yield PING
                continue
            frame = await render(message_id)
            if frame is not None:
                yield frame
    finally:
        broker.unwatch(contact_id, queue)

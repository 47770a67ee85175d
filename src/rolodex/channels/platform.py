"""Calling a channel's platform from a job: one HTTP client per call, safe targets only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from rolodex.config import Settings
from rolodex.kit import outbound


@asynccontextmanager
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every request is checked (no loopback or private targets in production)."""

    async def guard(request: httpx.Request) -> None:
        # Graph's base URL is the admin's and media URLs come in payloads: check each one.
        await outbound.check_resolved(
            str(request.url), allow_private=settings.allow_private_webhook_targets
        )

    http = outbound.client(settings.platform_timeout_seconds)
    http.event_hooks["request"] = [guard]
    async with http:
        yield http

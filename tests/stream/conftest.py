"""A real server in a thread (SSE needs a network stream) and an SSE reader for the tests."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from rolodex.app import create_app
from rolodex.config import Settings
from support.live import free_port


@dataclass
class Event:
    """One server-sent event as read off the wire."""

    id: str | None
    event: str
    data: dict[str, Any]
    raw: str


class ThreadServer:
    """create_app(settings) under uvicorn on a loopback port, in a thread of this process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ThreadServer:
        """Serve, and return once /healthz answers."""
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving (open streams are closed by the broker's stop)."""
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def stream_settings(settings: Settings) -> Settings:
    """The test settings; tests may copy them with other stream limits."""
    return settings


@pytest.fixture
def live(stream_settings: Settings) -> Iterator[ThreadServer]:
    """A running server on the test's database."""
    server = ThreadServer(stream_settings).start()
    yield server
    server.stop()


@pytest.fixture
async def http(live: ThreadServer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the running server."""
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as client:
        yield client


class Stream:
    """A connected GET /api/v1/stream, read event by event."""

    def __init__(self, client: httpx.AsyncClient, response: httpx.Response, context: Any) -> None:
        self._client = client
        self.response = response
        self._context = context
        self._lines = response.aiter_lines()
        self.comments: list[str] = []
        self.ended = False

    @classmethod
    async def open(
        cls,
        base_url: str,
        headers: dict[str, str],
        *,
        last_event_id: str | None = None,
        query: str | None = None,
    ) -> Stream:
        """Connect and wait until the server has registered the client."""
        client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=None))
        hdrs = dict(headers)
        if last_event_id is not None:
            hdrs["Last-Event-ID"] = last_event_id
        url = "/api/v1/stream" + (f"?last_event_id={query}" if query else "")
        context = client.stream("GET", url, headers=hdrs)
        response = await context.__aenter__()
        stream = cls(client, response, context)
        if response.status_code == 200:
            line = await asyncio.wait_for(anext(stream._lines), 10)
            assert line == ": connected", line
        return stream

    async def next(self, timeout: float = 5.0) -> Event:
        """The next event (comments skipped); fails after `timeout` seconds."""
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> Event:
        fields: dict[str, str] = {}
        raw: list[str] = []
        async for line in self._lines:
            if line.startswith(":"):
                self.comments.append(line)
                continue
            if line == "":
                if fields:
                    return Event(
                        id=fields.get("id"),
                        event=fields.get("event", "message"),
                        data=json.loads(fields.get("data", "null")),
                        raw="\n".join(raw),
                    )
                continue
            raw.append(line)
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        self.ended = True
        raise EOFError("the stream ended")

    async def comment(self, timeout: float = 5.0) -> str:
        """The next comment line (`: ping`), events before it skipped."""
        return await asyncio.wait_for(self._comment(), timeout)

    async def _comment(self) -> str:
        async for line in self._lines:
            if line.startswith(":"):
                return line
        raise EOFError("the stream ended")

    async def until(self, kind: str, timeout: float = 5.0, **match: Any) -> Event:
        """The next event of this type whose data has these values (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            event = await self.next(max(0.01, deadline - time.monotonic()))
            if event.event == kind and all(event.data.get(k) == v for k, v in match.items()):
                return event

    async def close(self) -> None:
        """Disconnect."""
        await self._context.__aexit__(None, None, None)
        await self._client.aclose()


@pytest.fixture
async def streams(live: ThreadServer) -> AsyncIterator[Any]:
    """Open streams on the running server; all closed after the test."""
    opened: list[Stream] = []

    async def open_stream(headers: dict[str, str], **kwargs: Any) -> Stream:
        stream = await Stream.open(live.url, headers, **kwargs)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        await stream.close()

"""Helpers of the end-to-end channel tests: a live server's API as the admin, and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def eventually(
    probe: Callable[[], T | None], timeout: float = 20.0, dump: Callable[[], Any] | None = None
) -> T:
    """Poll until probe() returns something truthy (the worker runs in the other process).

    `dump` says what was seen when it never does.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in time {dump() if dump else ''}")
        time.sleep(0.1)


class Api:
    """The admin's API client on the live server."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=15
        )

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code < 400, response.text
        return response.json() if response.content else None

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """A conversation's messages."""
        items: list[dict[str, Any]] = self(
            "GET", f"/api/v1/conversations/{conversation_id}/messages"
        )["items"]
        return items

    def conversations(self) -> list[dict[str, Any]]:
        """The workspace's conversations, newest first."""
        items: list[dict[str, Any]] = self("GET", "/api/v1/conversations")["items"]
        return items

    def delivery(self, conversation_id: str, message_id: str) -> dict[str, Any]:
        """A reply's delivery."""
        found = next(m for m in self.messages(conversation_id) if m["id"] == message_id)
        result: dict[str, Any] = found["delivery"]
        return result

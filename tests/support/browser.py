"""Steps shared by browser tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

LOGIN_PASSWORD = "s3cret-password"


def login(page: Any, email: str, password: str) -> None:
    """Fill in and submit the login form shown on the page."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run async set-up code (builders) from a browser test, whose thread has Playwright's loop."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]

"""Steps shared by browser tests."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from rolodex.config import Settings
from support.processes import run_cli

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


def create_workspace(settings: Settings, plan: str = "enterprise") -> dict[str, str]:
    """`rolodex workspace create --json`; its admin, boss@acme.test, logs in with LOGIN_PASSWORD."""
    result = run_cli(
        settings,
        "workspace",
        "create",
        "--name",
        "Acme",
        "--plan",
        plan,
        "--admin-email",
        "boss@acme.test",
        "--admin-password",
        LOGIN_PASSWORD,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def api_client(base_url: str, token: str) -> httpx.Client:
    """An httpx client for the live server's REST API with a bearer token."""
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

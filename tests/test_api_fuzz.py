"""Property-based fuzzing of the whole REST API from outside: nothing a client sends gives a 500.

Schemathesis reads the live server's OpenAPI schema and sends generated requests
(valid and invalid) with an admin's token, over real HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from rolodex.config import Settings
from support.processes import run_cli, spawn_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """A real server with one enterprise workspace; yields its URL."""
    tmp = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, tmp / "rolodex.db")
    server_settings = Settings(
        database_url=f"sqlite:///{tmp / 'rolodex.db'}", data_dir=tmp / "data", secret_key="fuzz"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = spawn_cli(server_settings, "serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    created = run_cli(
        server_settings,
        "workspace",
        "create",
        "--name",
        "Fuzz",
        "--plan",
        "enterprise",
        "--admin-email",
        "fuzz@example.test",
        "--admin-password",
        "fuzz-password",
        "--json",
    )
    os.environ["ROLODEX_FUZZ_TOKEN"] = json.loads(created.stdout)["token"]
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type", "")
    return str(value[0] if isinstance(value, list) else value)


def test_no_request_gives_a_server_error(fuzz_server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json")
    headers = {"Authorization": f"Bearer {os.environ['ROLODEX_FUZZ_TOKEN']}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=int(os.environ.get("ROLODEX_FUZZ_EXAMPLES", "30")),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            where = f"{case.method} {case.formatted_path}"
            if response.status_code >= 500:
                failures.append(f"{where} -> {response.status_code}: {response.text[:300]}")
            elif response.status_code >= 400 and not _content_type(response).startswith(
                "application/problem+json"
            ):
                failures.append(f"{where} -> {response.status_code} without problem+json")

        check()
    assert not failures, "\n".join(failures[:20])

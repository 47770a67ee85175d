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
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from conftest import _truncate_postgres
from rolodex.config import Settings
from support.processes import rolodex_env, run_cli

MB = 1024 * 1024

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[str]:
    """A real server with one enterprise workspace, on each database; yields its URL."""
    tmp = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp / "rolodex.db")
        database_url = f"sqlite:///{tmp / 'rolodex.db'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
        _truncate_postgres(database_url)
    server_settings = Settings(database_url=database_url, data_dir=tmp / "data", secret_key="fuzz")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rolodex", "serve", "--port", str(port)],
            env=rolodex_env(server_settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
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
    os.environ["ROLODEX_FUZZ_LOG"] = str(log_path)
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type", "")
    return str(value[0] if isinstance(value, list) else value)


def _oversized(value: Any) -> Any:
    """The same body with every string a megabyte long (NUL-free: that is another check)."""
    if isinstance(value, str):
        return "x" * MB
    if isinstance(value, dict):
        return {key: _oversized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_oversized(item) for item in value]
    return value


def test_no_request_gives_a_server_error(fuzz_server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json")
    headers = {"Authorization": f"Bearer {os.environ['ROLODEX_FUZZ_TOKEN']}"}
    failures: dict[str, str] = {}  # the first failure of each operation
    # The live stream never ends by design (tests/stream/ covers its auth, resume and limits).
    operations = [
        op for op in (r.ok() for r in schema.get_all_operations()) if op.path != "/api/v1/stream"
    ]
    assert len(operations) >= 10

    def judge(case: Any, response: Any, what: str) -> None:
        where = f"{case.method} {case.formatted_path}{what}"
        key = f"{case.method} {case.operation.path}"
        if response.status_code >= 500:
            failures.setdefault(key, f"{where} -> {response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400 and not _content_type(response).startswith(
            "application/problem+json"
        ):
            failures.setdefault(key, f"{where} -> {response.status_code} without problem+json")

    for operation in operations:
        oversized_sent = False

        # Schemathesis generates NUL characters in strings by default (allow_x00).
        @given(case=operation.as_strategy())
        @settings(
            max_examples=int(os.environ.get("ROLODEX_FUZZ_EXAMPLES", "30")),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            nonlocal oversized_sent
            judge(case, case.call(headers=headers), "")
            if not oversized_sent and isinstance(case.body, dict | list):
                oversized_sent = True
                case.body = _oversized(case.body)
                judge(case, case.call(headers=headers), " (1 MB strings)")

        check()
    assert not failures, "\n".join(failures.values())
    server_log = Path(os.environ["ROLODEX_FUZZ_LOG"]).read_text(errors="replace")
    assert "[parameters:" not in server_log
    assert "Traceback" not in server_log

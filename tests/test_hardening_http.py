"""What every request meets before a route: bounded bodies, NUL-free text, one log line per
unexpected error, no statement values in logs, and security headers on pages."""

from __future__ import annotations

import base64
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from builders import inbound_body, make_channel, make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from support.processes import spawn_cli

MB = 1024 * 1024


# --- bodies ------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple]:
    """A real `rolodex serve` process; yields (host, port, pid)."""
    import shutil

    tmp = tmp_path_factory.mktemp("limits")
    shutil.copy(sqlite_template, tmp / "rolodex.db")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'rolodex.db'}", data_dir=tmp / "data", secret_key="lim"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = spawn_cli(settings, "serve", "--port", str(port))
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield "127.0.0.1", port, process.pid
    process.terminate()
    process.wait(10)


def _raw_post(host: str, port: int, head: str, chunks: Iterator[bytes]) -> tuple[bytes, float]:
    """Send a request by hand; the answer's head and body, and how long the head took."""
    started = time.perf_counter()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        elapsed = time.perf_counter() - started
        length = 0
        for line in answer.split(b"\r\n\r\n")[0].split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(answer.split(b"\r\n\r\n", 1)[-1]) < length:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer, elapsed


def test_a_50_mb_body_without_a_token_is_refused_at_once(server: tuple) -> None:
    host, port, pid = server
    rss_before = _rss_kb(pid)
    head = (
        f"POST /api/v1/contacts/x/attributes HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {50 * MB}\r\n\r\n"
    )
    answer, elapsed = _raw_post(host, port, head, iter([b"{" + b" " * 65536]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    assert b"payload_too_large" in answer
    assert elapsed < 0.1
    assert _rss_kb(pid) - rss_before < 20 * 1024


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(server: tuple) -> None:
    host, port, pid = server
    rss_before = _rss_kb(pid)
    head = (
        f"POST /api/v1/auth/token HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = b" " * MB

    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        yield b"0\r\n\r\n"

    answer, _ = _raw_post(host, port, head, chunks())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert _rss_kb(pid) - rss_before < 20 * 1024


async def test_a_2_mib_json_body_is_413_before_authentication(client: httpx.AsyncClient) -> None:
    body = b'{"email": "' + b"a" * (2 * MB) + b'", "password": "x"}'
    response = await client.post(
        "/api/v1/auth/token", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "payload_too_large"
    response = await client.post(
        "/api/v1/contacts/c/attributes", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_an_attachment_just_under_its_limit_still_arrives(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    settings.max_attachment_bytes = 2 * MB  # more than the JSON limit, less than it as base64
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    content = base64.b64encode(b"x" * (2 * MB - 1)).decode()
    body = inbound_body(
        attachments=[{"filename": "a.bin", "content_type": "image/png", "content_base64": content}]
    )
    response = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=body, headers=admin.headers
    )
    assert response.status_code == 201, response.text[:300]


# --- NUL ---------------------------------------------------------------------------------


async def test_nul_anywhere_in_a_body_is_422_naming_the_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    body = inbound_body(attributes={"first-name": "Ana\x00"})
    response = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=body, headers=admin.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "sender.attributes.first-name"
    response = await client.post(
        "/api/v1/attributes", json={"label": "Ti\x00er", "type": "text"}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "label"
    contacts = await client.get("/api/v1/contacts", headers=admin.headers)
    assert contacts.json()["items"] == []


async def test_nul_without_a_token_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token", json={"email": "a\x00@example.test", "password": "x"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "email"


async def test_nul_in_the_path_or_query_is_422(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    response = await client.get("/api/v1/contacts?q=an%00a", headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.q"
    response = await client.get("/api/v1/contacts/con%00x", headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path"


# --- errors and logs ---------------------------------------------------------------------


async def test_an_unexpected_error_is_logged_once_with_the_request_id_of_the_answer(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    assert isinstance(app, FastAPI)

    async def boom() -> None:
        raise RuntimeError("unforeseen")

    app.add_api_route("/api/v1/_boom", boom)
    with caplog.at_level(logging.ERROR):
        response = await client.get("/api/v1/_boom")
    assert response.status_code == 500
    problem = response.json()
    assert problem["code"] == "internal_error"
    request_id = problem["request_id"]
    records = [r for r in caplog.records if "unforeseen" in (r.exc_text or str(r.exc_info))]
    assert len(records) == 1
    assert request_id in records[0].getMessage()


async def test_a_failed_statement_does_not_carry_its_values(db: Database) -> None:
    with pytest.raises(DBAPIError) as failure:
        async with db.transaction() as session:
            await session.execute(
                text("INSERT INTO no_such_table VALUES (:secret)"), {"secret": "whsec-1234"}
            )
    assert "whsec-1234" not in str(failure.value)


# --- pages -------------------------------------------------------------------------------


async def test_pages_carry_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    api = await client.get("/healthz")
    assert api.headers["x-content-type-options"] == "nosniff"

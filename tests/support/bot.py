"""A programmable bot on loopback for tests: records what it is sent, answers what it is told."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Bot:
    """A running HTTP server speaking the virtual-agent contract's receiving side."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []  # {headers, body (bytes), json}
        self.answers: list[tuple[int, Any]] = []  # consumed in order; then `default`
        self.default: tuple[int, Any] = (200, {})
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                bot.received.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "json": json.loads(body),
                    }
                )
                status, answer = bot.answers.pop(0) if bot.answers else bot.default
                out = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def types(self) -> list[str]:
        """The event types received, oldest first."""
        return [r["json"]["type"] for r in self.received]

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bot_server() -> Iterator[Bot]:
    """A programmable bot, stopped after the test."""
    server = Bot()
    yield server
    server.close()

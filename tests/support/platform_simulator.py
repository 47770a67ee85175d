"""The platform simulator (examples/platform_simulator) run as a real process on loopback."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import httpx

SERVER = Path(__file__).resolve().parents[2] / "examples" / "platform_simulator" / "server.py"


class SimulatorError(Exception):
    """A control-API call the simulator refused: its status and JSON answer."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"platform simulator answered {status}: {body}")
        self.status, self.body = status, body


class PlatformSimulator:
    """A running simulator of Meta's platforms, Twilio, X and email, with its control API.

    `url` is both the Graph URL to give Rolodex's connections (`graph_url`, Twilio's and X's
    `api_url`) and the base of the control API. With `smtp=True` it also runs its SMTP sink
    (`smtp_port`), the mail server an email channel's `smtp_host`/`smtp_port` point at.
    Accounts added through this object come back after `restart()`.
    """

    def __init__(self, *extra: str, smtp: bool = False) -> None:
        self._extra = extra
        self._accounts: dict[str, dict[str, Any]] = {}
        self.port = 0
        self.smtp_port: int | None = 0 if smtp else None
        self._start()

    def _start(self) -> None:
        args = [sys.executable, str(SERVER), "--host", "127.0.0.1", "--port", str(self.port)]
        if self.smtp_port is not None:  # 0 the first time; the same port after a restart
            args += ["--smtp-port", str(self.smtp_port)]
        # stderr to a file, not a pipe nobody reads: a full pipe would block the server.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (lives with the process)
        self.process = subprocess.Popen(
            [*args, *self._extra], stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            self.process.wait()
            self._stderr.seek(0)
            error = self._stderr.read().decode(errors="replace")
            raise RuntimeError(f"platform simulator did not start: {line!r} {error}")
        self.url = line.rsplit(" ", 1)[1].strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        self.http = httpx.Client(base_url=self.url, timeout=15)
        if self.smtp_port is not None:
            self.smtp_port = int(self._call("GET", "/_sim/smtp")["port"])

    def __enter__(self) -> PlatformSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the process."""
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()

    def restart(self) -> None:
        """Stop and start again on the same port; accounts added here are registered again."""
        self.stop()
        self._start()
        for fields in self._accounts.values():
            self._call("POST", "/_sim/accounts", fields)

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        response = self.http.request(method, path, json=body, params=query)
        answer = response.json()
        if response.status_code >= 400:
            raise SimulatorError(response.status_code, answer)
        return answer

    def add_account(self, **fields: Any) -> dict[str, Any]:
        """Register (or replace) an account; with verify_token, after Meta's handshake."""
        account: dict[str, Any] = self._call("POST", "/_sim/accounts", fields)
        self._accounts[account["id"]] = fields
        return account

    def remove_account(self, account_id: str) -> None:
        """Forget an account."""
        self._call("DELETE", f"/_sim/accounts/{account_id}")
        self._accounts.pop(account_id, None)

    def accounts(self) -> list[dict[str, Any]]:
        """Every registered account."""
        rows: list[dict[str, Any]] = self._call("GET", "/_sim/accounts")
        return rows

    def inbound(self, **fields: Any) -> dict[str, Any]:
        """The customer writes: {message_id, body, statuses, user}."""
        answer: dict[str, Any] = self._call("POST", "/_sim/inbound", fields)
        return answer

    def raw(
        self,
        account_id: str,
        body: Any = None,
        *,
        body_text: str | None = None,
        sign: bool | str = True,
    ) -> int | None:
        """Post exactly this body (or text) to the account's webhook; Rolodex's status."""
        doc: dict[str, Any] = {"account_id": account_id, "sign": sign}
        doc |= {"body_text": body_text} if body_text is not None else {"body": body}
        answer = self._call("POST", "/_sim/raw", doc)
        status: int | None = answer["status"]
        return status

    def statuses(self, account_id: str, message_id: str, status: str, **extra: Any) -> Any:
        """Report a status of a business message: {status, body, error}."""
        doc = {"account_id": account_id, "message_id": message_id, "status": status} | extra
        return self._call("POST", "/_sim/statuses", doc)

    def fail(self, **fields: Any) -> list[dict[str, Any]]:
        """Make the next calls fail (code, http_status, times, delay_seconds, on, …)."""
        pending: list[dict[str, Any]] = self._call("POST", "/_sim/fail", fields)["pending"]
        return pending

    def requests(
        self, account_id: str | None = None, path_contains: str | None = None
    ) -> list[dict[str, Any]]:
        """The Graph calls and downloads received, oldest first."""
        rows: list[dict[str, Any]] = self._call(
            "GET", "/_sim/requests", account_id=account_id, path_contains=path_contains
        )
        return rows

    def webhooks(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """What the simulator posted to Rolodex (and its handshakes), oldest first."""
        rows: list[dict[str, Any]] = self._call("GET", "/_sim/webhooks", account_id=account_id)
        return rows

    def thread(self, account_id: str, user_id: str) -> list[dict[str, Any]]:
        """The conversation as the customer sees it."""
        rows: list[dict[str, Any]] = self._call(
            "GET", "/_sim/thread", account_id=account_id, user_id=user_id
        )
        return rows

    def read(self, account_id: str, user_id: str) -> dict[str, Any]:
        """The customer reads the conversation: {read: [ids], statuses: [...]}."""
        answer: dict[str, Any] = self._call(
            "POST", "/_sim/read", {"account_id": account_id, "user_id": user_id}
        )
        return answer

    def twilio(self, action: str, body: Any = None) -> Any:
        """Twilio's control API (`/_sim/twilio/<action>`): POST with a body, GET without."""
        return self._call("GET" if body is None else "POST", f"/_sim/twilio/{action}", body)

    def reset(self, *, accounts: bool = False) -> None:
        """Forget recordings, failures and threads (and accounts when asked)."""
        self._call("POST", "/_sim/reset", {"accounts": accounts})
        if accounts:
            self._accounts.clear()

    # X (examples/platform_simulator/x.py)

    def x_account(self, **fields: Any) -> dict[str, Any]:
        """Register an X account {user_id, consumer_secret, access_token, webhook_url, crc?}."""
        account: dict[str, Any] = self._call("POST", "/_sim/x/accounts", fields)
        return account

    def x_dm(self, **fields: Any) -> dict[str, Any]:
        """Post a signed DM (echo=True: the business's own) to the account's webhook."""
        entry: dict[str, Any] = self._call("POST", "/_sim/x/dm", fields)
        return entry

    def x_crc(self, account_id: str) -> dict[str, Any]:
        """Run X's CRC check against the account's webhook: {ok, response_token, expected}."""
        result: dict[str, Any] = self._call("POST", "/_sim/x/crc", {"account_id": account_id})
        return result

    def x_sent(self) -> list[dict[str, Any]]:
        """The DMs the X API accepted, oldest first."""
        rows: list[dict[str, Any]] = self._call("GET", "/_sim/x/sent")
        return rows

    def x_fail(self, **fields: Any) -> dict[str, Any]:
        """Make the next sends of an X account fail {account_id, status, times, title?}."""
        failure: dict[str, Any] = self._call("POST", "/_sim/x/fail", fields)
        return failure

    # Email (examples/platform_simulator/mail.py)

    def mails(self, to: str | None = None) -> list[dict[str, Any]]:
        """The mails the SMTP sink received (to this envelope recipient), oldest first."""
        rows: list[dict[str, Any]] = self._call("GET", "/_sim/smtp/messages", to=to)
        return rows

    def smtp_fail(self, code: int, message: str, count: int = 1) -> dict[str, Any]:
        """Refuse the next `count` mails at RCPT with `code message` (4xx: temporary)."""
        doc = {"code": code, "message": message, "count": count}
        answer: dict[str, Any] = self._call("POST", "/_sim/smtp/fail", doc)
        return answer

    def email_send(self, **fields: Any) -> dict[str, Any]:
        """The customer mails Rolodex (`from_=` stands for `from`, a Python keyword):
        {message_id, accepted: true} or {message_id, accepted: false, code, error}."""
        if "from_" in fields:
            fields["from"] = fields.pop("from_")
        answer: dict[str, Any] = self._call("POST", "/_sim/email/send", fields)
        return answer

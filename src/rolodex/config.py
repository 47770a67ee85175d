"""Settings read from the environment (prefix ROLODEX_)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a Rolodex process; see README.md "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="ROLODEX_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str = ""
    secret_key: str = ""
    # Where platforms and browsers reach this Rolodex: webhook URLs and signed file links.
    public_url: str = "http://127.0.0.1:8000"
    run_worker: bool = True
    # `serve --workers N` sets it: one process of the deployment runs the jobs (worker.py).
    worker_election: bool = False
    db_pool_size: int = Field(default=10, ge=1, le=500)
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    job_modules: list[str] = Field(default_factory=list)
    max_attachment_bytes: int = 25 * 1024 * 1024
    session_days: int = Field(default=14, ge=1)
    # How long a checked token is trusted without a look-up (0: check every request). A token
    # revoked on another process stops working within this time; on this one at once.
    # Export files are downloadable this long, then removed.
    export_retention_days: int = Field(default=7, ge=1, le=365)
    # An export job's lease, renewed after each batch: a dead worker's export restarts after it.
    export_job_lease_seconds: float = Field(default=300.0, ge=2)
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    log_level: str = "info"
    # CRM write-backs are retried after 1, 2, 4, 8 and 16 of these (an hour; tests and demos
    # shorten it).
    write_back_retry_unit_seconds: float = Field(default=3600.0, gt=0)
    # How long a CRM job holds its lease; a worker that dies mid-request is replaced after it.
    crm_job_lease_seconds: float = Field(default=60.0, ge=2)
    # Outbound webhooks (CRM, bots) may reach loopback, private and link-local addresses and
    # plain http: development and tests only.
    allow_private_webhook_targets: bool = False
    # Where `rolodex demo` points the demo workspace's CRM (the reference CRM of make run).
    demo_crm_url: str = "http://127.0.0.1:8010"
    # Where `rolodex demo` points its WhatsApp, Messenger and Instagram channels: the platform
    # simulator of make run (examples/platform_simulator).
    demo_simulator_url: str = "http://127.0.0.1:8020"
    # Request bodies: JSON and forms up to this; routes that carry attachments get the
    # attachment limit plus base64's overhead instead. Checked before the body is read.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Failed logins (API token, page login, OAuth2 client credentials): after this many
    # failures within the window, per account and per client address, answer 429 until the
    # window has passed; a success resets the account's count.
    login_max_failures: int = Field(default=10, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    # Processed platform deliveries (webhook_events) are kept this long, then pruned; failed
    # ones stay until retried.
    webhook_event_retention_days: float = Field(default=7.0, gt=0)
    # Deliveries the intake processes per transaction (one channel's, in arrival order).
    intake_batch_size: int = Field(default=100, ge=1, le=1000)
    # Replies a platform could not take (429, 5xx, unreachable) are retried after 1, 2, 4, 8,
    # 16 and 32 of these (about an hour with the default; tests and demos shorten it).
    delivery_retry_unit_seconds: float = Field(default=60.0, gt=0)
    # Graph and other platform calls give up after this long.
    platform_timeout_seconds: float = Field(default=15.0, gt=0, le=120)

    # Email intake (R11): when smtp_port is set, `rolodex serve` also accepts mail for the
    # connected email channels' addresses on smtp_host:smtp_port; larger mail gets 552.
    smtp_port: int | None = Field(default=None, ge=0, le=65535)
    smtp_host: str = "127.0.0.1"
    smtp_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    # Web chat visitors (the public visitor API): the largest file a visitor may attach, and
    # how many requests one may make per minute: messages per session (five times that per
    # client address), new sessions per client address, reads (config, session, history,
    # stream connections) per client address. Counted per process.
    webchat_max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    webchat_messages_per_minute: int = Field(default=20, ge=1)
    webchat_sessions_per_minute: int = Field(default=10, ge=1)
    webchat_reads_per_minute: int = Field(default=240, ge=1)

    # The live stream (R12.1): a comment this often keeps idle connections open through
    # proxies; each client's queue holds this many events (a client that falls that far behind
    # is disconnected, and resumes with Last-Event-ID); the ring kept for resuming holds the
    # last this many events, at most this old; a send blocked this long closes the stream.
    stream_ping_seconds: float = Field(default=15.0, gt=0, le=300)
    stream_queue_size: int = Field(default=256, ge=1, le=100_000)
    stream_ring_size: int = Field(default=1000, ge=1, le=100_000)
    stream_ring_seconds: float = Field(default=300.0, gt=0, le=86_400)
    stream_send_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rolodex.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept under the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        self.secret_key = path.read_text().strip()
        return self.secret_key


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()

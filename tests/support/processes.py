"""Running `rolodex` commands as separate processes, the way an operator does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from rolodex.config import Settings

TESTS_DIR = Path(__file__).resolve().parent.parent


def rolodex_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a spawned `rolodex` needs to share the test's database and job kinds."""
    env = dict(os.environ)
    env.update(
        ROLODEX_DATABASE_URL=settings.resolved_database_url(),
        ROLODEX_DATA_DIR=str(settings.data_dir),
        ROLODEX_SECRET_KEY=settings.resolved_secret_key(),
        ROLODEX_JOB_MODULES='["support.jobs"]',
        ROLODEX_WORKER_POLL_SECONDS="0.2",
        PYTHONPATH=os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")]),
    )
    env.update(extra)
    return env


def run_cli(settings: Settings, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run `rolodex ARGS…` to completion and return its output."""
    return subprocess.run(
        [sys.executable, "-m", "rolodex", *args],
        env=rolodex_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


def spawn_cli(settings: Settings, *args: str, **extra_env: str) -> subprocess.Popen[bytes]:
    """Start `rolodex ARGS…` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "rolodex", *args],
        env=rolodex_env(settings, **extra_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

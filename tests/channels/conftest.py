"""The processes the channel tests talk to: the platform simulator and a live Rolodex."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rolodex.config import Settings
from support.live import LiveRolodex, free_port
from support.platform_simulator import PlatformSimulator

MAIL_MAX_BYTES = 200_000  # the listener's limit in these tests (552 above)


@pytest.fixture
def simulator() -> Iterator[PlatformSimulator]:
    """The platform simulator process (a real process on loopback), with its SMTP sink."""
    with PlatformSimulator(smtp=True) as sim:
        yield sim


@pytest.fixture
def rolodex(settings: Settings) -> Iterator[LiveRolodex]:
    """Rolodex serving (with its worker) on the test's database, its SMTP listener on."""
    live = LiveRolodex(
        settings,
        ROLODEX_SMTP_PORT=str(free_port()),
        ROLODEX_SMTP_MAX_BYTES=str(MAIL_MAX_BYTES),
    ).start()
    yield live
    live.stop()

"""The processes the channel tests talk to: the platform simulator and a live Rolodex."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rolodex.config import Settings
from support.live import LiveRolodex
from support.platform_simulator import PlatformSimulator


@pytest.fixture
def simulator() -> Iterator[PlatformSimulator]:
    """The platform simulator process (a real process on loopback)."""
    with PlatformSimulator() as sim:
        yield sim


@pytest.fixture
def rolodex(settings: Settings) -> Iterator[LiveRolodex]:
    """Rolodex serving (with its worker) on the test's database."""
    live = LiveRolodex(settings).start()
    yield live
    live.stop()

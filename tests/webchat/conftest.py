"""Web chat tests start with fresh visitor rate-limit counters (they are per process)."""

from __future__ import annotations

import pytest

from rolodex.webchat import api


@pytest.fixture(autouse=True)
async def _fresh_rate_limits() -> None:
    await api.reset_limits()

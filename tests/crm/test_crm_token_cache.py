"""The CRM's OAuth2 token cache under concurrency, against the reference CRM on loopback."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rolodex.config import Settings
from rolodex.crm import client
from rolodex.crm.client import Target
from support.reference_crm import ReferenceCrm

SETTINGS = Settings(allow_private_webhook_targets=True)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[ReferenceCrm]:
    """A reference CRM that wants a bearer token from its /oauth/token."""
    crm = ReferenceCrm(
        secrets.token_hex(32),
        tmp_path / "crm.db",
        "--client-id",
        "rolodex",
        "--client-secret",
        "pw",
    )
    try:
        yield crm
    finally:
        crm.stop()


def _target(crm: ReferenceCrm, workspace_id: str) -> Target:
    token_url = f"{crm.url}/oauth/token"
    return Target(workspace_id, crm.secret, 5.0, "oauth2", token_url, "rolodex", "pw", None)


async def test_concurrent_401s_share_one_new_token_and_raise_nothing(
    guarded: ReferenceCrm, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _target(guarded, "ws_concurrent_401")
    url, body = f"{guarded.url}/lookup", client.encode({"email": "maria@example.com"})
    first = await client.post(target, url, body, SETTINGS)
    assert first.status != 401
    # The CRM forgets its tokens, and fetching a new one is slow: every concurrent request
    # gets its 401 while the first of them is still fetching.
    guarded.behave(revoke_tokens=True)
    fetch = client._fetch_token

    async def slow_fetch(
        http: httpx.AsyncClient, target: Target, settings: Settings, key: client.Key
    ) -> str:
        await asyncio.sleep(0.3)
        return await fetch(http, target, settings, key)

    monkeypatch.setattr(client, "_fetch_token", slow_fetch)
    replies = await asyncio.gather(*(client.post(target, url, body, SETTINGS) for _ in range(6)))
    assert [r.status for r in replies] == [first.status] * 6
    statuses = [(r["path"], r["status"]) for r in guarded.requests()]
    # One token at the start, one after the revocation: the second request's 401 did not drop
    # the token the first one had just fetched.
    assert statuses.count(("/oauth/token", 200)) == 2
    assert statuses.count(("/lookup", 401)) == 6


async def test_the_cache_stays_bounded_over_many_crms(
    guarded: ReferenceCrm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "_MAX_TOKENS", 16)
    url, body = f"{guarded.url}/lookup", client.encode({"email": "maria@example.com"})
    seen = 0
    for round_ in range(5):
        targets = [_target(guarded, f"ws_many_{round_}_{n}") for n in range(20)]
        replies = await asyncio.gather(*(client.post(t, url, body, SETTINGS) for t in targets))
        assert all(r.status != 401 for r in replies)
        seen += len(targets)
        assert len(client._TOKENS) <= 16
        # No lock is kept for a CRM nobody is calling.
        assert len(client._LOCKS) == 0
    assert seen == 100

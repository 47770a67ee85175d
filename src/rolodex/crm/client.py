"""Requests to the customer's CRM: signed bodies, OAuth2 client-credentials tokens (cached,
fetched again once on a 401), safe targets only."""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from dataclasses import dataclass
from typing import Any

import httpx

from rolodex.config import Settings
from rolodex.kit import outbound
from rolodex.kit.signing import signature_headers
from rolodex.models import CrmIntegration

Key = tuple[str, str, str]  # (workspace, token URL, client id)

# Tokens by key: (token, monotonic expiry), oldest first; at most _MAX_TOKENS of them, so
# that a process serving many workspaces does not keep every CRM it ever called.
_TOKENS: dict[Key, tuple[str, float]] = {}
_MAX_TOKENS = 1024
# One fetch at a time per key. Weak values: a key's lock lives while a request holds or
# waits for it, so the map only has the CRMs being called right now.
_LOCKS: weakref.WeakValueDictionary[Key, asyncio.Lock] = weakref.WeakValueDictionary()
_EARLY = 30.0  # refresh this many seconds before the token's own expiry


class CrmUnavailable(RuntimeError):
    """The CRM could not be reached, timed out, or refused our credentials."""


@dataclass(frozen=True)
class Target:
    """What a request to the CRM needs, read from the integration before any network call."""

    workspace_id: str
    secret: str
    timeout: float
    auth_type: str
    token_url: str | None
    client_id: str | None
    client_secret: str | None
    scope: str | None

    @classmethod
    def of(cls, row: CrmIntegration) -> Target:
        """The target of an integration row."""
        return cls(
            row.workspace_id,
            row.shared_secret,
            row.timeout_seconds,
            row.auth_type,
            row.oauth_token_url,
            row.oauth_client_id,
            row.oauth_client_secret,
            row.oauth_scope,
        )


def encode(body: Any) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _key(target: Target) -> Key:
    return (target.workspace_id, target.token_url or "", target.client_id or "")


def _lock(key: Key) -> asyncio.Lock:
    lock = _LOCKS.get(key)
    if lock is None:
        lock = _LOCKS[key] = asyncio.Lock()
    return lock


def _remember(key: Key, token: str, expiry: float) -> None:
    _TOKENS.pop(key, None)  # re-inserted last: the dict's order is the tokens' age
    if len(_TOKENS) >= _MAX_TOKENS:
        now = time.monotonic()
        for stale in [k for k, (_, until) in _TOKENS.items() if until <= now]:
            del _TOKENS[stale]
        while len(_TOKENS) >= _MAX_TOKENS:
            del _TOKENS[next(iter(_TOKENS))]
    _TOKENS[key] = (token, expiry)


def _forget(key: Key, token: str) -> None:
    # Only the token the CRM refused: concurrent 401s must not drop the fresh one that the
    # first of them fetched (nor fail when it is already gone).
    cached = _TOKENS.get(key)
    if cached is not None and cached[0] == token:
        del _TOKENS[key]


async def _token(http: httpx.AsyncClient, target: Target, settings: Settings) -> str:
    key = _key(target)
    # One fetch at a time per key: concurrent jobs wait for it and share the token.
    async with _lock(key):
        cached = _TOKENS.get(key)
        if cached and time.monotonic() < cached[1]:
            return cached[0]
        return await _fetch_token(http, target, settings, key)


async def _fetch_token(
    http: httpx.AsyncClient, target: Target, settings: Settings, key: Key
) -> str:
    assert target.token_url is not None
    assert target.client_id is not None
    form = {"grant_type": "client_credentials"}
    if target.scope:
        form["scope"] = target.scope
    reply = await outbound.send(
        http,
        "POST",
        target.token_url,
        data=form,
        auth=(target.client_id, target.client_secret or ""),
        allow_private=settings.allow_private_webhook_targets,
    )
    if not reply.ok:
        raise CrmUnavailable(f"token URL answered {reply.status}: {reply.excerpt()}")
    try:
        answer = json.loads(reply.body)
        token = str(answer["access_token"])
        lifetime = float(answer.get("expires_in") or 3600)
    except (ValueError, KeyError, TypeError) as exc:
        raise CrmUnavailable("token URL answered without an access_token") from exc
    _remember(key, token, time.monotonic() + max(lifetime - _EARLY, 1.0))
    return token


async def post(
    target: Target,
    url: str,
    body: bytes,
    settings: Settings,
    *,
    headers: dict[str, str] | None = None,
) -> outbound.Reply:
    """POST a signed JSON body to the CRM; network failures and timeouts raise CrmUnavailable."""
    sent = {"Content-Type": "application/json", **signature_headers(target.secret, body)}
    sent.update(headers or {})
    allow = settings.allow_private_webhook_targets
    try:
        async with outbound.client(target.timeout) as http:
            if target.auth_type != "oauth2":
                return await outbound.send(
                    http, "POST", url, content=body, headers=sent, allow_private=allow
                )
            for attempt in (1, 2):
                token = await _token(http, target, settings)
                sent["Authorization"] = f"Bearer {token}"
                reply = await outbound.send(
                    http, "POST", url, content=body, headers=sent, allow_private=allow
                )
                if reply.status != 401 or attempt == 2:
                    return reply
                # The CRM no longer takes the cached token: fetch a new one, try once more.
                _forget(_key(target), token)
    except httpx.TimeoutException as exc:
        raise CrmUnavailable(f"timed out after {target.timeout:g} s") from exc
    except (httpx.HTTPError, outbound.UnsafeTarget) as exc:
        raise CrmUnavailable(f"{type(exc).__name__}: {exc}") from exc
    raise AssertionError("unreachable")

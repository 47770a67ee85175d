"""Tokens and their hashes: only hashes are stored, tokens are shown once."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(prefix: str = "rdx") -> str:
    """A fresh bearer token with 256 bits of randomness."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """The stored form of a token (tokens are random, so a plain SHA-256 suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_digest(key: str, message: str) -> str:
    """HMAC-SHA256 of a message under a key, hex encoded."""
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())

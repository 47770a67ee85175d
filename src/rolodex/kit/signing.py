"""Webhook signatures as the Inbox 2.0 contracts define them (B2)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADERS = ("X-Hootsuite-Signature", "X-Sparkcentral-Signature", "X-Rolodex-Signature")


def new_shared_secret() -> str:
    """A fresh shared secret, hex (the receiver hex-decodes it to get the HMAC key)."""
    return secrets.token_hex(32)


def signature(secret_hex: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the raw body, keyed with the hex-decoded secret."""
    return hmac.new(bytes.fromhex(secret_hex), body, hashlib.sha256).hexdigest()


def signature_headers(secret_hex: str, body: bytes) -> dict[str, str]:
    """The signature under every header name receivers check (current, former, ours)."""
    value = signature(secret_hex, body)
    return dict.fromkeys(SIGNATURE_HEADERS, value)

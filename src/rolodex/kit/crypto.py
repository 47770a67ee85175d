"""Secrets at rest: platform tokens encrypted with a key derived from the secret key.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived with HKDF from
ROLODEX_SECRET_KEY: a database dump alone does not hand out page tokens, and rotating the
secret key makes stored secrets unreadable (the admin re-enters them; reads say so).
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"rolodex channel secrets v1"


class Undecryptable(ValueError):
    """Stored secrets that this secret key cannot open (the key changed)."""


@functools.cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, values: dict[str, Any]) -> str:
    """Encrypt a small JSON object of secrets."""
    return _fernet(secret_key).encrypt(json.dumps(values).encode()).decode()


def unseal(secret_key: str, token: str) -> dict[str, Any]:
    """Decrypt what `seal` produced (Undecryptable when the key differs or it was altered)."""
    try:
        data = _fernet(secret_key).decrypt(token.encode())
    except InvalidToken as exc:
        raise Undecryptable("the stored secrets cannot be decrypted with this secret key") from exc
    values: dict[str, Any] = json.loads(data)
    return values

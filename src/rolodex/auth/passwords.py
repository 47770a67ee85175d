"""Password hashing with argon2, kept off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def _yield_to_requests() -> None:
    # argon2 is CPU-bound on purpose. On Linux a thread has its own nice value, so these
    # threads give way to the event loop: a burst of (bad) logins waits for spare CPU
    # instead of slowing every other request.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, 10)


# Few threads: more would only share the same cores, and leave less of them to the loop.
_ARGON2_THREADS = ThreadPoolExecutor(
    max_workers=max(1, (os.cpu_count() or 2) // 2),
    thread_name_prefix="argon2",
    initializer=_yield_to_requests,
)


def hash_password(password: str) -> str:
    """The argon2 hash to store for a password (blocking: call `hash_password_async` in async)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; always spends one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """`hash_password` in an argon2 thread, so the event loop keeps serving."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_ARGON2_THREADS, hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """`verify_password` in an argon2 thread, so the event loop keeps serving."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_ARGON2_THREADS, verify_password, password_hash, password)

"""Standard Webhooks signing: secrets, message ids, the event body and the three headers."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from standardwebhooks import Webhook as Signer

from rolodex.kit.ids import new_id

SECRET_PREFIX = "whsec_"  # noqa: S105  (the prefix the specification gives, not a secret)
SECRET_BYTES = 32  # the specification asks for 24 to 64 random bytes


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and the base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    """The `webhook-id` of a new delivery (kept for every attempt of it)."""
    return new_id("msg")


def iso(moment: datetime | None) -> str | None:
    """An aware time as ISO 8601 in UTC with a `Z`."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def encode(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    """The body of an event, as the exact text sent on every attempt."""
    body = {"type": event_type, "timestamp": iso(at), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_jsonable)


def headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` (this attempt's time) and `webhook-signature`."""
    signature = Signer(secret).sign(msg_id=message_id, timestamp=at, data=body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }

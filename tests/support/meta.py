"""Meta webhook bodies and signatures, written the way the platform does (for Rolodex's tests)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

PHONE_NUMBER_ID = "106540352242922"


def signed(body: bytes, secret: str) -> dict[str, str]:
    """The headers Meta sends with a delivery: its X-Hub-Signature-256 and content type."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def wa_text(
    wamid: str,
    text: str = "Hola",
    wa_id: str = "34600111222",
    name: str = "Kerry",
    phone_number_id: str = PHONE_NUMBER_ID,
) -> bytes:
    """A WhatsApp Cloud API webhook carrying one text message."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": wamid,
                "timestamp": "1733230000",
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


async def connected_whatsapp(
    client: httpx.AsyncClient, headers: dict[str, str], app_secret: str
) -> dict[str, Any]:
    """A WhatsApp Cloud channel made through the API, its Graph API unreachable."""
    response = await client.post(
        "/api/v1/channels",
        headers=headers,
        json={
            "medium": "whatsapp",
            "name": "WhatsApp",
            "connection": {
                "provider": "whatsapp_cloud",
                "phone_number_id": PHONE_NUMBER_ID,
                "access_token": "EAAG-token",
                "app_secret": app_secret,
                "verify_token": "verify-me-please",
                "graph_url": "http://127.0.0.1:9",
            },
        },
    )
    assert response.status_code == 201, response.text
    channel: dict[str, Any] = response.json()
    return channel

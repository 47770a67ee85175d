"""What the Webhooks API says to people, in their language (issue 16): a refused address says
what to type instead, beside `url`; the reason Rolodex disabled a webhook reads in the caller's
language, with the receiver's last error as it was. Codes stay the same in every language."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from builders import make_workspace
from rolodex import i18n
from rolodex.app import create_app
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.models import Webhook
from rolodex.plans import Plan
from rolodex.webhooks import service
from rolodex.webhooks.repository import DISABLED_REASON
from support.webhooks import create_webhook

SPANISH = {"Accept-Language": "es"}


async def test_a_refused_address_says_what_to_use_instead(db: Database, settings: Settings) -> None:
    strict = settings.model_copy(update={"allow_private_webhook_targets": False})
    admin = await make_workspace(db, Plan.BUSINESS)
    app = create_app(strict)
    expected = {
        "http://hooks.example.com/x": ("Use an https:// address.", "Usa una dirección https://."),
        "ftp://hooks.example.com/x": (
            "Enter a full address starting with https://.",
            "Escribe una dirección completa que empiece por https://.",
        ),
        "https://localhost/x": (
            "Use a public address, not a local host.",
            "Usa una dirección pública, no un host local.",
        ),
        "https://10.1.2.3/x": (
            "Use a public address, not a loopback, private or link-local one.",
            "Usa una dirección pública, no una de loopback, privada o de enlace local.",
        ),
    }
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for url, (english, spanish) in expected.items():
                body = {"url": url, "events": ["contact.created"]}
                for headers, message in ((admin.headers, english), (SPANISH, spanish)):
                    refused = await c.post(
                        "/api/v1/webhooks", json=body, headers={**admin.headers, **headers}
                    )
                    assert refused.status_code == 422
                    problem = refused.json()
                    assert problem["code"] == "invalid_url"
                    assert problem["errors"] == [
                        {"field": "url", "message": message, "type": "unsafe_url"}
                    ]
                    assert problem["detail"] == message


async def test_the_reason_a_webhook_was_disabled_reads_in_the_callers_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db, Plan.BUSINESS)
    made = await create_webhook(client, admin, "https://hooks.example.com/x")
    stored = DISABLED_REASON % {"error": "the receiver answered 503: busy"}
    async with db.transaction() as session:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == made["id"])
            .values(enabled=False, disabled_reason=stored)
        )
    english = await client.get(f"/api/v1/webhooks/{made['id']}", headers=admin.headers)
    assert english.json()["disabled_reason"] == stored
    spanish = await client.get(
        f"/api/v1/webhooks/{made['id']}", headers={**admin.headers, **SPANISH}
    )
    reason = spanish.json()["disabled_reason"]
    assert reason.startswith("Los envíos a esta URL han fallado durante 3 días")
    assert "the receiver answered 503: busy" in reason
    # A reason stored some other way is shown as it is.
    i18n.use("es")
    try:
        assert service.shown_reason("Turned off by hand.") == "Turned off by hand."
    finally:
        i18n.use("en")
    missing = await client.get("/api/v1/webhooks/whk_nope", headers={**admin.headers, **SPANISH})
    assert missing.json()["detail"] == "No se encontró el webhook."
    assert missing.json()["code"] == "not_found"

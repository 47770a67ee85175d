"""The agent workspace pages: status tabs, conversation view, reply and status forms."""

from __future__ import annotations

import re

import httpx

from builders import inbound_body, make_channel, make_workspace, sign_in
from rolodex.db import Database


async def test_agent_works_a_conversation_from_the_pages(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat", "Website")
    body = inbound_body("v1", text="My order is late", attributes={"first-name": "Ada"})
    sent = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=body, headers=admin.headers
    )
    conversation_id = sent.json()["conversation_id"]
    csrf = await sign_in(client, admin.email)

    home = await client.get("/")
    assert home.status_code == 200
    assert re.search(r'href="/\?status=new"\s+aria-current="page">New<', home.text)
    assert "Ada" in home.text
    assert 'aria-label="Contact tab"' in home.text
    assert "Ada" not in (await client.get("/?status=pending")).text

    view = await client.get(f"/conversations/{conversation_id}")
    assert "My order is late" in view.text
    assert '<label for="reply-text">Reply</label>' in view.text

    forged = await client.post(
        f"/conversations/{conversation_id}/reply", data={"text": "x", "csrf_token": "nope"}
    )
    assert forged.status_code == 403
    replied = await client.post(
        f"/conversations/{conversation_id}/reply",
        data={"text": "It ships today", "csrf_token": csrf},
    )
    assert replied.status_code == 303
    api = f"/api/v1/conversations/{conversation_id}"
    assert (await client.get(api, headers=admin.headers)).json()["status"] == "pending"
    resolved = await client.post(
        f"/conversations/{conversation_id}/status",
        data={"status": "resolved", "csrf_token": csrf},
    )
    assert resolved.status_code == 303
    assert (await client.get(api, headers=admin.headers)).json()["status"] == "resolved"
    view = await client.get(f"/conversations/{conversation_id}")
    assert "It ships today" in view.text


async def test_missing_conversation_page_is_a_friendly_404(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    await sign_in(client, admin.email)
    response = await client.get("/conversations/cv_missing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")

"""Who wrote each message (SPEC R11.5), and the agent workspace page in the reader's zone (B10)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from builders import (
    Actor,
    inbound_body,
    make_channel,
    make_integration,
    make_user,
    make_workspace,
    sign_in,
)
from rolodex.auth.principals import Role, TokenKind
from rolodex.db import Database
from rolodex.models import Conversation, Message, User

# 15:08 UTC is 09:08 in Mexico City (UTC-6 all year since 2022).
MOMENT = datetime(2026, 12, 3, 15, 8, tzinfo=UTC)


async def _conversation(client: httpx.AsyncClient, admin: Actor, channel: str) -> str:
    body = inbound_body("ana", text="Where is my parcel?", attributes={"first-name": "Ana"})
    sent = await client.post(
        f"/api/v1/channels/{channel}/inbound", json=body, headers=admin.headers
    )
    assert sent.status_code == 201, sent.text
    return str(sent.json()["conversation_id"])


async def test_each_message_names_who_wrote_it(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    bot = await make_integration(db, admin.workspace_id, TokenKind.BOT)
    channel = await make_channel(db, admin, "webchat", "Website")
    conversation = await _conversation(client, admin, channel)
    url = f"/api/v1/conversations/{conversation}/messages"
    by_agent = await client.post(url, json={"text": "Ben here"}, headers=agent.headers)
    assert by_agent.status_code == 201, by_agent.text
    # The reply's own answer names its author already.
    assert by_agent.json()["author"] == {"kind": "agent", "id": agent.user_id, "name": "Test agent"}
    by_bot = await client.post(url, json={"text": "Bot here"}, headers=bot.headers)
    assert by_bot.status_code == 201, by_bot.text

    items = (await client.get(url, headers=agent.headers)).json()["items"]
    contact_id = items[0]["author_id"]
    assert [(m["text"], m["author"]) for m in items] == [
        ("Where is my parcel?", {"kind": "contact", "id": contact_id, "name": "Ana"}),
        ("Ben here", {"kind": "agent", "id": agent.user_id, "name": "Test agent"}),
        ("Bot here", {"kind": "bot", "id": bot.user_id, "name": "test bot"}),
    ]
    # The stored fields stay as they were.
    assert [(m["direction"], m["author_kind"]) for m in items] == [
        ("inbound", "contact"),
        ("outbound", "user"),
        ("outbound", "bot"),
    ]


async def test_the_thread_names_the_agent_and_every_time_is_in_the_readers_zone(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat", "Website")
    conversation = await _conversation(client, admin, channel)
    reply = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "It ships today"},
        headers=agent.headers,
    )
    assert reply.status_code == 201
    async with db.transaction() as session:
        await session.execute(
            update(User).where(User.id == agent.user_id).values(time_zone="America/Mexico_City")
        )
        await session.execute(update(Message).values(sent_at=MOMENT))
        await session.execute(update(Conversation).values(last_message_at=MOMENT))
    await sign_in(client, agent.email)

    page = (await client.get(f"/conversations/{conversation}?status=pending")).text
    thread = page[page.index('aria-label="Messages"') : page.index('class="reply"')]
    assert re.search(r'<span class="author">Test agent</span> · Agent', thread)
    assert re.search(r'<span class="author">Ana</span> · Contact', thread)
    times = re.findall(r'<time class="when" datetime="([^"]+)">([^<]+)</time>', page)
    assert len(times) == 3  # the list, and each message of the thread
    for iso, shown in times:
        assert datetime.fromisoformat(iso) == MOMENT
        assert re.search(r"\b9:08\b", shown), shown
    # Never UTC to a person (machine-readable attributes carry ISO times).
    assert "15:08" not in re.sub(r'(datetime|data-[a-z-]+)="[^"]*"', "", page)


async def test_an_empty_filtered_list_says_the_filter_matched_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    web = await make_channel(db, admin, "webchat", "Website")
    sms = await make_channel(db, admin, "sms", "Texts")
    await _conversation(client, admin, web)
    await sign_in(client, admin.email)

    page = (await client.get(f"/?status=new&channel_id={sms}")).text
    assert "No conversations match these filters" in page
    assert '<a class="clear-filters" href="/?status=new">Clear filters</a>' in page
    assert ">Filter</button>" not in page
    # Without a filter, an empty tab says so plainly.
    pending = (await client.get("/?status=pending")).text
    assert "No pending conversations" in pending
    assert "Clear filters" not in pending

"""Search (R12.4): contact names, attribute values and message text, indexed on both databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from builders import (
    Actor,
    inbound_body,
    make_attribute,
    make_channel,
    make_conversation,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role
from rolodex.contacts import search
from rolodex.db import Database


async def _ids(client: httpx.AsyncClient, actor: Actor, path: str, q: str) -> list[str]:
    response = await client.get(path, params={"q": q}, headers=actor.headers)
    assert response.status_code == 200, (q, response.text)
    return [item["id"] for item in response.json()["items"]]


async def _setup(client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    chat = await make_channel(db, admin, "webchat")
    await make_attribute(client, admin, label="Plan", key="plan")
    await make_attribute(client, admin, label="Salary", key="salary")
    ada = await make_conversation(client, admin, chat, "v1", **{"first-name": "Ada Lovelace"})
    bob = await make_conversation(client, admin, chat, "v2", **{"first-name": "Bob"})
    await client.post(
        f"/api/v1/channels/{chat}/inbound",
        json=inbound_body("v2", text="Where is my order-1234? Gracias, señor"),
        headers=admin.headers,
    )
    for contact, values in (
        (ada["contact_id"], {"plan": "Platinum", "salary": "secretpay"}),
        (bob["contact_id"], {"plan": "Basic"}),
    ):
        written = await client.patch(
            f"/api/v1/contacts/{contact}/attributes",
            json={"attributes": values},
            headers=admin.headers,
        )
        assert written.status_code == 200, written.text
    off = await client.patch(
        "/api/v1/attributes/salary", json={"enabled": False}, headers=admin.headers
    )
    assert off.status_code == 200
    return {"admin": admin, "agent": agent, "chat": chat, "ada": ada, "bob": bob}


async def test_search_conversations_and_contacts(client: httpx.AsyncClient, db: Database) -> None:
    s = await _setup(client, db)
    agent, ada, bob = s["agent"], s["ada"], s["bob"]
    conversations = "/api/v1/conversations"
    # A word of a message, as prefixes, every word required.
    assert await _ids(client, agent, conversations, "ord 12") == [bob["conversation_id"]]
    assert await _ids(client, agent, conversations, "1234") == [bob["conversation_id"]]
    assert await _ids(client, agent, conversations, "ORDER gracias") == [bob["conversation_id"]]
    assert await _ids(client, agent, conversations, "order platinum") == []
    # Diacritics as written; an attribute value; a name prefix.
    assert await _ids(client, agent, conversations, "señor") == [bob["conversation_id"]]
    assert await _ids(client, agent, conversations, "platin") == [ada["conversation_id"]]
    assert await _ids(client, agent, conversations, "lovel") == [ada["conversation_id"]]
    assert await _ids(client, agent, conversations, "ada love") == [ada["conversation_id"]]
    # Contacts: by name, by value, and by a message of theirs.
    contacts = "/api/v1/contacts"
    assert await _ids(client, agent, contacts, "Ada") == [ada["contact_id"]]
    assert await _ids(client, agent, contacts, "basic") == [bob["contact_id"]]
    assert await _ids(client, agent, contacts, "order 1234") == [bob["contact_id"]]
    # Narrowing still applies with a search.
    found = await client.get(
        conversations, params={"q": "order", "status": "resolved"}, headers=agent.headers
    )
    assert found.json()["items"] == []


async def test_hidden_values_are_not_searchable_by_agents(
    client: httpx.AsyncClient, db: Database
) -> None:
    s = await _setup(client, db)
    for path in ("/api/v1/conversations", "/api/v1/contacts"):
        assert await _ids(client, s["agent"], path, "secretpay") == []
    # Admins see hidden attributes, and find by them.
    admin_found = await _ids(client, s["admin"], "/api/v1/contacts", "secretpay")
    assert admin_found == [s["ada"]["contact_id"]]


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "'",
        "\\",
        "order OR bob",
        "NEAR(order bob)",
        "order*",
        "-order",
        "ord:*",
        "a & b | !c",
        "(((",
        "col:order",
        "^order",
        "\"order\" AND 'x'",
        "日本語 テスト",
        "🙂",
        "ß ü",
        "%_%",
        "   ",
        "x" * 200,
        " ".join(["w"] * 50),
    ],
)
async def test_any_query_answers(client: httpx.AsyncClient, db: Database, q: str) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin)
    await make_conversation(client, admin, chat, "v1")
    for path in ("/api/v1/conversations", "/api/v1/contacts"):
        response = await client.get(path, params={"q": q}, headers=admin.headers)
        assert response.status_code == 200, (q, response.text)
    nul = await client.get("/api/v1/conversations", params={"q": "a\x00"}, headers=admin.headers)
    assert nul.status_code == 422


async def test_erasure_leaves_nothing_searchable(client: httpx.AsyncClient, db: Database) -> None:
    s = await _setup(client, db)
    admin, bob = s["admin"], s["bob"]
    deleted = await client.delete(
        f"/api/v1/contacts/{bob['contact_id']}", params={"hint": "Bob"}, headers=admin.headers
    )
    assert deleted.status_code == 204, deleted.text
    for path in ("/api/v1/conversations", "/api/v1/contacts"):
        assert await _ids(client, admin, path, "order") == []
        assert await _ids(client, admin, path, "basic") == []
    if db.url.startswith("sqlite"):
        # The FTS tables hold no row of the erased contact (external content: a stale row
        # would still match).
        async with db.transaction() as session:
            for table, query in (
                ("messages_fts", "order"),
                ("attribute_values_fts", "basic"),
                ("contacts_fts", "bob"),
            ):
                count = await session.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {table} MATCH :q"),
                    {"q": search.sqlite_query([query])},
                )
                assert count.scalar_one() == 0, table
    # Ada stays findable.
    assert await _ids(client, admin, "/api/v1/contacts", "ada") == [s["ada"]["contact_id"]]


def test_words_and_quoting() -> None:
    assert search.words("ord 12") == ["ord", "12"]
    assert search.words("ana@b.com order-1234") == ["ana", "b", "com", "order", "1234"]
    assert search.words("¿ ... !!") == []
    assert search.postgres_query(["o'k"]) == "'o''k':*"
    assert search.sqlite_query(['a"b']) == '"a""b"*'
    assert len(search.words(" ".join("abcdefghijk"))) == search.MAX_WORDS

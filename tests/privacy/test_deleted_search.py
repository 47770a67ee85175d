"""Searching the deleted-contacts log: every word of the search, in any order (issue 16).

The search matched the whole phrase: "ana lópez" did not find "López, Ana". Now a hint is found
when it holds each word, whatever their order, case or the commas between them.
"""

from __future__ import annotations

import httpx

from builders import Actor, inbound_body, make_channel, make_workspace
from rolodex.auth import service as auth
from rolodex.db import Database
from rolodex.privacy import service

HINTS = ("López, Ana", "Ana Ruiz", "Ben López", "Ana-Maria Lopez Garcia")


async def _log(client: httpx.AsyncClient, db: Database) -> Actor:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin, "webchat")
    for n, hint in enumerate(HINTS):
        made = await client.post(
            f"/api/v1/channels/{channel}/inbound", json=inbound_body(f"p{n}"), headers=admin.headers
        )
        assert made.status_code == 201, made.text
        gone = await client.delete(
            f"/api/v1/contacts/{made.json()['contact_id']}",
            params={"hint": hint},
            headers=admin.headers,
        )
        assert gone.status_code == 204, gone.text
    return admin


async def _found(client: httpx.AsyncClient, admin: Actor, q: str) -> list[str]:
    response = await client.get(
        "/api/v1/privacy/deleted-contacts", params={"q": q}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return sorted(e["hint"] for e in response.json())


async def test_the_api_finds_hints_holding_every_word_in_any_order(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await _log(client, db)
    assert await _found(client, admin, "ana lópez") == ["López, Ana"]
    assert await _found(client, admin, "LÓPEZ, ana") == ["López, Ana"]
    assert await _found(client, admin, "  lópez   ana  ") == ["López, Ana"]
    assert await _found(client, admin, "ana") == [
        "Ana Ruiz",
        "Ana-Maria Lopez Garcia",
        "López, Ana",
    ]
    assert await _found(client, admin, "lopez garcia ana") == ["Ana-Maria Lopez Garcia"]
    assert await _found(client, admin, "ana ortega") == []
    # The words are text, never patterns.
    assert await _found(client, admin, "%") == []
    assert await _found(client, admin, "_") == []


async def test_the_service_splits_the_search_into_words(
    client: httpx.AsyncClient, db: Database
) -> None:
    assert service.search_words("Ana  López") == ["ana", "lópez"]
    assert service.search_words("López, Ana; ana") == ["lópez", "ana"]
    assert service.search_words("  ") == []
    assert service.search_words(None) == []
    admin = await _log(client, db)
    async with db.reader() as session:
        principal = await auth.authenticate(session, admin.token)
        assert principal is not None
        items, _ = await service.list_deleted(
            session, principal, q="ana lópez", cursor=None, limit=50
        )
        everyone, _ = await service.list_deleted(session, principal, q="", cursor=None, limit=50)
    assert [i.hint for i in items] == ["López, Ana"]
    assert len(everyone) == len(HINTS)

"""Contacts: reading, display names, search, channel filter, pagination, isolation."""

from __future__ import annotations

import httpx

from builders import Actor, inbound_body, make_channel, make_user, make_workspace
from rolodex.auth.principals import Role
from rolodex.db import Database


async def _contact(
    client: httpx.AsyncClient, admin: Actor, channel: str, sender: str, **attributes: object
) -> str:
    response = await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body(sender, attributes=attributes),
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["contact_id"])


async def test_contact_reads_as_spec(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "whatsapp")
    contact_id = await _contact(client, admin, channel, "wa-1", phone="(415) 555-0123")
    body = (await client.get(f"/api/v1/contacts/{contact_id}", headers=agent.headers)).json()
    assert body == {
        "id": contact_id,
        "medium": "whatsapp",
        "channel_id": channel,
        "platform_user_id": "wa-1",
        "display_name": "+14155550123",
        "created_at": body["created_at"],
        "vip": False,
        "attributes": {"whatsapp-phone": "+14155550123"},
        "linked_contact_ids": [],
        "version": body["version"],
    }


async def test_display_name_follows_the_best_platform_value(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    twitter = await make_channel(db, admin, "twitter")
    email = await make_channel(db, admin, "email")
    handle_only = await _contact(client, admin, twitter, "t1", handle="ada")
    nothing = await _contact(client, admin, email, "e1")
    get = lambda c: client.get(f"/api/v1/contacts/{c}", headers=admin.headers)  # noqa: E731
    assert (await get(handle_only)).json()["display_name"] == "@ada"
    assert (await get(nothing)).json()["display_name"] == "e1"
    # A name arriving later takes over from the handle.
    await _contact(client, admin, twitter, "t1", name="Ada Lovelace")
    assert (await get(handle_only)).json()["display_name"] == "Ada Lovelace"


async def test_search_by_name_and_value_and_filter_by_channel(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin, "webchat")
    mail = await make_channel(db, admin, "email")
    ada = await _contact(client, admin, chat, "v1", **{"first-name": "Ada", "email": "ADA@x.test"})
    bob = await _contact(client, admin, mail, "bob@y.test", address="bob@y.test", name="Bob")
    search = lambda **p: client.get("/api/v1/contacts", params=p, headers=admin.headers)  # noqa: E731
    ids = lambda r: [c["id"] for c in r.json()["items"]]  # noqa: E731
    assert ids(await search(q="ada")) == [ada]
    assert ids(await search(q="ada@x.test")) == [ada]
    assert ids(await search(q="y.test")) == [bob]
    assert ids(await search(q="100%")) == []
    assert ids(await search(channel_id=mail)) == [bob]
    assert ids(await search()) == [bob, ada]
    first = (await search(limit=1)).json()
    assert ids(await search(limit=1, cursor=first["next_cursor"])) == [ada]


async def test_contacts_of_another_workspace_are_404(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    other = await make_workspace(db, name="Other")
    channel = await make_channel(db, admin)
    contact_id = await _contact(client, admin, channel, "v1")
    assert (
        await client.get(f"/api/v1/contacts/{contact_id}", headers=other.headers)
    ).status_code == 404
    history = await client.get(f"/api/v1/contacts/{contact_id}/history", headers=other.headers)
    assert history.status_code == 404
    assert (await client.get("/api/v1/contacts", headers=other.headers)).json()["items"] == []

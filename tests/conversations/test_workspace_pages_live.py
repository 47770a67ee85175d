"""The live workspace page without JavaScript (issue 18): views Mine / Unassigned / All on the
page URL, the search box, unread marks and last messages in the list, the assignment form."""

from __future__ import annotations

import json
import re

import httpx

from builders import inbound_body, make_channel, make_user, make_workspace, sign_in
from rolodex.auth.principals import Role
from rolodex.db import Database


def _listed(html: str) -> list[str]:
    """The conversation ids in the page's list, in order."""
    return re.findall(r'<li data-conversation-id="([^"]+)"', html)


async def test_views_search_unread_and_the_assignment_form(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat", "Website")
    ids = []
    for sender, text in (("v1", "My parcel is late"), ("v2", "The blue sweater is too small")):
        sent = await client.post(
            f"/api/v1/channels/{channel}/inbound",
            json=inbound_body(sender, text=text),
            headers=admin.headers,
        )
        assert sent.status_code == 201, sent.text
        ids.append(sent.json()["conversation_id"])
    parcel, sweater = ids
    assigned = await client.patch(
        f"/api/v1/conversations/{sweater}",
        json={"assignee_id": agent.user_id},
        headers=admin.headers,
    )
    assert assigned.status_code == 200, assigned.text
    csrf = await sign_in(client, agent.email)

    home = await client.get("/")
    assert _listed(home.text) == [sweater, parcel]
    # Each item: unread (a dot and words for screen readers) and its last message.
    assert home.text.count('class="visually-hidden">Unread</span>') == 2
    assert '<span class="last-message">My parcel is late</span>' in home.text
    assert 'aria-label="Views"' in home.text
    data = re.search(
        r'<script type="application/json" id="workspace-data">(.*?)</script>', home.text
    )
    assert data
    live = json.loads(data.group(1))
    assert live["me"] == agent.user_id
    assert live["filters"]["status"] == "new"

    mine = await client.get("/?assignee_id=me")
    assert _listed(mine.text) == [sweater]
    assert re.search(r'data-view="me"\s+aria-current="page"', mine.text)
    assert _listed((await client.get("/?assignee_id=none")).text) == [parcel]
    # The search box: a word's prefix of a message.
    found = await client.get("/?q=sweat")
    assert _listed(found.text) == [sweater]
    assert 'value="sweat"' in found.text

    # Opened: read for this agent (the page's script posts …/read; here the API does).
    assert (
        await client.post(f"/api/v1/conversations/{parcel}/read", headers=agent.headers)
    ).status_code == 204
    view = await client.get(f"/conversations/{parcel}")
    assert view.text.count('class="visually-hidden">Unread</span>') == 1
    assert '<label for="assign-agent">Assignee</label>' in view.text
    assert "Unassigned" in view.text

    # The assignment form: to me, then to no one.
    api = f"/api/v1/conversations/{parcel}"
    to_me = await client.post(
        f"/conversations/{parcel}/assign", data={"me": "1", "csrf_token": csrf}
    )
    assert to_me.status_code == 303
    assert (await client.get(api, headers=admin.headers)).json()["assignee_id"] == agent.user_id
    assert "Assigned to you" in (await client.get(f"/conversations/{parcel}")).text
    cleared = await client.post(
        f"/conversations/{parcel}/assign",
        data={"assignee_id": "", "team_id": "", "csrf_token": csrf},
    )
    assert cleared.status_code == 303
    assert (await client.get(api, headers=admin.headers)).json()["assignee_id"] is None


async def test_a_form_from_a_stale_page_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    """Without JavaScript too: a reply or a status posted from a page drawn before someone
    else resolved the conversation is refused (412) instead of silently reopening it."""
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    channel = await make_channel(db, admin, "webchat", "Website")
    sent = await client.post(
        f"/api/v1/channels/{channel}/inbound",
        json=inbound_body("s1", text="Where is my order?"),
        headers=admin.headers,
    )
    conversation = sent.json()["conversation_id"]
    csrf = await sign_in(client, agent.email)
    page = await client.get(f"/conversations/{conversation}")
    drawn = re.search(r'name="version" value="(\d+)"', page.text)
    assert drawn
    resolved = await client.patch(
        f"/api/v1/conversations/{conversation}", json={"status": "resolved"}, headers=admin.headers
    )
    assert resolved.status_code == 200
    for path, data in (("reply", {"text": "On its way!"}), ("status", {"status": "pending"})):
        posted = await client.post(
            f"/conversations/{conversation}/{path}",
            data={**data, "csrf_token": csrf, "version": drawn.group(1)},
        )
        assert posted.status_code == 412, (path, posted.status_code)
    now = await client.get(f"/api/v1/conversations/{conversation}", headers=admin.headers)
    assert now.json()["status"] == "resolved"
    messages = await client.get(
        f"/api/v1/conversations/{conversation}/messages", headers=admin.headers
    )
    assert [m["text"] for m in messages.json()["items"]] == ["Where is my order?"]
    # Drawn again, the page carries the new version and the reply goes through.
    again = re.search(
        r'name="version" value="(\d+)"', (await client.get(f"/conversations/{conversation}")).text
    )
    assert again
    assert again.group(1) != drawn.group(1)
    posted = await client.post(
        f"/conversations/{conversation}/reply",
        data={"text": "On its way!", "csrf_token": csrf, "version": again.group(1)},
    )
    assert posted.status_code == 303

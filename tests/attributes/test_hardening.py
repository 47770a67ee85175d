"""url values, sources chosen by the server, and definitions readable by agents."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from builders import (
    make_attribute,
    make_channel,
    make_conversation,
    make_integration,
    make_user,
    make_workspace,
)
from rolodex.auth.principals import Role, TokenKind
from rolodex.db import Database
from rolodex.models import AttributeValue


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://x.test/a",
        "javascript:alert(1)",
        "https:///path-only",
        "https://x.test/a b",
        'https://x.test/"onmouseover="x',
        "https://x.test/'a'",
        "https://x.test/<script>",
        "https://x.test/`a`",
        "//x.test/relative",
        "https://x.test:port/",
    ],
)
async def test_url_values_must_be_absolute_http_urls(
    client: httpx.AsyncClient, db: Database, bad: str
) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin)
    await make_attribute(client, admin, label="Website", key="website", format="url")
    contact = (await make_conversation(client, admin, chat))["contact_id"]
    path = f"/api/v1/contacts/{contact}/attributes"
    refused = await client.patch(path, json={"attributes": {"website": bad}}, headers=admin.headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["attributes.website"]
    good = {"website": "https://x.test:8443/a?b=c#d"}
    accepted = await client.patch(path, json={"attributes": good}, headers=admin.headers)
    assert accepted.status_code == 200, accepted.text


async def test_no_body_chooses_the_source(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin)
    await make_attribute(client, admin, label="Company", key="company")
    contact = (await make_conversation(client, admin, chat))["contact_id"]
    bot = await make_integration(db, admin.workspace_id, TokenKind.BOT)
    path = f"/api/v1/contacts/{contact}/attributes"
    for actor, source in ((admin, "import"), (admin, "crm"), (bot, "import")):
        body = {"attributes": {"company": "Claimed"}, "source": source}
        refused = await client.patch(path, json=body, headers=actor.headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "source"
    body = {"attributes": {"company": "Initech"}}
    assert (await client.patch(path, json=body, headers=admin.headers)).status_code == 200
    async with db.reader() as session:
        sources = {
            v.value: v.source for v in (await session.execute(select(AttributeValue))).scalars()
        }
    assert sources["Initech"] == "agent"
    assert "Claimed" not in sources


async def test_agents_read_attribute_definitions(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    agent = await make_user(db, admin.workspace_id, Role.AGENT)
    await make_attribute(client, admin, label="Company", key="company")
    listed = await client.get("/api/v1/attributes", headers=agent.headers)
    assert listed.status_code == 200, listed.text
    assert "company" in {a["key"] for a in listed.json()}
    one = await client.get("/api/v1/attributes/company", headers=agent.headers)
    assert one.status_code == 200, one.text

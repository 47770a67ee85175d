"""Plan-proof probes on the inbound path (issue 22): the CRM's look-up check and routing's VIP
and group conditions start from the contact's key, whatever the statistics say; a workspace
with no CRM runs no look-up check at all."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Executable, Select, text
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Actor, make_channel, make_conversation, make_workspace
from rolodex.attributes import repository as attributes_repository
from rolodex.crm import repository as crm_repository
from rolodex.crm import triggers
from rolodex.db import Database
from rolodex.routing import service as routing

# The index keyed by (workspace, definition, normalized): what a stale plan scans.
WORKSPACE_SCAN = "ix_attribute_values_lookup"


async def _plan(session: AsyncSession, statement: Executable, **params: Any) -> str:
    dialect = session.bind.dialect if session.bind is not None else None
    assert dialect is not None
    explain = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
    if isinstance(statement, Select):
        sql = statement.params(**params).compile(
            dialect=dialect, compile_kwargs={"literal_binds": True}
        )
        rows = (await session.execute(text(explain + str(sql)))).all()
    else:  # an UPDATE or INSERT: its parameters in the driver's own style
        compiled = statement.compile(dialect=dialect)
        values = compiled.construct_params(params)
        args: Any = values
        if compiled.positiontup is not None:
            args = tuple(values[name] for name in compiled.positiontup)
        connection = await session.connection()
        rows = list(await connection.exec_driver_sql(explain + str(compiled), args))
    return "\n".join(str(row[-1]) for row in rows)


async def _call(client: httpx.AsyncClient, admin: Actor, method: str, path: str, body: Any) -> Any:
    response = await client.request(method, f"/api/v1{path}", json=body, headers=admin.headers)
    assert response.status_code < 300, response.text
    return response.json()


async def test_the_lookup_check_probes_the_contacts_key(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    made = await make_conversation(client, admin, channel, email="ana@example.com")
    async with db.reader() as session:
        assert not (await triggers.configuration(session, admin.workspace_id)).lookup_ids
    await _call(client, admin, "PATCH", "/attributes/webchat-email", {"lookup": True})
    crm = {"lookup_url": "https://crm.example.test/lookup"}
    await _call(client, admin, "PUT", "/integrations/crm", crm)
    async with db.reader() as session:
        ids = sorted((await triggers.configuration(session, admin.workspace_id)).lookup_ids)
        assert ids
        assert await crm_repository.has_lookup_values(session, made["contact_id"], ids)
        plan = await _plan(
            session,
            crm_repository._HAS_LOOKUP_VALUES,
            contact_id=made["contact_id"],
            ids=ids,
        )
    assert "pk_attribute_values" in plan or "sqlite_autoindex_attribute_values_1" in plan, plan
    assert WORKSPACE_SCAN not in plan, plan


async def test_a_returning_senders_values_are_read_by_its_key(
    client: httpx.AsyncClient, db: Database
) -> None:
    # SQLite (no statistics) walked every contact's values of the medium's definitions here
    # while the read named the workspace: a returning sender cost grew with the workspace.
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    made = await make_conversation(client, admin, channel, email="ana@example.com")
    async with db.reader() as session:
        ids = [
            d.id
            for d in (await attributes_repository.list_definitions(session, admin.workspace_id))
        ]
        plan = await _plan(
            session,
            attributes_repository.values._CURRENT_WITH_SOURCES,
            contact_id=made["contact_id"],
            ids=ids,
        )
    assert "pk_attribute_values" in plan or "sqlite_autoindex_attribute_values_1" in plan, plan
    assert WORKSPACE_SCAN not in plan, plan


async def test_routing_probes_the_contacts_keys(client: httpx.AsyncClient, db: Database) -> None:
    admin = await make_workspace(db)
    channel = await make_channel(db, admin)
    team = (await _call(client, admin, "POST", "/teams", {"name": "Sales"}))["id"]
    rule = {"attribute": "webchat-email", "operator": "not_empty"}
    await _call(client, admin, "POST", "/contact-groups", {"name": "Any", "rules": [rule]})
    routing_body = {
        "vip_team_id": team,
        "group_routes": [{"group": "any", "team_id": team}],
        "prioritized_groups": [{"group": "vip", "weight": 9}, {"group": "any", "weight": 1}],
    }
    await _call(client, admin, "PATCH", "/settings/routing", routing_body)
    made = await make_conversation(client, admin, channel, email="ana@example.com")
    async with db.reader() as session:
        route = (await routing.configuration(session, admin.workspace_id)).route
        assert route is not None
        plan = await _plan(
            session,
            route,
            b_conversation_id=made["conversation_id"],
            b_event_id="cev_x",
            b_at=None,
        )
    # The conversation by its key, each condition a probe from its contact's key.
    assert "pk_conversations" in plan or "sqlite_autoindex_conversations_1 (id=?)" in plan, plan
    assert "ix_conversations_queue" not in plan, plan
    assert WORKSPACE_SCAN not in plan, plan
    assert "Seq Scan on attribute_values" not in plan, plan
    assert "SCAN attribute_values" not in plan, plan

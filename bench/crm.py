"""CRM benchmark: look-ups and write-backs per second against the reference CRM on loopback.

Contacts write in through the inbound API (each one's email is a lookup attribute, so each
queues a look-up); then workers run the queued look-ups, timed; then every conversation
is resolved (a write-back each) and the workers run those, timed. The reference CRM is a
separate process (examples/reference_crm, stdlib ThreadingHTTPServer + SQLite), so the
figures include real HTTP, signing, and the CRM's own work.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import fresh_postgres, write_section

from rolodex.app import create_app
from rolodex.config import Settings
from rolodex.db import open_database
from rolodex.kit.migrate import upgrade
from rolodex.worker import Worker
from support.reference_crm import ReferenceCrm

CONTACTS = 400
EMAILS = ("maria@example.com", "jon@example.com", "aiko@example.com", "li.wei@example.com")


async def _setup(client: httpx.AsyncClient, crm_dir: Path) -> tuple[dict[str, str], ReferenceCrm]:
    from rolodex.plans import Plan
    from rolodex.workspaces import service as workspaces

    db = client._transport.app.state.database  # type: ignore[attr-defined]
    async with db.transaction() as session:
        created = await workspaces.create_workspace(
            session, name="Bench", plan=Plan.ENTERPRISE, admin_email="b@bench.test",
            admin_password="bench-password",
        )  # fmt: skip
    headers = {"Authorization": f"Bearer {created.token}"}
    channel = (
        await client.post(
            "/api/v1/channels", json={"medium": "webchat", "name": "chat"}, headers=headers
        )
    ).json()["id"]
    for key, body in (("customer_id", {}), ("tier", {}), ("account_manager", {}), ("plan", {})):
        await client.post(
            "/api/v1/attributes", json={"label": key, "key": key, "type": "text", **body},
            headers=headers,
        )  # fmt: skip
        await client.patch(f"/api/v1/attributes/{key}", json={"crm_managed": True}, headers=headers)
    await client.patch("/api/v1/attributes/webchat-email", json={"lookup": True}, headers=headers)
    first = await client.put(
        "/api/v1/integrations/crm", json={"lookup_url": "http://127.0.0.1:9/x"}, headers=headers
    )
    crm = ReferenceCrm(first.json()["shared_secret"], crm_dir / "crm.db")
    put = await client.put(
        "/api/v1/integrations/crm",
        json={"lookup_url": f"{crm.url}/lookup", "write_back_url": f"{crm.url}/write-back"},
        headers=headers,
    )
    assert put.status_code == 200, put.text
    return {"channel": channel, **headers}, crm


async def _timed(worker: Worker) -> tuple[int, float]:
    start = time.perf_counter()
    ran = await worker.run_until_idle(max_rounds=100_000)
    return ran, time.perf_counter() - start


async def run(label: str, url: str, concurrency: int) -> str:
    """One database and worker concurrency: the two rates as a table row."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=url, data_dir=Path(tmp), secret_key="bench", run_worker=False,
            allow_private_webhook_targets=True,
        )  # fmt: skip
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                setup, crm = await _setup(client, Path(tmp))
                headers = {"Authorization": setup["Authorization"]}
                try:
                    conversations = []
                    for n in range(CONTACTS):
                        body = {
                            "external_message_id": f"m{n}",
                            "sender": {"id": f"s{n}", "attributes": {"email": EMAILS[n % 4]}},
                            "text": "hi",
                        }
                        sent = await client.post(
                            f"/api/v1/channels/{setup['channel']}/inbound", json=body,
                            headers=headers,
                        )  # fmt: skip
                        conversations.append(sent.json()["conversation_id"])
                    db = open_database(url)
                    worker = Worker(db, settings, concurrency=concurrency)
                    lookups, lookup_s = await _timed(worker)
                    for conversation in conversations:
                        await client.patch(
                            f"/api/v1/conversations/{conversation}", json={"status": "resolved"},
                            headers=headers,
                        )  # fmt: skip
                    write_backs, write_back_s = await _timed(worker)
                    stored = len(crm.get("write-backs"))
                    await db.dispose()
                finally:
                    crm.stop()
    assert stored == CONTACTS, stored
    row = (
        f"| {label} | {concurrency} | {lookups} | {lookups / lookup_s:,.0f} | "
        f"{write_backs} | {write_backs / write_back_s:,.0f} |"
    )
    print(row)
    return row


async def main() -> None:
    """Both databases, the default worker concurrency and a wider one."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency in (4, 16):
            path = Path(tmp) / f"crm-{concurrency}.db"
            upgrade(f"sqlite:///{path}")
            rows.append(await run("SQLite", f"sqlite:///{path}", concurrency))
    postgres = fresh_postgres()
    if postgres:
        for concurrency in (4, 16):
            postgres = fresh_postgres() or postgres
            upgrade(postgres)
            rows.append(await run("PostgreSQL", postgres, concurrency))
    body = "\n".join(
        [
            "| database | worker concurrency | look-ups | look-ups/s | write-backs | "
            "write-backs/s |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )
    body += (
        f"\n\n{CONTACTS} contacts, one look-up each (answered with autoConfirm: four "
        "CRM-managed values written), then one write-back each (resolve); one in-process "
        "worker against the reference CRM (examples/reference_crm, a separate process) on "
        "loopback. Each job is signed, posted over a new connection, and its outcome "
        "committed. A CRM that answers only after 30 s does not slow inbound messages: "
        "tests/crm/test_crm_settings.py measures inbound p50 with and without it in one run "
        "(20.7 ms both, SQLite, in-process)."
    )
    write_section("crm", "CRM look-ups and write-backs (issue 7)", body)


if __name__ == "__main__":
    asyncio.run(main())

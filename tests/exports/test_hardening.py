"""Exports: times carry a zone (422 naming the filter), files are private (0600)."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from builders import make_channel, make_conversation, make_workspace
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.exports.service import export_dir
from rolodex.worker import Worker
from support.processes import run_cli


@pytest.mark.parametrize("name", ["updated_from", "updated_to"])
async def test_a_naive_filter_time_is_a_422_naming_it(
    client: httpx.AsyncClient, db: Database, name: str
) -> None:
    admin = await make_workspace(db)
    body = {"type": "contact_attributes", "filters": {name: "2020-01-01T00:00:00"}}
    refused = await client.post("/api/v1/exports", json=body, headers=admin.headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == [f"filters.{name}"]


async def test_export_files_are_readable_by_the_service_only(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin)
    await make_conversation(client, admin, chat, "ana")
    body = {"type": "contact_attributes", "filters": {"updated_from": "2000-01-01T00:00:00Z"}}
    created = await client.post("/api/v1/exports", json=body, headers=admin.headers)
    assert created.status_code == 202, created.text
    await Worker(db, settings).run_until_idle()
    done = (
        await client.get(f"/api/v1/exports/{created.json()['id']}", headers=admin.headers)
    ).json()
    assert done["status"] == "done", done
    files = list(export_dir(settings.data_dir, admin.workspace_id).iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


async def test_the_cli_reads_a_time_without_a_zone_as_utc(
    client: httpx.AsyncClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    admin = await make_workspace(db)
    chat = await make_channel(db, admin)
    await make_conversation(client, admin, chat, "ana")
    out = tmp_path / "cli.csv"
    args = ("export", "contact-attributes", "--workspace", admin.workspace_id, "--out", str(out))
    result = run_cli(settings, *args, "--updated-from", "2000-01-01T00:00:00")
    assert result.returncode == 0, result.stderr
    assert "1 contacts written" in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    later = run_cli(settings, *args, "--updated-from", "2999-01-01T00:00:00")
    assert later.returncode == 0, later.stderr
    assert "0 contacts written" in later.stderr
    bad = run_cli(settings, *args, "--updated-from", "soon")
    assert bad.returncode == 1
    assert "updated_from" in bad.stderr

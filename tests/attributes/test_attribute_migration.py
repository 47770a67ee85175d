"""The attribute-engine migration backfills the standard vip attribute of existing workspaces."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from rolodex.kit.migrate import upgrade

BEFORE = "1c660de51835"  # channels, contacts and conversations


def test_existing_workspaces_get_vip_first_in_the_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, BEFORE)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workspaces (id, name, plan, default_phone_region, created_at)"
                " VALUES ('ws_old', 'Old', 'team', 'US', CURRENT_TIMESTAMP)"
            )
        )
    upgrade(url)
    upgrade(url)  # idempotent: nothing pending, nothing duplicated
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT key, kind, type, enabled, position FROM attribute_definitions"
                " WHERE workspace_id = 'ws_old'"
            )
        ).all()
        flag = conn.execute(text("SELECT agents_can_edit_crm_managed FROM workspaces")).scalar()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("vip", "standard", "boolean", 1, -1)]
    assert flag == 0

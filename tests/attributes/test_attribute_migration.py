"""The attribute-engine migration backfills the standard vip attribute of existing workspaces."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

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


BEFORE_LABELS = "a16b00000002"  # the revision before attribute labels became unique


def test_duplicate_labels_are_numbered_before_the_unique_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'labels.db'}"
    upgrade(url, BEFORE_LABELS)
    engine = create_engine(url)
    definitions = [
        # (key, kind, label, position): VIP keeps its label; later duplicates get numbers.
        ("vip", "standard", "VIP", 0),
        ("vip_2", "custom", "vip ", 1),
        ("order", "custom", "Número de pedido", 2),
        # A duplicate before a label an admin typed with a number: that label stays theirs.
        ("order_3", "custom", "  NÚMERO  de pedido", 3),
        ("order_2", "custom", "Número de pedido (2)", 4),
        ("tier", "custom", " Tier   level ", 5),
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workspaces (id, name, plan, default_phone_region, created_at)"
                " VALUES ('ws_old', 'Old', 'team', 'US', CURRENT_TIMESTAMP)"
            )
        )
        for key, kind, label, position in definitions:
            conn.execute(
                text(
                    "INSERT INTO attribute_definitions (id, workspace_id, key, label, kind, type,"
                    " format, enabled, position, crm_managed, lookup, created_at) VALUES"
                    " (:id, 'ws_old', :key, :label, :kind, :type, NULL, 1, :position, 0, 0,"
                    " CURRENT_TIMESTAMP)"
                ),
                {
                    "id": f"attr_{key}",
                    "key": key,
                    "label": label,
                    "kind": kind,
                    "type": "boolean" if kind == "standard" else "text",
                    "position": position,
                },
            )
    upgrade(url)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text("SELECT key, label FROM attribute_definitions WHERE workspace_id = 'ws_old'")
            ).all()
        )
    assert rows == {
        "vip": "VIP",
        "vip_2": "vip (2)",
        "order": "Número de pedido",
        "order_2": "Número de pedido (2)",
        "order_3": "NÚMERO de pedido (3)",
        "tier": "Tier level",
    }
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO attribute_definitions (id, workspace_id, key, label, kind, type,"
                " enabled, position, crm_managed, lookup, created_at) VALUES ('attr_x', 'ws_old',"
                " 'x', 'TIER LEVEL', 'custom', 'text', 1, 9, 0, 0, CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()

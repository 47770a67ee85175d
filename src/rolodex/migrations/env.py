"""Alembic environment: migrations run on a sync connection to the configured database."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from rolodex.db import is_sqlite, sync_url
from rolodex.models import Base
from rolodex.models.base import UTCDateTime

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run_migrations() -> None:
    """Apply migrations online (SQLite batch mode so ALTERs work there)."""
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(sync_url(url), poolclass=pool.NullPool, hide_parameters=True)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations stay independent of the app's Python types: UTCDateTime is a plain timestamp.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite(url),
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

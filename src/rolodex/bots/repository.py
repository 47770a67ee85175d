"""Bot rows, always scoped by workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.db import dialect_insert
from rolodex.models import Bot, BotLogEntry, BotUpload, Workspace


def bots_of(workspace_id: str) -> Select[Bot]:
    """The workspace-scoped statement every bot query starts from."""
    return select(Bot).where(Bot.workspace_id == workspace_id)


async def get(session: AsyncSession, workspace_id: str, bot_id: str) -> Bot | None:
    """One bot of the workspace."""
    return (
        await session.execute(bots_of(workspace_id).where(Bot.id == bot_id))
    ).scalar_one_or_none()


async def count(session: AsyncSession, workspace_id: str) -> int:
    """How many bots the workspace has."""
    stmt = select(func.count()).select_from(Bot).where(Bot.workspace_id == workspace_id)
    return int((await session.execute(stmt)).scalar_one())


async def inception_bots(session: AsyncSession, workspace_id: str, plans: list[str]) -> list[Bot]:
    """The workspace's inception bots, if its plan has bots."""
    stmt = (
        bots_of(workspace_id)
        .join(Workspace, Workspace.id == Bot.workspace_id)
        .where(Bot.activation == "inception", Workspace.plan.in_(plans))
        .order_by(Bot.id)
    )
    return list((await session.execute(stmt)).scalars())


async def add_log(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Lines of a bot's log."""
    await session.execute(insert(BotLogEntry), rows)


async def prune_log(session: AsyncSession, workspace_id: str, bot_id: str, keep: int) -> None:
    """Forget all but the bot's newest `keep` lines."""
    newest = (
        select(BotLogEntry.id)
        .where(BotLogEntry.workspace_id == workspace_id, BotLogEntry.bot_id == bot_id)
        .order_by(BotLogEntry.id.desc())
        .offset(keep)
        .limit(1)
    )
    cutoff = (await session.execute(newest)).scalar_one_or_none()
    if cutoff is not None:
        await session.execute(
            delete(BotLogEntry).where(BotLogEntry.bot_id == bot_id, BotLogEntry.id <= cutoff)
        )


async def log_of(
    session: AsyncSession, workspace_id: str, bot_id: str, limit: int
) -> list[BotLogEntry]:
    """The bot's newest log lines, newest first."""
    stmt = (
        select(BotLogEntry)
        .where(BotLogEntry.workspace_id == workspace_id, BotLogEntry.bot_id == bot_id)
        .order_by(BotLogEntry.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def put_upload(session: AsyncSession, row: dict[str, Any]) -> None:
    """Keep an uploaded file's metadata; uploading the same filename again replaces it."""
    stmt = dialect_insert(session, BotUpload).values(**row)
    changed = {k: stmt.excluded[k] for k in ("content_type", "size", "sha256", "created_at")}
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["conversation_id", "bot_id", "filename"], set_=changed
        )
    )


async def get_upload(
    session: AsyncSession, workspace_id: str, bot_id: str, conversation_id: str, filename: str
) -> BotUpload | None:
    """A file the bot uploaded for the conversation, by its filename."""
    stmt = select(BotUpload).where(
        BotUpload.workspace_id == workspace_id,
        BotUpload.bot_id == bot_id,
        BotUpload.conversation_id == conversation_id,
        BotUpload.filename == filename,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def plan_of(session: AsyncSession, workspace_id: str) -> str:
    """The workspace's plan."""
    stmt = select(Workspace.plan).where(Workspace.id == workspace_id)
    return str((await session.execute(stmt)).scalar_one())

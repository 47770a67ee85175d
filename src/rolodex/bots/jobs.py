"""The bots' jobs: an event posted to a bot (its answer applied), and a silent bot's timeout.

An event is read in a short transaction, posted outside any, and the answer applied in
another, so a slow bot holds no database lock. A bot that does not answer 2xx within 10 s is
tried again after 1, 2 and 4 s; after the last try the conversation is handed over per the
bot's `on_error`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from rolodex.bots import contract, repository
from rolodex.bots.schemas import Handoff
from rolodex.conversations import service as conversations
from rolodex.errors import AppError
from rolodex.jobs.registry import JobContext, job
from rolodex.kit import outbound
from rolodex.kit.signing import signature_headers

EVENT_JOB = contract.EVENT_JOB
TIMEOUT_JOB = contract.TIMEOUT_JOB
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (1, 2, 4))
TIMEOUT_SECONDS = 10.0
LEASE = timedelta(seconds=60)


class BotUnreachable(RuntimeError):
    """The bot did not take the event (retried, then the conversation is handed over)."""


@job(EVENT_JOB, retry_delays=RETRY_DELAYS, lease=LEASE)
async def deliver_event(ctx: JobContext) -> None:
    """Post one event to the bot that holds the conversation and apply its answer."""
    assert ctx.workspace_id is not None
    payload = ctx.payload
    conversation_id, kind = str(payload["conversation_id"]), str(payload["type"])
    async with ctx.db.reader() as session:
        bot = await repository.get(session, ctx.workspace_id, str(payload["bot_id"]))
        if bot is None:
            return  # deleted meanwhile: its conversations were handed over
        plan = await repository.plan_of(session, ctx.workspace_id)
        held = await conversations.holder(session, ctx.workspace_id, conversation_id)
        body = await contract.event_body(session, ctx.workspace_id, payload, plan, bot)
        url, secret = bot.webhook_url, bot.secret
    if held != bot.id or body is None:
        async with ctx.db.transaction() as session:
            await contract.log(session, bot, "event", kind, conversation_id, "ignored")
        return
    headers = {"Content-Type": "application/json", **signature_headers(secret, body)}
    allow = ctx.settings.allow_private_webhook_targets
    try:
        async with outbound.client(TIMEOUT_SECONDS) as http:
            reply = await outbound.send(
                http, "POST", url, content=body, headers=headers, allow_private=allow
            )
        error = None if reply.ok else f"the bot answered {reply.status}: {reply.excerpt(200)}"
    except outbound.UnsafeTarget as exc:
        error = f"refused target: {exc}"
    except httpx.TimeoutException:
        error = f"no answer within {TIMEOUT_SECONDS:.0f}s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    if error is not None:
        async with ctx.db.transaction() as session:
            await contract.log(session, bot, "event", kind, conversation_id, "failed", error)
            if ctx.last_attempt and await contract.hand_over_after_failure(
                session, bot, plan, conversation_id, "bot_unreachable"
            ):
                await contract.log(
                    session, bot, "action", "complete", conversation_id, "ok", "bot_unreachable"
                )
        raise BotUnreachable(error)
    answer = contract.parse_answer(reply.body)
    async with ctx.db.transaction() as session:
        detail = answer if isinstance(answer, str) else ""
        outcome = "failed" if isinstance(answer, str) else "ok"
        await contract.log(session, bot, "event", kind, conversation_id, outcome, detail)
        then = payload.get("then_message_id")
        if then:
            # The message that opened the conversation, now that the bot took the start.
            await contract.send_event(
                session,
                bot,
                conversation_id,
                str(payload["contact_id"]),
                contract.INBOUND,
                message_id=str(then),
                with_timeout=False,
            )
    if answer is None or isinstance(answer, str):
        return
    try:
        async with ctx.db.transaction() as session:
            await contract.apply(
                session, bot, plan, conversation_id, answer, data_dir=ctx.settings.data_dir
            )
    except AppError as exc:
        # Taken back meanwhile, or a file it named is missing: noted, nothing applied.
        async with ctx.db.transaction() as session:
            outcome = "ignored" if exc.status == 404 else "failed"
            await contract.log(
                session, bot, "action", "answer", conversation_id, outcome, exc.detail
            )


@job(TIMEOUT_JOB, retry_delays=(timedelta(seconds=30),), lease=LEASE)
async def response_timeout(ctx: JobContext) -> None:
    """The bot said nothing to the contact since the event: hand the conversation over."""
    assert ctx.workspace_id is not None
    conversation_id = str(ctx.payload["conversation_id"])
    since = datetime.fromisoformat(str(ctx.payload["since"]))
    async with ctx.db.transaction() as session:
        bot = await repository.get(session, ctx.workspace_id, str(ctx.payload["bot_id"]))
        if bot is None:
            return
        conversation = await conversations.locked(session, ctx.workspace_id, conversation_id)
        if conversation is None or conversation.bot_id != bot.id:
            return
        if await conversations.bot_wrote_since(
            session, ctx.workspace_id, conversation_id, bot.id, since
        ):
            return
        plan = await repository.plan_of(session, ctx.workspace_id)
        await contract.hand_over(
            session,
            bot,
            plan,
            conversation,
            to_previous_agent=bot.handoff == Handoff.PREVIOUS_AGENT,
            reason="bot_timeout",
        )
        detail = f"no answer within {bot.response_timeout_seconds}s"
        await contract.log(session, bot, "action", "complete", conversation_id, "ok", detail)

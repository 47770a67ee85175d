"""A bot holding a conversation (R13.2), internal notes and labels: what bots do to a
conversation besides replying. The bots domain decides when; this module changes the rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.conversations import history, repository
from rolodex.conversations.events import ConversationAssigned, LabelsApplied, NoteAdded
from rolodex.conversations.schemas import LabelCreate, LabelKind, LabelRead, Status
from rolodex.errors import Conflict, NotFound
from rolodex.i18n import _
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.models import Conversation, Label, Message

MAX_LABELS = 500


async def _assigned(
    session: AsyncSession,
    conversation: Conversation,
    previous: tuple[str | None, str | None],
    actor_kind: str,
    actor_id: str | None,
) -> None:
    await emit(
        session,
        ConversationAssigned(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            assignee_id=conversation.assignee_id,
            team_id=conversation.team_id,
            previous_assignee_id=previous[0],
            previous_team_id=conversation.team_id,
            actor_kind=actor_kind,
            actor_id=actor_id,
            bot_id=conversation.bot_id,
            previous_bot_id=previous[1],
        ),
    )


async def hold(
    session: AsyncSession,
    conversation: Conversation,
    bot_id: str,
    *,
    actor_kind: str,
    actor_id: str | None,
) -> None:
    """The bot holds the (locked) conversation: no one is its assignee meanwhile."""
    previous = (conversation.assignee_id, conversation.bot_id)
    if previous[1] == bot_id:
        return
    actor = history.Actor(actor_kind, actor_id)
    ws = conversation.workspace_id
    await history.record(session, ws, conversation.id, actor, previous[1], bot_id, kind="bot")
    if conversation.assignee_id is not None:
        await history.record(
            session, ws, conversation.id, actor, conversation.assignee_id, None, kind="assignee"
        )
        conversation.previous_assignee_id = conversation.assignee_id
    conversation.assignee_id = None
    conversation.bot_id = bot_id
    await session.flush()
    await _assigned(session, conversation, previous, actor_kind, actor_id)


async def release(
    session: AsyncSession,
    conversation: Conversation,
    *,
    assignee_id: str | None,
    resolve: bool,
    reason: str,
    actor_kind: str,
    actor_id: str | None,
) -> None:
    """The bot lets the (locked) conversation go: to `assignee_id` (or no one) and the new
    queue, or resolved."""
    bot_id = conversation.bot_id
    if bot_id is None:
        return
    actor = history.Actor(actor_kind, actor_id)
    ws = conversation.workspace_id
    previous = (conversation.assignee_id, bot_id)
    await history.record(
        session, ws, conversation.id, actor, bot_id, None, kind="bot", reason=reason
    )
    conversation.bot_id = None
    if assignee_id is not None and assignee_id != conversation.assignee_id:
        await history.record(
            session,
            ws,
            conversation.id,
            actor,
            conversation.assignee_id,
            assignee_id,
            kind="assignee",
        )
        conversation.assignee_id = assignee_id
    target = Status.RESOLVED if resolve else Status.NEW
    old_status = conversation.status
    conversation.status = target.value
    await session.flush()
    await _assigned(session, conversation, previous, actor_kind, actor_id)
    if old_status != target:
        await history.status_changed(
            session,
            ws,
            conversation.id,
            conversation.contact_id,
            actor,
            old_status,
            target.value,
            reason=reason,
        )


async def add_note(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    author_kind: str,
    author_id: str | None,
) -> str:
    """An internal note on the conversation: agents read it; it is never delivered."""
    now = utcnow()
    message = Message(
        id=new_id("msg"),
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction="outbound",
        author_kind=author_kind,
        author_id=author_id,
        external_id=None,
        text=text,
        sent_at=now,
        created_at=now,
        internal=True,
    )
    session.add(message)
    await session.flush()
    await emit(
        session,
        NoteAdded(
            workspace_id=conversation.workspace_id,
            message_id=message.id,
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            channel_id=conversation.channel_id,
        ),
    )
    return message.id


async def apply_labels(
    session: AsyncSession, conversation: Conversation, kind: LabelKind, names: Sequence[str]
) -> list[str]:
    """Apply the catalogue's labels of this kind named (any case); returns those applied:
    a name the catalogue does not have is ignored."""
    wanted = {n.strip().casefold() for n in names if n and n.strip()}
    if not wanted:
        return []
    known = await repository.catalogue(session, conversation.workspace_id, kind.value)
    found = [label for label in known if label.name.casefold() in wanted]
    now = utcnow()
    await repository.apply_labels(
        session,
        [
            {
                "id": new_id("cvl"),
                "workspace_id": conversation.workspace_id,
                "conversation_id": conversation.id,
                "label_id": label.id,
                "created_at": now,
            }
            for label in found
        ],
    )
    names_applied = tuple(label.name for label in found)
    if names_applied:
        await emit(
            session,
            LabelsApplied(
                workspace_id=conversation.workspace_id,
                conversation_id=conversation.id,
                contact_id=conversation.contact_id,
                names=names_applied,
            ),
        )
    return list(names_applied)


async def list_labels(session: AsyncSession, principal: Principal) -> list[LabelRead]:
    """The workspace's topics and tags."""
    rows = await repository.catalogue(session, principal.workspace_id)
    return [LabelRead(id=r.id, kind=LabelKind(r.kind), name=r.name) for r in rows]


async def create_label(session: AsyncSession, principal: Principal, data: LabelCreate) -> LabelRead:
    """Add a topic or tag to the catalogue (admins); 409 when the name exists in any case."""
    principal.require_admin()
    name = " ".join(data.name.split())
    known = await repository.catalogue(session, principal.workspace_id)
    if len(known) >= MAX_LABELS:
        raise Conflict(
            _("A workspace can have at most %(max)s labels.", max=MAX_LABELS),
            code="too_many_labels",
        )
    if any(r.kind == data.kind and r.name.casefold() == name.casefold() for r in known):
        raise Conflict(_("This label exists already."), code="label_exists")
    row = Label(
        id=new_id("lbl"),
        workspace_id=principal.workspace_id,
        kind=data.kind.value,
        name=name,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    after = {"kind": row.kind, "name": row.name}
    await audit.record(
        session, principal, "label.created", target_type="label", target_id=row.id, after=after
    )
    return LabelRead(id=row.id, kind=data.kind, name=row.name)


async def delete_label(session: AsyncSession, principal: Principal, label_id: str) -> None:
    """Remove a label from the catalogue and from every conversation (admins)."""
    principal.require_admin()
    row = await repository.get_label(session, principal.workspace_id, label_id)
    if row is None:
        raise NotFound(_("Label not found."))
    before = {"kind": row.kind, "name": row.name}
    await session.delete(row)
    await session.flush()
    await audit.record(
        session, principal, "label.deleted", target_type="label", target_id=label_id, before=before
    )

"""The agent workspace: conversation list with status tabs, the conversation, the Contact tab.

Every action here goes through the same service call as its API twin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.auth.principals import Principal
from rolodex.channels import service as channels
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import AuthorKind, ConversationUpdate, MessageCreate, Status
from rolodex.conversations.service import ConversationFilters
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.groups import service as groups
from rolodex.i18n import N_, translate
from rolodex.inbox import service
from rolodex.schemas import Text
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

# The status tabs, as the product names them (each shown in the reader's language).
TABS = ((Status.NEW, N_("New")), (Status.PENDING, N_("Pending")), (Status.RESOLVED, N_("Resolved")))
# What each status button is called in the conversation view.
STATUS_ACTIONS = (
    (Status.NEW, N_("Move to New")),
    (Status.PENDING, N_("Mark pending")),
    (Status.RESOLVED, N_("Resolve")),
)
# One conversation's status where it is shown (a tab names many: "Nuevas", one is "nueva").
STATUS_LINES = {
    Status.NEW: N_("Status: new"),
    Status.PENDING: N_("Status: pending"),
    Status.RESOLVED: N_("Status: resolved"),
}
# A tab with no conversation at all (no filter).
EMPTY_HEADINGS = {
    Status.NEW: N_("No new conversations"),
    Status.PENDING: N_("No pending conversations"),
    Status.RESOLVED: N_("No resolved conversations"),
}
# Who wrote a message, beside the author's name in the thread.
AUTHOR_LABELS = {
    AuthorKind.CONTACT: N_("Contact"),
    AuthorKind.AGENT: N_("Agent"),
    AuthorKind.BOT: N_("Bot"),
    AuthorKind.SYSTEM: N_("System"),
}


K = TypeVar("K")


def _translated(pairs: Iterable[tuple[K, str]]) -> list[tuple[K, str]]:
    return [(key, translate(label)) for key, label in pairs]


async def _workspace(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    status: Status,
    channel_id: str | None,
    cursor: str | None,
    group: str | None = None,
    conversation_id: str | None = None,
) -> HTMLResponse:
    filters = ConversationFilters(status=status, channel_id=channel_id or None)
    items, next_cursor = await service.list_conversations(
        session, principal, filters, group=group or None, cursor=cursor, limit=50
    )
    # Filter > Contact groups: VIP (while on, enterprise) and the admins' groups.
    group_choices = [
        (g.key, g.name) for g in await groups.list_groups(session, principal) if g.enabled
    ]
    current = messages = None
    if conversation_id:
        current = await conversations.read_conversation(session, principal, conversation_id)
        messages, _ = await conversations.list_messages(
            session, principal, conversation_id, cursor=None, limit=200
        )
    return page(
        request,
        "conversations/workspace.html",
        principal,
        section="agent",
        tabs=_translated(TABS),
        status_lines=dict(_translated(STATUS_LINES.items())),
        empty_heading=translate(EMPTY_HEADINGS[status]),
        author_labels=dict(_translated(AUTHOR_LABELS.items())),
        status=status,
        channel_id=channel_id or "",
        group=group or "",
        group_choices=group_choices,
        vip_ids=await groups.vip_contact_ids(session, principal, {c.contact_id for c in items}),
        channel_names=await channels.channel_names(session, principal),
        conversations=items,
        next_cursor=next_cursor,
        current=current,
        messages=messages,
        status_actions=_translated(STATUS_ACTIONS),
    )


StatusQuery = Annotated[Status, Query()]
IdQuery = Annotated[str | None, Query(max_length=40)]
GroupQuery = Annotated[str | None, Query(max_length=80)]
CursorQuery = Annotated[str | None, Query(max_length=500)]


@router.get("/", response_class=HTMLResponse)
async def agent_workspace(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    status: StatusQuery = Status.NEW,
    channel_id: IdQuery = None,
    cursor: CursorQuery = None,
    group: GroupQuery = None,
) -> HTMLResponse:
    """The agent workspace: the conversation list of one status tab."""
    return await _workspace(
        request,
        session,
        principal,
        status=status,
        channel_id=channel_id,
        cursor=cursor,
        group=group,
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_view(
    conversation_id: str,
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    status: Annotated[Status | None, Query()] = None,
    channel_id: IdQuery = None,
    group: GroupQuery = None,
) -> HTMLResponse:
    """One conversation beside the list: messages, reply box, status buttons."""
    current = await conversations.access_conversation_by_id(session, principal, conversation_id)
    return await _workspace(
        request,
        session,
        principal,
        status=status or Status(current.status),
        channel_id=channel_id,
        cursor=None,
        group=group,
        conversation_id=conversation_id,
    )


@router.post("/conversations/{conversation_id}/reply")
async def reply(
    conversation_id: str,
    session: SessionDep,
    principal: SignedInForm,
    text: Annotated[Text, Form(min_length=1, max_length=100_000)],
) -> Response:
    """Send a reply from the page (the same service call as POST …/messages)."""
    await conversations.reply(session, principal, conversation_id, MessageCreate(text=text))
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.post("/conversations/{conversation_id}/status")
async def change_status(
    conversation_id: str,
    session: SessionDep,
    principal: SignedInForm,
    status: Annotated[Status, Form()],
) -> Response:
    """Change the status from the page (the same service call as PATCH …/{id})."""
    data = ConversationUpdate(status=status)
    await conversations.update_conversation(session, principal, conversation_id, data)
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)

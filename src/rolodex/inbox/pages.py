"""The agent workspace: conversation list with status tabs, the conversation, the Contact tab.

Every action here goes through the same service call as its API twin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.auth.principals import Principal
from rolodex.bots import service as bots
from rolodex.channels import service as channels
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import AuthorKind, ConversationUpdate, MessageCreate, Status
from rolodex.conversations.service import ConversationFilters
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.groups import service as groups
from rolodex.i18n import N_, _, translate
from rolodex.inbox import service
from rolodex.schemas import IfMatch, Text, Versions
from rolodex.users import service as users
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

# What a conversation label is, on its chip in the thread header.
LABEL_KINDS = {"topic": N_("Topic"), "tag": N_("Tag")}


# The working views (R12.4): the page URL's assignee_id, its label, and its count's key in
# GET /api/v1/conversations/counts (shown as a badge; none for All).
VIEWS = (
    ("me", N_("Mine"), "mine_new"),
    ("none", N_("Unassigned"), "unassigned_new"),
    ("", N_("All"), ""),
)

K = TypeVar("K")


def _translated(pairs: Iterable[tuple[K, str]]) -> list[tuple[K, str]]:
    return [(key, translate(label)) for key, label in pairs]


def _assignee_line(
    assignee_id: str | None, names: dict[str, str], me: str | None, bot_name: str | None = None
) -> str:
    if bot_name:
        return _("Assigned to %(name)s", name=bot_name)
    if assignee_id is None:
        return _("Unassigned")
    if assignee_id == me:
        return _("Assigned to you")
    return _("Assigned to %(name)s", name=names.get(assignee_id, "?"))


async def _workspace(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    status: Status,
    channel_id: str | None,
    cursor: str | None,
    group: str | None = None,
    assignee: str = "",
    q: str = "",
    conversation_id: str | None = None,
) -> HTMLResponse:
    # The view: me is the caller, none is conversations.UNASSIGNED, else a user's id.
    assignee_id = principal.user_id if assignee == "me" else assignee or None
    filters = ConversationFilters(
        status=status, channel_id=channel_id or None, assignee_id=assignee_id
    )
    items, next_cursor = await service.list_conversations(
        session,
        principal,
        filters,
        group=group or None,
        cursor=cursor,
        limit=50,
        q=q.strip() or None,
    )
    # Filter > Contact groups: VIP (while on, enterprise) and the admins' groups.
    group_choices = [
        (g.key, g.name) for g in await groups.list_groups(session, principal) if g.enabled
    ]
    # Whom a conversation can be assigned to (the active), and everyone's name for the notices.
    directory = await users.directory(session, principal)
    people = [(user_id, name) for user_id, name, active in directory if active]
    names = {user_id: name for user_id, name, _active in directory}
    teams, _next = await users.list_teams(session, principal, cursor=None, limit=200)
    channel_names = await channels.channel_names(session, principal)
    status_lines = dict(_translated(STATUS_LINES.items()))
    current = messages = None
    bot_choices: list[tuple[str, str]] = []
    live: dict[str, Any] = {
        "me": principal.user_id,
        "users": names,
        "teams": {t.id: t.name for t in teams},
        "channels": channel_names,
        "status_lines": status_lines,
        "filters": {
            "status": status.value,
            "channel_id": channel_id or "",
            "group": group or "",
            "assignee_id": assignee,
            "q": q,
        },
        # Only the first page follows the stream item by item; older pages stay as loaded.
        "first_page": cursor is None,
        "has_more": next_cursor is not None,
        "conversation": None,
    }
    if conversation_id:
        current = await conversations.read_conversation(session, principal, conversation_id)
        messages, _older = await conversations.list_messages(
            session, principal, conversation_id, cursor=None, limit=200
        )
        if current.assignee_id in names and current.assignee_id not in dict(people):
            # Deactivated since it was assigned: still shown as the one holding it.
            people.append((current.assignee_id, names[current.assignee_id]))
        # Who last changed its status: "Ana resolved this conversation. Send and reopen?"
        changed_by = next(
            (
                e.actor_id
                for e in reversed(current.events)
                if e.kind == "status" and e.actor_kind == "user"
            ),
            None,
        )
        # Hand to bot: the bots an agent may hand it to (none without the plan's bots).
        bot_choices = [(b.id, b.display_name) for b in await bots.directory(session, principal)]
        live["conversation"] = {
            "id": current.id,
            "version": current.version,
            "status": current.status.value,
            "assignee_id": current.assignee_id,
            "bot_id": current.bot_id,
            "bot_name": current.bot_name,
            "labels": [label.model_dump(mode="json") for label in current.labels],
            "team_id": current.team_id,
            "contact_id": current.contact_id,
            "status_changed_by": changed_by,
            # A platform's delivery error codes are explained per medium (workspace.js).
            "medium": await channels.channel_medium(session, principal, current.channel_id),
        }
    return page(
        request,
        "conversations/workspace.html",
        principal,
        section="agent",
        tabs=_translated(TABS),
        views=[(value, translate(label), count) for value, label, count in VIEWS],
        status_lines=status_lines,
        empty_heading=translate(EMPTY_HEADINGS[status]),
        author_labels=dict(_translated(AUTHOR_LABELS.items())),
        status=status,
        channel_id=channel_id or "",
        group=group or "",
        assignee=assignee,
        q=q,
        filtered=bool(channel_id or group or q),
        group_choices=group_choices,
        people=people,
        team_choices=[(t.id, t.name) for t in teams],
        channel_names=channel_names,
        conversations=items,
        next_cursor=next_cursor,
        current=current,
        assignee_line=(
            _assignee_line(current.assignee_id, names, principal.user_id, current.bot_name)
            if current
            else ""
        ),
        bot_choices=bot_choices,
        label_kinds=dict(_translated(LABEL_KINDS.items())),
        messages=messages,
        status_actions=_translated(STATUS_ACTIONS),
        live=live,
    )


StatusQuery = Annotated[Status, Query()]
IdQuery = Annotated[str | None, Query(max_length=40)]
GroupQuery = Annotated[str | None, Query(max_length=80)]
CursorQuery = Annotated[str | None, Query(max_length=500)]
# me, none, or a user's id (the view); the page keeps it in every link.
AssigneeQuery = Annotated[str, Query(max_length=40)]
SearchQuery = Annotated[str, Query(max_length=200)]


@router.get("/", response_class=HTMLResponse)
async def agent_workspace(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    status: StatusQuery = Status.NEW,
    channel_id: IdQuery = None,
    cursor: CursorQuery = None,
    group: GroupQuery = None,
    assignee_id: AssigneeQuery = "",
    q: SearchQuery = "",
) -> HTMLResponse:
    """The agent workspace: the conversation list of one status tab and view."""
    return await _workspace(
        request,
        session,
        principal,
        status=status,
        channel_id=channel_id,
        cursor=cursor,
        group=group,
        assignee=assignee_id,
        q=q,
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
    assignee_id: AssigneeQuery = "",
    q: SearchQuery = "",
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
        assignee=assignee_id,
        q=q,
        conversation_id=conversation_id,
    )


# The version the form was drawn with: a form posted from a stale page is refused (412) as the
# API refuses a stale If-Match, instead of acting on what the person did not see.
VersionForm = Annotated[int | None, Form(ge=1)]


def _seen(version: int | None) -> IfMatch:
    return None if version is None else Versions(frozenset({version}))


@router.post("/conversations/{conversation_id}/reply")
async def reply(
    conversation_id: str,
    session: SessionDep,
    principal: SignedInForm,
    text: Annotated[Text, Form(min_length=1, max_length=100_000)],
    version: VersionForm = None,
) -> Response:
    """Send a reply from the page (the same service call as POST …/messages)."""
    await conversations.reply(
        session, principal, conversation_id, MessageCreate(text=text), if_match=_seen(version)
    )
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.post("/conversations/{conversation_id}/status")
async def change_status(
    conversation_id: str,
    session: SessionDep,
    principal: SignedInForm,
    status: Annotated[Status, Form()],
    version: VersionForm = None,
) -> Response:
    """Change the status from the page (the same service call as PATCH …/{id})."""
    data = ConversationUpdate(status=status)
    await conversations.update_conversation(
        session, principal, conversation_id, data, if_match=_seen(version)
    )
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.post("/conversations/{conversation_id}/assign")
async def assign(
    conversation_id: str,
    session: SessionDep,
    principal: SignedInForm,
    assignee_id: Annotated[str, Form(max_length=40)] = "",
    team_id: Annotated[str, Form(max_length=40)] = "",
    me: Annotated[str, Form(max_length=1)] = "",
    version: VersionForm = None,
) -> Response:
    """Assign from the page: to me, or to the agent and team picked (as PATCH …/{id})."""
    if me and principal.user_id:
        data = ConversationUpdate(assignee_id=principal.user_id)
    else:
        data = ConversationUpdate(assignee_id=assignee_id or None, team_id=team_id or None)
    await conversations.update_conversation(
        session, principal, conversation_id, data, if_match=_seen(version)
    )
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.post("/conversations/{conversation_id}/delegate")
async def delegate(
    conversation_id: str,
    session: SessionDep,
    principal: SignedInForm,
    bot_id: Annotated[str, Form(min_length=1, max_length=40)],
    version: VersionForm = None,
) -> Response:
    """Hand the conversation to a bot from the page (as POST …/{id}/delegate)."""
    await bots.delegate(session, principal, conversation_id, bot_id, if_match=_seen(version))
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)

"""Plain builders for test data, written through the services."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import httpx

from rolodex.auth import service as auth
from rolodex.auth.passwords import hash_password
from rolodex.auth.principals import Role, TokenKind
from rolodex.channels import service as channels
from rolodex.channels.schemas import ChannelCreate
from rolodex.config import Settings
from rolodex.db import Database
from rolodex.kit.ids import new_id
from rolodex.models import User
from rolodex.plans import Plan
from rolodex.workspaces import service as workspaces

PASSWORD = "correct-horse-battery"


@cache
def _password_hash() -> str:
    # argon2 is slow on purpose; one hash serves every builder-made user.
    return hash_password(PASSWORD)


@dataclass
class Actor:
    """A user of a workspace with an API token."""

    workspace_id: str
    user_id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header for this actor."""
        return {"Authorization": f"Bearer {self.token}"}


async def make_workspace(db: Database, plan: Plan = Plan.ENTERPRISE, name: str = "Acme") -> Actor:
    """A workspace and its admin."""
    email = f"admin-{new_id('x')[2:]}@example.test"
    async with db.transaction() as session:
        created = await workspaces.create_workspace(
            session, name=name, plan=plan, admin_email=email, admin_password=PASSWORD
        )
    return Actor(created.workspace_id, created.admin_user_id, email, created.token)


async def make_user(db: Database, workspace_id: str, role: Role = Role.AGENT) -> Actor:
    """A user of the workspace with a personal API token."""
    email = f"{role.value}-{new_id('x')[2:]}@example.test"
    async with db.transaction() as session:
        user = User(
            id=new_id("usr"),
            workspace_id=workspace_id,
            email=email,
            name=f"Test {role.value}",
            role=role.value,
            password_hash=_password_hash(),
        )
        session.add(user)
        await session.flush()
        _, token = await auth.issue_token(
            session, workspace_id=workspace_id, kind=TokenKind.USER, user_id=user.id
        )
    return Actor(workspace_id, user.id, email, token)


async def make_channel(
    db: Database, admin: Actor, medium: str = "webchat", name: str | None = None
) -> str:
    """A channel of the admin's workspace (its platform definitions too); returns its id."""
    async with db.transaction() as session:
        principal = await auth.authenticate(session, admin.token)
        assert principal is not None
        data = ChannelCreate.model_validate({"medium": medium, "name": name or f"{medium} one"})
        channel = await channels.create_channel(session, principal, data, Settings())
    return channel.id


def inbound_body(
    sender_id: str = "user-1", external_id: str | None = None, **extra: object
) -> dict[str, object]:
    """An inbound message body from a sender, with a fresh external message id by default."""
    body: dict[str, object] = {
        "external_message_id": external_id or new_id("ext"),
        "sender": {"id": sender_id, "attributes": extra.pop("attributes", {})},
        "text": extra.pop("text", "Hello"),
    }
    body.update(extra)
    return body


async def make_integration(db: Database, workspace_id: str, kind: TokenKind) -> Actor:
    """An integration token (bot or crm) of the workspace, as an Actor without a user."""
    async with db.transaction() as session:
        row, token = await auth.issue_token(
            session, workspace_id=workspace_id, kind=kind, name=f"test {kind.value}"
        )
    return Actor(workspace_id, row.id, "", token)


async def make_attribute(
    client: httpx.AsyncClient, admin: Actor, **body: object
) -> dict[str, object]:
    """A custom attribute created through the API (a text field unless told otherwise)."""
    body.setdefault("type", "text")
    response = await client.post("/api/v1/attributes", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def make_conversation(
    client: httpx.AsyncClient,
    admin: Actor,
    channel_id: str,
    sender: str = "user-1",
    **attrs: object,
) -> dict[str, str]:
    """An inbound message from a sender; returns {conversation_id, contact_id, message_id}."""
    response = await client.post(
        f"/api/v1/channels/{channel_id}/inbound",
        json=inbound_body(sender, attributes=attrs),
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    result: dict[str, str] = response.json()
    return result


async def sign_in(client: httpx.AsyncClient, email: str) -> str:
    """Log in through the /login page (the client keeps the cookie); the pages' CSRF token."""
    import re

    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    data = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    assert (await client.post("/login", data=data)).status_code == 303
    home = await client.get("/")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text)
    assert csrf
    return csrf.group(1)

"""People and credentials: users, teams, API tokens and OAuth2 client credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column, workspace_column


class User(Base):
    """An admin or agent of one workspace; an email is unique within its workspace only.

    The same person may have accounts in several workspaces under one email; logging in
    tells them apart by password, then by an explicit workspace id (see auth.service.login).
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # The person's language (en, es) and IANA time zone; None: the browser's and the workspace's.
    locale: Mapped[str | None] = mapped_column(String(5), default=None)
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = created_column()


class ApiToken(Base):
    """A bearer credential: a user's API token, a web session, or an integration's token."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_column()
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Tokens issued to OAuth2 client credentials (POST /oauth2/token) name their client.
    oauth_client_id: Mapped[str | None] = mapped_column(String(40), index=True)


class OAuthClient(Base):
    """Client credentials an admin creates for an integration that calls Rolodex (a CRM)."""

    __tablename__ = "oauth_clients"

    id: Mapped[str] = id_column()  # the client_id
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # the token kind it is issued: crm (or bot)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    # The integration these credentials speak for, when the kind has several (a bot's id).
    subject_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = created_column()
    revoked_at: Mapped[datetime | None]


class Team(Base):
    """A group of agents that conversations can be routed to."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = workspace_column()
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()


class TeamMember(Base):
    """A user's membership of a team."""

    __tablename__ = "team_members"

    workspace_id: Mapped[str] = workspace_column()
    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )

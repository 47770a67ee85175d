"""User and team schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from rolodex.auth.principals import Role
from rolodex.kit.emails import normalize_email
from rolodex.schemas import InputModel, Name, OutputModel

Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(normalize_email)]

Password = Annotated[str, Field(min_length=8, max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=40)]


class UserCreate(InputModel):
    """A new admin or agent."""

    email: Email
    name: Name
    role: Role = Role.AGENT
    password: Password


class UserRead(OutputModel):
    """A user as the API shows it (never the password hash)."""

    id: str
    workspace_id: str
    email: str
    name: str
    role: Role
    active: bool
    created_at: datetime


class TeamCreate(InputModel):
    """A new team and its members."""

    name: Name
    member_ids: Annotated[list[Id], Field(max_length=1000)] = []


class TeamRead(OutputModel):
    """A team with its members' ids."""

    id: str
    name: str
    member_ids: list[str]
    created_at: datetime

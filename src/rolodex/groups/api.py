"""REST routes for contact groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.groups import service
from rolodex.groups.schemas import ContactGroupCreate, ContactGroupRead, ContactGroupUpdate

router = APIRouter(prefix="/api/v1", tags=["contact groups"], route_class=TransactionalRoute)

KeyPath = Annotated[str, Path(max_length=80, description="The group's key.")]


@router.get("/contact-groups")
async def list_groups(session: SessionDep, principal: CurrentPrincipal) -> list[ContactGroupRead]:
    """The built-in `vip` group (enterprise) and the admin-defined groups."""
    return await service.list_groups(session, principal)


@router.post("/contact-groups", status_code=201)
async def create_group(
    data: ContactGroupCreate, session: SessionDep, principal: CurrentPrincipal
) -> ContactGroupRead:
    """Define a group by rules over enabled attributes (admins); members are computed."""
    return await service.create_group(session, principal, data)


@router.get("/contact-groups/{key}")
async def get_group(
    key: KeyPath, session: SessionDep, principal: CurrentPrincipal
) -> ContactGroupRead:
    """One contact group."""
    return await service.get_group(session, principal, key)


@router.patch("/contact-groups/{key}")
async def update_group(
    key: KeyPath, data: ContactGroupUpdate, session: SessionDep, principal: CurrentPrincipal
) -> ContactGroupRead:
    """Rename a group or change its rules (admins); members and scores follow."""
    return await service.update_group(session, principal, key, data)


@router.delete("/contact-groups/{key}", status_code=204)
async def delete_group(key: KeyPath, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete a group that routing does not use (admins)."""
    await service.delete_group(session, principal, key)
    return Response(status_code=204)

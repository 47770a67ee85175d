"""REST routes for attribute definitions (contact values and the Contact tab: inbox/api.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from rolodex.attributes import service, updates
from rolodex.attributes.schemas import (
    AttributeCreate,
    AttributeDetail,
    AttributeOrder,
    AttributeRead,
    AttributeUpdate,
)
from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute)

KeyPath = Annotated[str, Path(max_length=80, description="The attribute's key.")]
Force = Annotated[
    bool,
    Query(description="Clear the values of removed dropdown options instead of refusing (409)."),
]


@router.get("/attributes", tags=["attributes"])
async def list_attributes(session: SessionDep, principal: CurrentPrincipal) -> list[AttributeRead]:
    """Every contact attribute of the workspace, in the admin's order."""
    return await service.list_attributes(session, principal)


@router.post("/attributes", status_code=201, tags=["attributes"])
async def create_attribute(
    data: AttributeCreate, session: SessionDep, principal: CurrentPrincipal
) -> AttributeRead:
    """Create a custom attribute (admins): a text field with a format, or a dropdown."""
    return await service.create_attribute(session, principal, data)


@router.put("/attributes/order", tags=["attributes"])
async def reorder_attributes(
    data: AttributeOrder, session: SessionDep, principal: CurrentPrincipal
) -> list[AttributeRead]:
    """Set the order of every attribute (admins); the list names each key exactly once."""
    return await service.reorder_attributes(session, principal, data)


@router.get("/attributes/{key}", tags=["attributes"])
async def get_attribute(
    key: KeyPath, session: SessionDep, principal: CurrentPrincipal
) -> AttributeDetail:
    """One attribute, with the values a format change left invalid."""
    return await service.get_attribute(session, principal, key)


@router.patch("/attributes/{key}", tags=["attributes"])
async def update_attribute(
    key: KeyPath,
    data: AttributeUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    force: Force = False,
) -> AttributeRead:
    """Rename, toggle, re-option or re-format an attribute (admins)."""
    return await updates.update_attribute(session, principal, key, data, force=force)


@router.delete("/attributes/{key}", status_code=204, tags=["attributes"])
async def delete_attribute(
    key: KeyPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Delete a custom attribute and its values (admins)."""
    await service.delete_attribute(session, principal, key)
    return Response(status_code=204)

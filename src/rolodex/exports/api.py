"""REST routes for exports (admins of enterprise workspaces)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse

from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.exports import service
from rolodex.exports.schemas import ExportCreate, ExportRead
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute, tags=["exports"])


@router.post("/exports", status_code=status.HTTP_202_ACCEPTED)
async def create_export(
    data: ExportCreate, session: SessionDep, principal: CurrentPrincipal
) -> ExportRead:
    """Queue an export of contact attributes; poll it, then download it when `done`."""
    return await service.create_export(session, principal, data)


@router.get("/exports")
async def list_exports(
    session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> Page[ExportRead]:
    """The workspace's exports, newest first, with their progress."""
    items, next_cursor = await service.list_exports(session, principal, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/exports/{export_id}")
async def get_export(
    export_id: str, session: SessionDep, principal: CurrentPrincipal
) -> ExportRead:
    """One export and its progress."""
    return service.read(await service.access_export(session, principal, export_id))


@router.get(
    "/exports/{export_id}/download",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The CSV, streamed."}},
)
async def download_export(
    export_id: str, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> FileResponse:
    """The finished CSV (streamed); 409 while not done, 410 once expired."""
    path, name = await service.download_path(
        session, principal, export_id, request.app.state.settings.data_dir
    )
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=name)

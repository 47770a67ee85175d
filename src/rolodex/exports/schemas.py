"""Export schemas (SPEC "Exports"): what is asked, and an export as read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from rolodex.catalogue import Medium
from rolodex.schemas import InputModel, Instant, OutputModel

Id = Annotated[str, Field(min_length=1, max_length=80)]


class ExportType(StrEnum):
    """The kinds of export (one so far)."""

    CONTACT_ATTRIBUTES = "contact_attributes"


class ExportStatus(StrEnum):
    """Where an export is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportFilters(InputModel):
    """Which contacts: all of these that are given must hold (updated = seen or a value changed)."""

    channel_ids: Annotated[list[Id], Field(max_length=200)] | None = None
    mediums: Annotated[list[Medium], Field(max_length=20)] | None = None
    vip: bool | None = None
    group: Id | None = None
    updated_from: Instant | None = None
    updated_to: Instant | None = None


class ExportCreate(InputModel):
    """An export to generate; `attributes` defaults to every attribute in the admin's order."""

    type: ExportType
    filters: ExportFilters = ExportFilters()
    attributes: Annotated[list[Id], Field(min_length=1, max_length=1000)] | None = None
    label_row: bool = Field(
        default=False,
        description=(
            "Add a second header row under the keys: each column's label in the caller's "
            "language (built-in labels translated, labels admins typed as typed)."
        ),
    )


class ExportProgress(OutputModel):
    """Contacts written so far, of how many."""

    done: int
    total: int


class ExportRead(OutputModel):
    """An export, its progress and, once done, where to download it (until it expires)."""

    id: str
    type: ExportType
    status: ExportStatus
    progress: ExportProgress
    filters: dict[str, Any]
    attributes: list[str]
    error: str | None
    size_bytes: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    expired: bool
    download_url: str | None

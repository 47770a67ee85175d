"""Privacy schemas: the deleted-contacts log and the auto-clear setting (SPEC "Privacy")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from rolodex.schemas import InputModel, OutputModel

MAX_AUTO_CLEAR_DAYS = 365


class DeletedBy(OutputModel):
    """The admin who deleted a contact, as they were at the time."""

    id: str | None
    name: str
    email: str


class DeletedContactRead(OutputModel):
    """One deletion: the hint, the contact's platform, when and by whom (R8.2)."""

    id: str
    hint: str
    medium: str
    deleted_at: datetime
    deleted_by: DeletedBy


class PrivacySettingsRead(OutputModel):
    """Clear contact attributes this many days after a conversation is resolved (null: off)."""

    auto_clear_days: int | None = None


class PrivacySettingsUpdate(InputModel):
    """Turn automatic clearing on (1-365 days after a resolve) or off (null)."""

    auto_clear_days: Annotated[int, Field(ge=1, le=MAX_AUTO_CLEAR_DAYS)] | None

"""Contact settings of a workspace: the attribute used for matching and platform mappings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column


class ContactSettings(Base):
    """One row per workspace: which custom attribute links contacts across channels (R3.3).

    Only the choice is stored: links are found at read time through the
    (workspace, definition, normalized) index of attribute_values, so changing or clearing
    the choice rewrites no contact.
    """

    __tablename__ = "contact_settings"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    matching_definition_id: Mapped[str | None] = mapped_column(
        ForeignKey("attribute_definitions.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = created_column()


class AttributeMapping(Base):
    """A platform attribute that fills a custom one on inbound messages (source platform)."""

    __tablename__ = "attribute_mappings"

    # The primary key leads with (workspace, from): the inbound lookup is one index probe.
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    from_definition_id: Mapped[str] = mapped_column(
        ForeignKey("attribute_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    to_definition_id: Mapped[str] = mapped_column(
        ForeignKey("attribute_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_column()

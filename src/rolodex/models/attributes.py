"""Attribute definitions, values with provenance, and the per-value change history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, func, text
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


class AttributeDefinition(Base):
    """A contact attribute of a workspace: platform (per medium), custom, or standard (vip)."""

    __tablename__ = "attribute_definitions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        # A label is unique per workspace whatever its case (attributes/labels.py).
        Index(
            "ux_attribute_definitions_label", "workspace_id", func.lower(text("label")), unique=True
        ),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    key: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # platform | custom | standard
    type: Mapped[str] = mapped_column(String(20))  # text | dropdown | boolean
    format: Mapped[str | None] = mapped_column(String(20))  # text, number, email, phone, url, date
    options: Mapped[list[Any] | None]
    medium: Mapped[str | None] = mapped_column(String(20))  # platform attributes only
    enabled: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    crm_managed: Mapped[bool] = mapped_column(default=False)
    lookup: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = created_column()


class AttributeChannelDisabled(Base):
    """A platform attribute hidden from the Contact tab of one channel (R2.1)."""

    __tablename__ = "attribute_channel_disabled"

    definition_id: Mapped[str] = mapped_column(
        ForeignKey("attribute_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)


INVALID = text("invalid")


class AttributeValue(Base):
    """The current value of one attribute of one contact, with where it came from (B1)."""

    __tablename__ = "attribute_values"
    __table_args__ = (
        Index("ix_attribute_values_lookup", "workspace_id", "definition_id", "normalized"),
        # Values that failed a format change are few: a partial index counts them cheaply.
        Index(
            "ix_attribute_values_invalid",
            "definition_id",
            sqlite_where=INVALID,
            postgresql_where=INVALID,
        ),
    )

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    definition_id: Mapped[str] = mapped_column(
        ForeignKey("attribute_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    # Not indexed alone: ix_attribute_values_lookup leads with it (one index less per write).
    workspace_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(Text)
    # Matching form of the value (linking); capped so that a btree index always accepts it.
    normalized: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(20))  # platform, agent, bot, crm, import, api
    actor_kind: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    channel_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = created_column()
    pending_value: Mapped[str | None] = mapped_column(Text)  # a CRM answer awaiting Confirm
    # Set when a format change left the value not valid for the new format: kept, not dropped.
    invalid: Mapped[bool] = mapped_column(default=False, server_default=false())


class AttributeHistory(Base):
    """One change of one attribute value: old, new, who, through which channel, when."""

    __tablename__ = "attribute_history"
    __table_args__ = (Index("ix_attribute_history_contact_id_at", "contact_id", "at"),)

    id: Mapped[str] = id_column()
    # Read per contact only (inbound hot path writes it): no index of its own.
    workspace_id: Mapped[str] = mapped_column(String(40))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    definition_id: Mapped[str] = mapped_column(
        ForeignKey("attribute_definitions.id", ondelete="CASCADE")
    )
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    actor_kind: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    channel_id: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = created_column()

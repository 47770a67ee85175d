"""The CRM integration of a workspace, and what Rolodex knows of each contact's CRM look-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column


class CrmIntegration(Base):
    """One workspace's CRM connection (R6): where to send look-ups, write-backs, notifications."""

    __tablename__ = "crm_integrations"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    lookup_url: Mapped[str] = mapped_column(String(2000))
    write_back_url: Mapped[str | None] = mapped_column(String(2000))
    notification_url: Mapped[str | None] = mapped_column(String(2000))
    auth_type: Mapped[str] = mapped_column(String(20))  # shared_secret | oauth2
    # Kept in clear: every outbound request is signed with it, and admins are shown it.
    shared_secret: Mapped[str] = mapped_column(String(128))
    oauth_token_url: Mapped[str | None] = mapped_column(String(2000))
    oauth_client_id: Mapped[str | None] = mapped_column(String(400))
    oauth_client_secret: Mapped[str | None] = mapped_column(String(400))
    oauth_scope: Mapped[str | None] = mapped_column(String(400))
    timeout_seconds: Mapped[float] = mapped_column(default=5.0)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = created_column()


class CrmContactState(Base):
    """A contact's CRM status: validated or not, the last look-up and outcome, pending values."""

    __tablename__ = "crm_contact_states"

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    validated: Mapped[bool] = mapped_column(default=False)
    last_lookup_at: Mapped[datetime | None]
    # updated, pending_confirmation, waiting_for_crm, not_found, failed, no_lookup_values
    last_outcome: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    # A CRM answer that waits for an agent's Confirm: {key: value, or None to clear}.
    pending: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime] = created_column()

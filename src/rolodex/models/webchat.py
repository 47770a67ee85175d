"""Web chat visitor sessions: the token a visitor's browser holds, and whose contact it is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base, created_column, id_column


class WebchatSession(Base):
    """One visitor's session on one web chat channel; only its token's hash is kept."""

    __tablename__ = "webchat_sessions"

    id: Mapped[str] = id_column()
    # Read by token hash only (unique index); the workspace rides along for scoping.
    workspace_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    # Erasing the contact ends its sessions (R9: nothing of a forgotten person stays).
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The contact's platform user id: the verified identifier, or "visitor-…" of this session.
    visitor_id: Mapped[str] = mapped_column(String(200))
    verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = created_column()
    last_seen_at: Mapped[datetime] = created_column()

"""Failed-login counters, shared by every process through the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from rolodex.models.base import Base


class LoginFailure(Base):
    """Failed logins counted for one throttle key (an account, an address, a client) in a window.

    The one table without a workspace: a login is counted before any workspace is known.
    """

    __tablename__ = "login_failures"

    # A digest of the key: fixed width, and no email or address kept in the clear.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int]
    window_start: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)

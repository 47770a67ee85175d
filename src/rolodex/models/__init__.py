"""Every SQLAlchemy model, imported here so that metadata and Alembic see them all."""

from rolodex.models.audit import AuditEvent
from rolodex.models.base import Base
from rolodex.models.jobs import Job
from rolodex.models.users import ApiToken, Team, TeamMember, User
from rolodex.models.workspaces import Workspace

__all__ = ["ApiToken", "AuditEvent", "Base", "Job", "Team", "TeamMember", "User", "Workspace"]

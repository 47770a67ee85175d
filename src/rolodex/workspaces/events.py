"""Events of the workspaces domain."""

from __future__ import annotations

from dataclasses import dataclass

from rolodex.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class WorkspaceCreated(Event):
    """A new workspace exists (its admin not yet): domains seed what every workspace has."""

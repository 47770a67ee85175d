"""Workspaces and their plans."""

"""Routing of conversations to teams, and their explainable priority (R4.3, B4)."""

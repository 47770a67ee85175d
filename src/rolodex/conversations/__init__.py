"""Conversations, their status changes, and messages."""

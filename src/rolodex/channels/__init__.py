"""Channels and inbound messages."""

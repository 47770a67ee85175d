"""Rolodex: the contacts service for multi-channel customer-service inboxes."""

__version__ = "0.1.0"

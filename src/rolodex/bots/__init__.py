"""Bots (virtual agents, R13): registered by admins, on the Inbox 2.0 virtual-agent contract."""

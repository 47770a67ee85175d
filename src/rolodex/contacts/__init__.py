"""Contacts: platform identities of the people who write in."""

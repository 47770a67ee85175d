"""A runnable simulator of Meta's messaging platforms (WhatsApp Cloud API, Messenger, Instagram)."""

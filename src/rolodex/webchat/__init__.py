"""Web chat: the visitor side of the widget channel (public API, sessions, the visitor stream)."""

"""Bot test fixtures: a programmable bot on loopback."""

from __future__ import annotations

from support.bot import bot_server as bot_server

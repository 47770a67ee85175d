"""The agent's inbox: the reads that compose several domains (a contact with its values, links and
groups; its history; the Contact tab; the conversation list with its group filters) and the agent
workspace page. It owns no table and sits above the domains it reads (.importlinter)."""

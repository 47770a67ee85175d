"""Who is calling: principals, roles, tokens, passwords, sessions."""

"""The public Inbox 2.0 integration contracts served on their own paths (B2)."""

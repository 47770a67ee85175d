"""Linking contacts across channels by the attribute used for matching (R3, B3)."""

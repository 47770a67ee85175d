"""Privacy: deleting contacts, the deleted-contacts log, automatic clearing (R8)."""

"""Contact attributes: definitions, values with provenance, and their change history."""

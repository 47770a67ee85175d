"""Background jobs: an outbox table, claimed by workers with a lease."""

"""The CRM integration (R5, R6, B2): look-ups, CRM-managed values, write-backs."""

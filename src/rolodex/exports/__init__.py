"""On-demand exports of contact attributes (R7, B6)."""

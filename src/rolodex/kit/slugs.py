"""Keys derived from names people type: ASCII, lower case, words joined by underscores."""

from __future__ import annotations

import re
import unicodedata


def slugify(label: str, *, fallback: str, length: int = 60) -> str:
    """A key from a label (accents dropped), at most `length` characters; `fallback` if empty."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")
    return slug[:length].strip("_") or fallback

"""Keep the Spanish catalog in step with the code: extract every message, update, fill.

Usage: python scripts/i18n.py [--add translations.json ...]
Extracts the messages of src/rolodex (babel.cfg) into locale/messages.pot, updates
locale/es/LC_MESSAGES/messages.po from it (messages no longer used are dropped, new ones
arrive empty), fills msgstr from each JSON file given ({"English id": "Spanish", ...}),
and prints what still lacks a Spanish text. Safe to run from several shells at once (a lock).
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "rolodex" / "locale"
POT = LOCALE / "messages.pot"
PO = LOCALE / "es" / "LC_MESSAGES" / "messages.po"
PYBABEL = str(Path(sys.executable).parent / "pybabel")
KEYWORDS = ["-k", "_", "-k", "N_", "-k", "lazy_gettext", "-k", "ngettext:1,2", "-k", "t"]


def main() -> int:
    """Extract, update, fill; exit 1 while a message lacks its Spanish."""
    args = sys.argv[1:]
    added: dict[str, str] = {}
    while args:
        flag, path, *args = args
        if flag != "--add":
            print(__doc__)
            return 2
        added.update(json.loads(Path(path).read_text()))
    with (LOCALE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        quiet = {"check": True, "cwd": ROOT, "capture_output": True}
        subprocess.run(
            [PYBABEL, "extract", "-F", "babel.cfg", *KEYWORDS, "--no-wrap", "--sort-by-file",
             "--project", "Rolodex", "-o", str(POT), "src/rolodex"],
            **quiet,
        )  # fmt: skip
        if not PO.exists():
            subprocess.run([PYBABEL, "init", "-i", str(POT), "-l", "es", "-o", str(PO)], **quiet)
        subprocess.run(
            [PYBABEL, "update", "-i", str(POT), "-o", str(PO), "-l", "es", "--no-wrap",
             "--ignore-obsolete", "--no-fuzzy-matching"],
            **quiet,
        )  # fmt: skip
        with PO.open("rb") as f:
            catalog = read_po(f, locale="es")
        for message in catalog:
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key in added:
                value = added[key]
                message.string = tuple(value) if isinstance(message.id, tuple) else value
                message.flags.discard("fuzzy")
        with PO.open("wb") as f:
            write_po(f, catalog, width=0, sort_by_file=True, ignore_obsolete=True)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    for message_id in missing:
        print(f"missing Spanish: {message_id!r}")
    print(f"{len(catalog)} messages, {len(missing)} without Spanish")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Count how Rolodex's domains import each other: the figures issue 15 holds at zero.

Prints the imports of another domain's repository (or internal module) and the pairs of
domains that import each other; exits 1 if either is not zero. Imports inside functions count.
Usage: python scripts/domain_imports.py [--verbose]
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "rolodex"
# Infrastructure, not domains: anything may import these, and app/cli/worker import everything.
NOT_DOMAINS = frozenset(
    {
        "kit", "models", "migrations", "db", "errors", "config", "schemas", "web", "app",
        "cli", "worker", "middleware", "subscriptions", "demo", "catalogue", "plans", "__init__",
        "i18n", "apidocs", "files",
        "__main__",
    }
)  # fmt: skip
# What a domain may import from another: its service, its events, its schemas.
PUBLIC = frozenset({"service", "events", "schemas", "principals", "plans", "deps", "registry"})


def _domain(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "rolodex" or parts[1] in NOT_DOMAINS:
        return None
    return parts[1]


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def main() -> int:
    """Print the report; non-zero exit when a count is above zero."""
    verbose = "--verbose" in sys.argv
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    internal: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        source = _domain(module)
        if source is None:
            continue
        for name in _imports(path):
            target = _domain(name)
            if target is None or target == source:
                continue
            edges[(source, target)].append(f"{module} -> {name}")
            part = name.split(".")[2] if name.count(".") >= 2 else ""
            if part and part not in PUBLIC:
                internal.append(f"{module} -> {name}")
    pairs = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    print(f"imports of another domain's repository or internal module: {len(internal)}")
    for line in internal if verbose else internal[:50]:
        print(f"  {line}")
    print(f"pairs of domains that import each other: {len(pairs)}")
    for a, b in pairs:
        print(f"  {a} <-> {b}")
        if verbose:
            for line in edges[(a, b)] + edges[(b, a)]:
                print(f"      {line}")
    return 1 if internal or pairs else 0


if __name__ == "__main__":
    sys.exit(main())

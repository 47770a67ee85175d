"""The import contracts (.importlinter) hold; a lower domain calling a higher one breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / ".importlinter")],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_hold() -> None:
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_conversations_calling_routing_breaks_them(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "rolodex", src / "rolodex", ignore=shutil.ignore_patterns("*.pyc")
    )
    service = src / "rolodex" / "conversations" / "service.py"
    service.write_text(service.read_text() + "\nfrom rolodex.routing import service\n")
    result = _lint(src)
    assert result.returncode != 0
    assert "rolodex.conversations.service -> rolodex.routing.service" in result.stdout

"""Every log line docs/operations.md's runbook quotes is one the code writes.

The runbook abridges a line with placeholders (``<cause>``, ``N``, ``A..B``, ``SYMBOL``, ``…``).
Cut at them and at ``: ``, ``(`` and ``)`` (where a line's parts are joined at run time or its
format string is wrapped), every literal piece of at least 8 characters must appear in the
source of the processes (case aside: some lines are capitalised at run time).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SECTION = re.compile(r"^## Log lines that need a look\n(.*?)^## ", re.S | re.M)
FIRST_CELL = re.compile(r"^\| (`[^|]*) \|", re.M)
QUOTED = re.compile(r"`([^`]+)`")
CUT = re.compile(
    r"<[^>]*>|…|: |\(|\)|\b(?:SYMBOL|[A-Z]\.\.[A-Z]|[A-Z]|[kn])\b|^(?:INFO|WARNING|ERROR) "
)
SHORTEST = 8


def _source() -> str:
    files = [
        p for d in ("collector", "writer", "query", "shared") for p in (ROOT / d).rglob("*.py")
    ]
    return "\n".join(p.read_text() for p in files).lower()


def _quoted_lines() -> list[str]:
    section = SECTION.search((ROOT / "docs" / "operations.md").read_text())
    assert section, "docs/operations.md has no 'Log lines that need a look' section"
    lines = []
    for cell in FIRST_CELL.findall(section.group(1)):
        lines.extend(QUOTED.findall(cell))
    return lines


def test_the_runbook_quotes_lines_the_code_writes() -> None:
    source = _source()
    lines = _quoted_lines()
    assert len(lines) >= 25
    missing = [
        (line, piece)
        for line in lines
        for piece in CUT.split(line)
        if len(piece.strip()) >= SHORTEST and piece.strip().lower() not in source
    ]
    assert missing == []

"""The ``# E: <code>: <text>`` marks both expected-error suites (mypy, pyright) read."""

from __future__ import annotations

import re
from pathlib import Path

MARK = re.compile(r"#\s*E:\s*([A-Za-z-]+):\s*(.+?)\s*$")

Marks = dict[tuple[str, int], tuple[str, str]]
"""(file name, line) -> (error code or rule, text the message must contain)."""


def expected_marks(folder: Path) -> Marks:
    marks: Marks = {}
    for path in sorted(folder.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            found = MARK.search(line)
            if found:
                marks[(path.name, number)] = (found.group(1), found.group(2))
    return marks

"""The ``# E:`` marks of the typing probe, read by both checkers' suites.

A program in ``tests/typing/probe/`` is a small user program. One without a mark
must pass mypy --strict and basedpyright strict; a marked line must be an error
under each checker the mark names::

    # E: <mypy code>: <text in mypy's message> ## <pyright rule>[: <text in pyright's message>]

``-`` in place of a side means that checker lets the line through (mypy does not
check reads of ``NotRequired`` keys, for one). Any error on an unmarked line, or
from a checker a mark does not name, fails the suite.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

PROBE = Path(__file__).parent / "probe"
MARK = re.compile(r"#\s*E:\s*(?P<mypy>-|[a-z-]+:\s*.+?)\s+##\s+(?P<pyright>-|report\w+(?::\s*.+?)?)\s*$")


class Expected(NamedTuple):
    code: str
    text: str  # "" when any message with the code will do


Marks = dict[tuple[str, int], Expected]
"""(file name, line) -> what the checker must report there."""


def _side(spec: str) -> Expected | None:
    if spec == "-":
        return None
    code, _, text = spec.partition(":")
    return Expected(code.strip(), text.strip())


def expected_marks(checker: str) -> Marks:
    """The marks for ``checker`` ("mypy" or "pyright")."""
    marks: Marks = {}
    for path in probe_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            found = MARK.search(line)
            if found:
                expected = _side(found.group(checker))
                if expected is not None:
                    marks[(path.name, number)] = expected
    return marks


def probe_files() -> list[Path]:
    return sorted(PROBE.glob("*.py"))


def check_reports(marks: Marks, errors: dict[tuple[str, int], list[tuple[str, str]]]) -> list[str]:
    """Every way ``errors`` differ from ``marks``: a mark without its error, or an error on an unmarked line."""
    problems: list[str] = []
    for location, (code, text) in sorted(marks.items()):
        reported = errors.get(location, [])
        if not any(c == code and text in message for c, message in reported):
            problems.append(f"{location[0]}:{location[1]}: expected [{code}] {text!r}, got {reported}")
    for location, reported in sorted(errors.items()):
        if location not in marks:
            problems.append(f"{location[0]}:{location[1]}: unexpected {reported}")
    return problems

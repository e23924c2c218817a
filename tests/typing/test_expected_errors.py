"""mypy --strict over the typing probe (tests/typing/probe/), in one run, matched line by line with the marks.

A loosened type (an error that goes missing) or a new error both fail this test;
see ``marks.py`` for the mark syntax.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

from tests.typing.marks import check_reports, expected_marks, probe_files

ROOT = Path(__file__).resolve().parents[2]
ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*)  \[(?P<code>[a-z-]+)\]$")

Errors = dict[tuple[str, int], list[tuple[str, str]]]


@pytest.fixture(scope="module")
def mypy_errors() -> Errors:
    files = [str(path) for path in probe_files()]
    stdout, stderr, _ = api.run(["--config-file", str(ROOT / "mypy.ini"), "--no-error-summary", *files])
    assert not stderr, stderr
    errors: Errors = {}
    for line in stdout.splitlines():
        found = ERROR.match(line)
        if found:
            key = (Path(found.group("file")).name, int(found.group("line")))
            errors.setdefault(key, []).append((found.group("code"), found.group("message")))
    return errors


def test_mypy_reports_exactly_the_marked_mistakes(mypy_errors: Errors) -> None:
    problems = check_reports(expected_marks("mypy"), mypy_errors)
    assert not problems, "\n".join(problems)


def test_the_probe_is_large_enough() -> None:
    marks = expected_marks("mypy")
    both = set(marks) & set(expected_marks("pyright"))
    clean = [path for path in probe_files() if not any(name == path.name for name, _ in marks)]
    assert len(clean) >= 15 and len({name for name, _ in both}) >= 25, (len(clean), len(both))

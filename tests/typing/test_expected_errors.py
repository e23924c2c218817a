"""Run mypy over tests/typing/fail/ and match its errors line by line with the ``# E:`` marks.

A mark is ``# E: <error code>: <text the message must contain>``. A loosened type
(an error that goes missing) or a new error both fail this test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.typing.marks import Marks
from tests.typing.marks import expected_marks as read_marks
from mypy import api

FAIL_DIR = Path(__file__).parent / "fail"
ROOT = Path(__file__).resolve().parents[2]
ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*)  \[(?P<code>[a-z-]+)\]$")


def expected_marks() -> Marks:
    return read_marks(FAIL_DIR)


@pytest.fixture(scope="module")
def mypy_errors() -> dict[tuple[str, int], list[tuple[str, str]]]:
    files = [str(path) for path in sorted(FAIL_DIR.glob("*.py"))]
    stdout, stderr, _ = api.run(["--config-file", str(ROOT / "mypy.ini"), "--no-error-summary", *files])
    errors: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for line in stdout.splitlines():
        found = ERROR.match(line)
        if found:
            key = (Path(found.group("file")).name, int(found.group("line")))
            errors.setdefault(key, []).append((found.group("code"), found.group("message")))
    assert not stderr, stderr
    return errors


@pytest.mark.parametrize("location", sorted(expected_marks()), ids=lambda loc: f"{loc[0]}:{loc[1]}")
def test_expected_error_is_reported(location: tuple[str, int], mypy_errors: dict[tuple[str, int], list[tuple[str, str]]]) -> None:
    code, text = expected_marks()[location]
    reported = mypy_errors.get(location, [])
    assert any(c == code and text in m for c, m in reported), f"expected [{code}] containing {text!r}, got {reported}"


def test_no_unexpected_errors(mypy_errors: dict[tuple[str, int], list[tuple[str, str]]]) -> None:
    unexpected = {loc: errs for loc, errs in mypy_errors.items() if loc not in expected_marks()}
    assert not unexpected, unexpected

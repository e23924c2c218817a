"""Run basedpyright over tests/typing/pyright_fail/ and match its errors line by line with the ``# E:`` marks.

A mark is ``# E: <pyright rule>: <text the message must contain>``. These are the
errors mypy lets through (reads of ``NotRequired`` keys) that editor users see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.typing.marks import Marks
from tests.typing.marks import expected_marks as read_marks

FAIL_DIR = Path(__file__).parent / "pyright_fail"
ROOT = Path(__file__).resolve().parents[2]
BASEDPYRIGHT = Path(sys.executable).with_name("basedpyright")

Errors = dict[tuple[str, int], list[tuple[str, str]]]


def expected_marks() -> Marks:
    return read_marks(FAIL_DIR)


@pytest.fixture(scope="module")
def pyright_errors() -> Errors:
    files = [str(path) for path in sorted(FAIL_DIR.glob("*.py"))]
    result = subprocess.run(
        [str(BASEDPYRIGHT), "--outputjson", "-p", str(FAIL_DIR / "pyrightconfig.json")],  # the root config, these files included
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["summary"]["filesAnalyzed"] == len(files), report["summary"]
    errors: Errors = {}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            key = (Path(diagnostic["file"]).name, diagnostic["range"]["start"]["line"] + 1)
            message = " ".join(diagnostic["message"].split())
            errors.setdefault(key, []).append((diagnostic.get("rule", ""), message))
    return errors


@pytest.mark.parametrize("location", sorted(expected_marks()), ids=lambda loc: f"{loc[0]}:{loc[1]}")
def test_expected_error_is_reported(location: tuple[str, int], pyright_errors: Errors) -> None:
    rule, text = expected_marks()[location]
    reported = pyright_errors.get(location, [])
    assert any(r == rule and text in m for r, m in reported), f"expected [{rule}] containing {text!r}, got {reported}"


def test_no_unexpected_errors(pyright_errors: Errors) -> None:
    unexpected = {loc: errs for loc, errs in pyright_errors.items() if loc not in expected_marks()}
    assert not unexpected, unexpected

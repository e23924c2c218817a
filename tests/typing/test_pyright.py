"""basedpyright (strict) over the typing probe (tests/typing/probe/), in one run, matched line by line with the marks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.typing.marks import PROBE, check_reports, expected_marks, probe_files

ROOT = Path(__file__).resolve().parents[2]
BASEDPYRIGHT = Path(sys.executable).with_name("basedpyright")

Errors = dict[tuple[str, int], list[tuple[str, str]]]


@pytest.fixture(scope="module")
def pyright_errors() -> Errors:
    result = subprocess.run(
        [str(BASEDPYRIGHT), "--outputjson", "-p", str(PROBE / "pyrightconfig.json")],  # the root config, the probe included
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    assert report["summary"]["filesAnalyzed"] == len(probe_files()), report["summary"]
    errors: Errors = {}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            key = (Path(diagnostic["file"]).name, diagnostic["range"]["start"]["line"] + 1)
            message = " ".join(diagnostic["message"].split())
            errors.setdefault(key, []).append((diagnostic.get("rule", ""), message))
    return errors


def test_pyright_reports_exactly_the_marked_mistakes(pyright_errors: Errors) -> None:
    problems = check_reports(expected_marks("pyright"), pyright_errors)
    assert not problems, "\n".join(problems)

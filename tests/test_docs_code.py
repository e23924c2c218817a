"""Every ```python block in README.md and docs/*.md runs, and passes ``mypy --strict``.

Each block is written to a file of its own. All of them run in one interpreter (each in a fresh
namespace; every ``test_*`` function a block defines is called too), bounded in time, and one mypy
run checks them all. A failure names the Markdown file and the line of the block.

A block is whole by default: write its imports. The line right before the opening fence may hold one
marker (an HTML comment, invisible on GitHub):

    <!-- docs-test: continues -->   the block goes on from the previous block of the file (shares its names)
    <!-- docs-test: no-run -->      type-checked, not run (it serves, or needs a service)
    <!-- docs-test: skip -->        neither (an illustration of a mistake, or a file of a project not here)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import ROOT

SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!--\s*docs-test:\s*(continues|no-run|skip)\b.*-->")
FENCE = re.compile(r"^\s*```python\s*$")  # indented too: blocks inside list items


@dataclass(frozen=True)
class Block:
    source: Path
    line: int  # of the opening fence, 1-based
    code: str
    run: bool

    @property
    def name(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line}"

    @property
    def module(self) -> str:
        return re.sub(r"\W", "_", f"docblock_{self.source.stem}_{self.line}")


def extract(source: Path) -> list[Block]:
    lines = source.read_text().splitlines()
    blocks: list[Block] = []
    previous = ""
    index = 0
    while index < len(lines):
        if not FENCE.match(lines[index]):
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].lstrip().startswith("```"))
        marker = MARKER.search(lines[index - 1]) if index else None
        kind = marker.group(1) if marker else None
        code = textwrap.dedent("\n".join(lines[index + 1 : end])) + "\n"
        if kind == "continues":
            code = previous + code
        if kind != "skip":
            blocks.append(Block(source, index + 1, code, run=kind != "no-run"))
        previous = code
        index = end + 1
    return blocks


BLOCKS = [block for source in SOURCES for block in extract(source)]

RUNNER = """
import json, runpy, sys, traceback
results = {}
for path in sys.argv[1:]:
    try:
        namespace = runpy.run_path(path, run_name="__docblock__")
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value):
                value()
        results[path] = None
    except BaseException:
        results[path] = traceback.format_exc(limit=-3)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("docblocks")
    paths: dict[str, Path] = {}
    for block in BLOCKS:
        path = folder / f"{block.module}.py"
        path.write_text(block.code)
        paths[block.name] = path
    return paths


@pytest.fixture(scope="module")
def run_results(written: dict[str, Path]) -> dict[str, str | None]:
    runnable = [str(written[block.name]) for block in BLOCKS if block.run]
    env = dict(os.environ, TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *runnable], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, str | None] = json.loads(done.stdout.splitlines()[-1])
    return results


@pytest.fixture(scope="module")
def mypy_errors(written: dict[str, Path]) -> dict[str, list[str]]:
    """One ``mypy --strict`` run over every block; its errors by block file."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--strict", "--no-error-summary",
         *map(str, written.values())],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    errors: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        path, _, rest = line.partition(":")
        if ": error:" in rest or ": note:" in rest:
            errors.setdefault(path, []).append(f"{Path(path).name}:{rest}")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return errors


def test_blocks_are_found() -> None:
    assert len(BLOCKS) >= 5
    assert all(block.code.strip() for block in BLOCKS)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.run], ids=lambda block: block.name)
def test_block_runs(block: Block, written: dict[str, Path], run_results: dict[str, str | None]) -> None:
    error = run_results[str(written[block.name])]
    assert error is None, f"{block.name} fails when run:\n{error}"


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.name)
def test_block_passes_mypy_strict(block: Block, written: dict[str, Path], mypy_errors: dict[str, list[str]]) -> None:
    path = str(written[block.name])
    errors = [line for key, lines in mypy_errors.items() if key in (path, os.path.relpath(path, ROOT)) for line in lines]
    assert not [e for e in errors if ": error:" in e], f"{block.name} fails mypy --strict:\n" + "\n".join(errors)

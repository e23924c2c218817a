"""Starlette's own test suite, run against typedasgi: ``python3 dev.py compat``.

typedasgi promises that ``sed s/starlette/typedasgi/g`` is the whole migration
of a Starlette app. This command checks the promise the hard way: it downloads
the newest Starlette source distribution from the package index (it ships its
tests), copies the tests into a temporary folder (never into the repository),
applies that same textual rename, and runs them module by module, asyncio only,
each module in its own pytest process with a time limit.

The pass rate's denominator is the number of tests each module has when it is
collected against Starlette itself (the sdist's own package, in a second copy),
so a module that does not even import on typedasgi counts all its tests as
not passed instead of as one error.

Not part of ``dev.py check``: it needs the package index.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# What Starlette's tests import besides Starlette itself (pip name, import name).
# trio is left out on purpose: only the asyncio variants run.
TEST_REQUIREMENTS: tuple[tuple[str, str], ...] = (
    ("pytest", "pytest"),
    ("anyio", "anyio"),
    ("sniffio", "sniffio"),
    ("httpx", "httpx"),
    ("httpx2", "httpx2"),
    ("backports.zstd", "backports.zstd"),  # httpx2[zstd] below Python 3.14: Starlette's tests expect zstd offered
    ("itsdangerous", "itsdangerous"),
    ("jinja2", "jinja2"),
    ("python-multipart", "python_multipart"),
    ("pyyaml", "yaml"),
    ("opentelemetry-api", "opentelemetry.trace"),
    ("opentelemetry-sdk", "opentelemetry.sdk"),
)

# Tests that are about something other than the public behaviour of the
# toolkit. Node-id prefixes (pytest's --deselect), each with its reason.
DESELECTED: tuple[tuple[str, str], ...] = (
    ("tests/test__utils.py", "Starlette-private helpers (starlette._utils), not part of the public API"),
    (
        "tests/test_exceptions.py::test_http_exception_does_not_use_threadpool",
        "patches the Starlette-private starlette._exception_handler module",
    ),
    (
        "tests/test_responses.py::test_file_response_stops_on_disconnect",
        "asserts one file opened through a patched anyio.open_file, which typedasgi does not use (the pool reads "
        "files); the behaviour itself (stop on http.disconnect, file closed, then the background task) is tested "
        "in tests/test_file_disconnect.py",
    ),
    (
        "tests/test_responses.py::test_file_response_closes_on_cancellation",
        "asserts one file opened through a patched anyio.open_file, which typedasgi does not use; the file closed "
        "on cancellation, without the background task, is tested in tests/test_file_disconnect.py",
    ),
    (
        "tests/test_responses.py::test_file_response_closes_on_send_error",
        "counts files through a patched anyio.open_file, and expects the OSError from send to propagate: typedasgi "
        "stops quietly and runs the background task (README: FileResponse whose client left)",
    ),
    (
        "tests/test_testclient.py::test_use_testclient_as_contextmanager",
        "compares anyio RunVar identities of the per-request portals Starlette's client opens; "
        "typedasgi's client keeps one asyncio loop",
    ),
)

# The rename, as a user's sed would do it: `starlette` -> `typedasgi`,
# in every test module and in the pytest configuration.
RENAMES: tuple[tuple[str, str], ...] = (("starlette", "typedasgi"),)

# Only what is strictly needed on top of the rename, per file.
PATCHES: dict[str, tuple[tuple[str, str], ...]] = {
    # Imported at module level for a trio-only branch; trio is not installed
    # because trio variants are not run. The annotation is a string
    # (`from __future__ import annotations`), so nothing else needs trio.
    "tests/test_testclient.py": (("import trio.lowlevel\n", "trio = None  # compat: asyncio only\n"),),
    # A Starlette-private name, used only in an annotation (not evaluated: `from __future__ import annotations`).
    "tests/middleware/test_base.py": (
        (
            "from typedasgi.middleware import Middleware, _MiddlewareFactory\n",
            "from typedasgi.middleware import Middleware\n"
            "from typedasgi.types import MiddlewareFactory as _MiddlewareFactory  # compat: private name\n",
        ),
    ),
}

SUMMARY_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|deselected|xfailed|xpassed)\b")
FAILURE_LINE = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$")
COLLECTED_ITEM = re.compile(r"^(tests/\S+\.py)::")


@dataclass
class ModuleResult:
    """One test module's counts, as pytest's closing line says them."""

    module: str
    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    deselected: int = 0
    xfailed: int = 0
    xpassed: int = 0
    seconds: float = 0.0
    note: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def not_run(self) -> int:
        ran = self.passed + self.failed + self.errors + self.skipped + self.xfailed + self.xpassed
        return max(self.total - ran, 0)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_requirements() -> None:
    """pip-install into this interpreter what Starlette's tests import and is missing."""
    missing: list[str] = []
    for pip_name, module in TEST_REQUIREMENTS:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(pip_name)
    if missing:
        _log(f"+ pip install {' '.join(missing)}")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", *missing], check=True
        )


def download_sdist(dest: Path, name: str, version: str | None) -> Path:
    """The source distribution of ``name`` (newest unless ``version``), downloaded into ``dest``.

    Only this package is taken as source: its build backend may come as a wheel.
    """
    requirement = f"{name}=={version}" if version else name
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps"]
    cmd += ["--no-binary", name, "-d", str(dest), requirement]
    _log("+ " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    (archive,) = [p for p in dest.iterdir() if p.name.endswith((".tar.gz", ".zip"))]
    return archive


def extract(archive: Path, dest: Path) -> Path:
    """The sdist's top folder (package, tests, pyproject), extracted under ``dest``."""
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(dest)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    (top,) = [p for p in dest.iterdir() if p.is_dir()]
    return top


def rename(text: str) -> str:
    for old, new in RENAMES:
        text = text.replace(old, new)
    return text


def patch_tree(root: Path, *, renamed: bool) -> None:
    """Apply the per-file patches, and the rename too when ``renamed``."""
    files = [root / "pyproject.toml", *sorted((root / "tests").rglob("*.py"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        new = rename(text) if renamed else text
        for old, replacement in PATCHES.get(path.relative_to(root).as_posix(), ()):
            new = new.replace(old, replacement)
        if new != text:
            path.write_text(new, encoding="utf-8")


def prepare(workdir: Path, version: str | None) -> tuple[Path, Path, str]:
    """Two copies of the sdist: Starlette's own (to count tests) and the renamed one (to run them)."""
    archive = download_sdist(workdir / "download", "starlette", version)
    original = extract(archive, workdir / "original")
    renamed = extract(archive, workdir / "renamed")
    shutil.rmtree(renamed / "starlette")  # the renamed tests must import typedasgi, nothing else
    patch_tree(original, renamed=False)
    patch_tree(renamed, renamed=True)
    return original, renamed, archive.name.removesuffix(".tar.gz")


def test_modules(root: Path) -> list[str]:
    """Every test module of the suite, less the ones deselected whole."""
    whole = {node for node, _reason in DESELECTED if "::" not in node}
    found = (p.relative_to(root).as_posix() for p in (root / "tests").rglob("test_*.py"))
    return sorted(m for m in found if m not in whole)


def pytest_args(targets: Iterable[str]) -> list[str]:
    # --tb=native: pytest's own traceback rendering re-parses sources and can crash the whole
    # run (CPython 3.11's "AST constructor recursion depth mismatch") after a deep recursion.
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE", "--no-header", "--tb=native"]
    args += ["-k", "not trio"]
    for node, _reason in DESELECTED:
        args += ["--deselect", node]
    return [*args, *targets]


def _environment() -> dict[str, str]:
    # A Starlette app has no typedasgi plugins: measure the core, not what happens to be installed.
    return dict(os.environ, TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1", COLUMNS="300")


def count_tests(original: Path, modules: Sequence[str]) -> dict[str, int]:
    """How many asyncio tests each module has against Starlette itself (the denominator)."""
    out = subprocess.run(
        [*pytest_args(modules), "--collect-only"],
        cwd=original,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    counts: dict[str, int] = dict.fromkeys(modules, 0)
    for line in out.splitlines():
        match = COLLECTED_ITEM.match(line)
        if match and match.group(1) in counts:
            counts[match.group(1)] += 1
    return counts


def run_module(renamed: Path, module: str, total: int, timeout: float) -> ModuleResult:
    """One module in its own pytest process, bounded by ``timeout`` seconds."""
    result = ModuleResult(module, total=total)
    started = time.monotonic()
    proc = subprocess.Popen(
        pytest_args([module]),
        cwd=renamed,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        result.note = f"timed out after {timeout:g}s"
    result.seconds = time.monotonic() - started
    lines = out.splitlines()
    for line in lines:
        failure = FAILURE_LINE.match(line)
        if failure:
            result.failures.append(f"{failure.group(1)} {failure.group(2)} - {failure.group(3) or ''}".rstrip(" -"))
    closing = next((line for line in reversed(lines) if SUMMARY_COUNT.search(line)), "")
    for number, word in SUMMARY_COUNT.findall(closing):
        key = "errors" if word.startswith("error") else word
        setattr(result, key, int(number))
    if any("during collection" in line for line in lines):
        result.note = result.note or "does not import: " + _first_error(lines)
        result.errors = 0
    elif not closing and not result.note:
        result.note = "pytest did not run: " + _first_error(lines)
    return result


def _first_error(lines: Sequence[str]) -> str:
    """The most telling line of a run that never got to its tests."""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("E   ", "ERROR:")) or re.match(r"^\w+(Error|Exception): ", stripped):
            return stripped.removeprefix("E   ").strip()[:160]
    return next((line.strip() for line in reversed(lines) if line.strip()), "no output")[:160]


def table(results: Sequence[ModuleResult], title: str) -> str:
    header = ("module", "tests", "passed", "failed", "errors", "not run", "skipped", "deselected", "seconds", "note")
    rows = [
        (
            r.module,
            str(r.total),
            str(r.passed + r.xfailed),
            str(r.failed + r.xpassed),
            str(r.errors),
            str(r.not_run),
            str(r.skipped),
            str(r.deselected),
            f"{r.seconds:.1f}",
            r.note,
        )
        for r in results
    ]
    total = sum(r.total for r in results)
    passed = sum(r.passed + r.xfailed for r in results)
    rows.append(
        (
            "TOTAL",
            str(total),
            str(passed),
            str(sum(r.failed + r.xpassed for r in results)),
            str(sum(r.errors for r in results)),
            str(sum(r.not_run for r in results)),
            str(sum(r.skipped for r in results)),
            str(sum(r.deselected for r in results)),
            f"{sum(r.seconds for r in results):.1f}",
            "",
        )
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    last = len(header) - 1
    lines = [title, ""]
    for row in [header, *rows]:
        cells = [cell.ljust(widths[i]) if i in (0, last) else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    rate = 100.0 * passed / total if total else 0.0
    lines += ["", f"pass rate: {passed}/{total} = {rate:.1f}% of Starlette's asyncio tests"]
    lines += ["deselected on purpose:"] + [f"  {node}: {reason}" for node, reason in DESELECTED]
    return "\n".join(lines)


def failures_text(results: Sequence[ModuleResult]) -> str:
    return "\n".join(line for r in results for line in (r.failures or ([f"MODULE {r.module}: {r.note}"] if r.note else [])))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dev.py compat", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("modules", nargs="*", help="only these test modules, e.g. tests/test_routing.py")
    parser.add_argument("--starlette-version", help="a Starlette release other than the newest")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per test module (default 180)")
    parser.add_argument("--failures", action="store_true", help="also list every failing test with its reason")
    parser.add_argument("--output", type=Path, help="also write the table (and failures) to this file")
    args = parser.parse_args(argv)

    ensure_requirements()
    with tempfile.TemporaryDirectory(prefix="typedasgi-compat-") as tmp:
        original, renamed, release = prepare(Path(tmp), args.starlette_version)
        modules = [m if m.startswith("tests/") else f"tests/{m}" for m in args.modules] or test_modules(renamed)
        totals = count_tests(original, modules)
        results: list[ModuleResult] = []
        for module in modules:
            _log(f"running {module}")
            results.append(run_module(renamed, module, totals.get(module, 0), args.timeout))
    report = table(results, f"{release} test suite on typedasgi (asyncio, `starlette` renamed to `typedasgi`)")
    print(report)
    details = failures_text(results)
    if args.failures and details:
        print("\n" + details)
    if args.output:
        args.output.write_text(report + "\n\n" + details + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

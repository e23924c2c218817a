"""The Quick start commands: ``python3 dev.py serve`` and ``python3 dev.py check``.

Needs nothing but Python 3.11: it makes ``.venv``, installs typedasgi with its
``dev`` extra and every first-party plugin (again only when a pyproject
changed), then serves the example app or runs the whole check. ``bench`` and
``compat`` (Starlette's own test suite; ``compat --third-party``, third-party
Starlette packages' suites; both need the package index) are run by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".typedasgi-installed"


def _plugin_dirs() -> list[Path]:
    return sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in [ROOT / "pyproject.toml", *(d / "pyproject.toml" for d in _plugin_dirs())]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def apt_install(binary: str, package: str) -> None:
    """Install the Debian ``package`` providing ``binary`` when it is missing and we may (root with apt-get).

    Tests that need the real thing (redis-server, chromium) use it from PATH;
    without root or apt-get this only says what is missing.
    """
    if shutil.which(binary) is not None:
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(f"dev.py: {binary} is missing; install the Debian package {package!r}", file=sys.stderr)
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for args in (["apt-get", "update"], ["apt-get", "install", "-y", "-o", "DPkg::Lock::Timeout=600", package]):
        print("+", " ".join(args), flush=True)
        subprocess.run(args, cwd=ROOT, env=env, check=True)


def system_packages() -> None:
    """The real services the tests start themselves."""
    apt_install("redis-server", "redis-server")
    apt_install("chromium", "chromium")  # the /docs page is tested in a real headless browser
    apt_install("openssl", "openssl")  # self-signed certificates for the TLS test


def setup() -> None:
    """Create the virtual environment and install everything once."""
    system_packages()
    if not (BIN / "python").exists():
        _run(sys.executable, "-m", "venv", VENV)
    fingerprint = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    pip: list[str | Path] = [BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    _run(*pip, "-e", ".[dev]")
    plugin_args: list[str | Path] = []
    for plugin in _plugin_dirs():
        plugin_args += ["-e", plugin]
    if plugin_args:
        _run(*pip, *plugin_args)
    STAMP.write_text(fingerprint)


def check() -> int:
    """mypy --strict over the whole tree, basedpyright over src and the typing tests (and
    ``--verifytypes`` on the package), then pytest."""
    setup()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    steps: list[list[str | Path]] = [
        [BIN / "mypy"],
        [BIN / "basedpyright", "-p", "pyrightconfig.json"],
        [BIN / "python", "-m", "pytest"],
    ]
    for step in steps:
        if step[0] == BIN / "basedpyright" and not (ROOT / "pyrightconfig.json").exists():
            continue
        print("+", " ".join(str(a) for a in step), flush=True)
        code = subprocess.run([str(a) for a in step], cwd=ROOT, env=env).returncode
        if code != 0:
            return code
        if step[0] == BIN / "basedpyright":
            code = verify_types()
            if code != 0:
                return code
    return 0


def verify_types() -> int:
    """``basedpyright --verifytypes``: every public symbol's type is declared (100 % completeness).

    It runs on a copy of the package as a wheel installs it (the source tree and
    ``py.typed``), not on the editable install, which checkers read as source.
    """
    with tempfile.TemporaryDirectory(prefix="typedasgi-verifytypes-") as copy:
        shutil.copytree(ROOT / "src" / "typedasgi", Path(copy) / "typedasgi", ignore=shutil.ignore_patterns("__pycache__"))
        # The venv's python on PATH is how basedpyright finds the dependencies (msgspec, httpx2, ...).
        env = dict(os.environ, PYTHONPATH=copy, VIRTUAL_ENV=str(VENV), PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
        cmd = [str(BIN / "basedpyright"), "--verifytypes", "typedasgi", "--ignoreexternal", "--outputjson"]
        print("+", " ".join(cmd), flush=True)
        result = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True)
        try:
            score = json.loads(result.stdout)["typeCompleteness"]["completenessScore"]
        except (ValueError, KeyError):
            print(result.stdout, result.stderr, file=sys.stderr)
            return 1
        if score < 1:
            subprocess.run(cmd[:-1], cwd=copy, env=env)  # the readable report: what lacks a declared type
            print(f"Type completeness {score:.1%}, not 100 %", file=sys.stderr)
            return 1
    return 0


def serve(options: list[str]) -> int:
    """Serve examples/hello.py on http://127.0.0.1:8000 until Ctrl-C or SIGTERM (options go to ``typedasgi run``).

    SIGTERM is passed on to the server, so a supervisor stopping this script stops the server
    gracefully instead of leaving it running; Ctrl-C reaches both, and this script waits for it.
    """
    setup()
    cmd = [str(BIN / "typedasgi"), "run", "examples.hello:app", "--host", "127.0.0.1", "--port", "8000", *options]
    print("+", " ".join(cmd), flush=True)
    server = subprocess.Popen(cmd, cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda signum, frame: server.send_signal(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: None)  # the server got it too: wait for it to stop
    code = server.wait()
    # uvicorn shuts down gracefully, then ends itself by the signal it caught: stopped as asked
    return 0 if code in (-signal.SIGTERM, -signal.SIGINT) else code


def bench() -> int:
    """The in-process benchmark beside raw ASGI and the peers (installs the ``bench`` extra)."""
    setup()
    _run(BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", ".[bench]")
    return subprocess.run([str(BIN / "python"), "-m", "bench.run", *sys.argv[2:]], cwd=ROOT).returncode


def compat() -> int:
    """Starlette's own test suite, downloaded from the package index, run against typedasgi (compat/run.py);
    with ``--third-party [names]``, third-party Starlette packages' own suites (compat/thirdparty.py)."""
    setup()
    args = sys.argv[2:]
    module = "compat.thirdparty" if "--third-party" in args else "compat.run"
    args = [a for a in args if a != "--third-party"]
    return subprocess.run([str(BIN / "python"), "-m", module, *args], cwd=ROOT).returncode


def setup_command() -> int:
    setup()
    return 0


def main() -> int:
    commands = {
        "setup": setup_command,
        "check": check,
        "serve": lambda: serve(sys.argv[2:]),
        "bench": bench,
        "compat": compat,
    }
    with_options = ("serve", "bench", "compat")
    if len(sys.argv) < 2 or sys.argv[1] not in commands or (len(sys.argv) > 2 and sys.argv[1] not in with_options):
        print(
            "usage: python3 dev.py serve|check|setup|bench|compat [typedasgi run, bench or compat options]",
            file=sys.stderr,
        )
        return 2
    return commands[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())

"""``typedasgi run`` bounds the app's lifespan shut-down (typedasgi.server_lifespan), through a real server.

uvicorn waits for it for ever: an app whose shut-down never finishes kept the process alive after
SIGTERM (a second Ctrl-C does not end it either) until a service manager killed it, with nothing in the
log to say why. Past ``--timeout-lifespan-shutdown`` the server logs one line naming the bound and exits
with status 124; a shut-down within it stops as before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import ROOT
from typedasgi.server_limits import LIFESPAN_SHUTDOWN_TIMEOUT_ENV, SHUTDOWN_TIMED_OUT

APP = '''
import asyncio
import contextlib
import time

from typedasgi.applications import TypedASGI


@contextlib.asynccontextmanager
async def awaiting_for_ever(app):
    yield
    await asyncio.Event().wait()  # a connection pool's close() waiting on a peer that never answers


@contextlib.asynccontextmanager
async def blocking_the_loop(app):
    yield
    time.sleep(3600)  # a synchronous call that never returns: no event-loop timer can fire


@contextlib.asynccontextmanager
async def quick(app):
    yield
    await asyncio.sleep(0.2)
    print("app: shut down", flush=True)


awaits = TypedASGI(lifespan=awaiting_for_ever)
blocks = TypedASGI(lifespan=blocking_the_loop)
stops = TypedASGI(lifespan=quick)
'''

GAVE_UP = "Application shutdown did not finish within 1 s (--timeout-lifespan-shutdown): exiting with status 124."
WAIT = 20.0  # the most any one wait below takes


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "shutdownapp.py").write_text(APP)
    return tmp_path


@contextmanager
def started(app_dir: Path, app: str, *args: str, env: dict[str, str] | None = None) -> Generator[subprocess.Popen[bytes]]:
    """``typedasgi run shutdownapp:APP`` once every process of it has started; killed if a test leaves it running."""
    log_path = app_dir / "server.log"
    workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
    command = [sys.executable, "-m", "typedasgi", "run", f"shutdownapp:{app}", "--port", "0", "--app-dir", str(app_dir)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, *args], cwd=ROOT, env=dict(os.environ, **(env or {})), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WAIT
        while log_path.read_text().count("Application startup complete") < workers:
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def stop(process: subprocess.Popen[bytes], app_dir: Path, sig: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
    """Signal the server as a service manager would; its exit status and log once it has exited."""
    process.send_signal(sig)
    try:
        code = process.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        code = None  # still running: the failure the bound exists for
    return code if code is not None else -999, (app_dir / "server.log").read_text()


@pytest.mark.parametrize(
    ("app", "args", "env"),
    [
        ("awaits", ("--timeout-lifespan-shutdown", "1"), {}),
        ("blocks", ("--timeout-lifespan-shutdown", "1"), {}),
        ("awaits", (), {LIFESPAN_SHUTDOWN_TIMEOUT_ENV: "1"}),
        ("awaits", ("--timeout-lifespan-shutdown", "1", "--workers", "2"), {}),
        ("awaits", ("--timeout-lifespan-shutdown", "1", "--reload"), {}),
    ],
    ids=["awaiting", "blocking the loop", "bound from the environment", "workers", "reload"],
)
def test_a_hanging_shutdown_ends_the_server_past_its_bound(
    app_dir: Path, app: str, args: tuple[str, ...], env: dict[str, str]
) -> None:
    with started(app_dir, app, *args, env=env) as process:
        code, log = stop(process, app_dir)
    assert code == SHUTDOWN_TIMED_OUT, log
    assert 1 <= log.count(GAVE_UP) <= log.count("Application startup complete"), log  # once per process


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 0)])
def test_a_shutdown_within_the_bound_stops_as_before(app_dir: Path, sig: signal.Signals, status: int) -> None:
    """uvicorn's own ending: by the signal it caught (SIGTERM), or status 0 after Ctrl-C."""
    with started(app_dir, "stops") as process:
        code, log = stop(process, app_dir, sig)
    assert code == status, log
    assert "app: shut down" in log and "Application shutdown complete" in log and "did not finish" not in log


def test_a_malformed_bound_in_the_environment_is_refused_before_serving(app_dir: Path) -> None:
    command = [sys.executable, "-m", "typedasgi", "run", "shutdownapp:stops", "--port", "0", "--app-dir", str(app_dir)]
    env = dict(os.environ, **{LIFESPAN_SHUTDOWN_TIMEOUT_ENV: "soon"})
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"typedasgi run: {LIFESPAN_SHUTDOWN_TIMEOUT_ENV}='soon': expected a number of seconds above 0"
    )

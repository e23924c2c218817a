"""Test support: a real uvicorn on 127.0.0.1 started and stopped by the test, plain HTTP helpers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import urllib.error

ROOT = Path(__file__).resolve().parent.parent
ServerFactory = Callable[..., "contextlib.AbstractContextManager[ServerURL]"]


class ServerURL(str):
    """The server's base URL; ``log()`` reads what the server printed so far."""

    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(
    app: str, *, args: tuple[str, ...] = (), app_dir: Path = ROOT, timeout: float = 20.0, command: str = "cli"
) -> Iterator[ServerURL]:
    """Serve ``app`` (MODULE:ATTR) with ``typedasgi run`` (or plain uvicorn); yield its base URL.

    The server runs in its own process group and is always stopped, within ``timeout``.
    """
    port = free_port()
    if command == "cli":
        cmd = [sys.executable, "-m", "typedasgi", "run", app, "--port", str(port), "--app-dir", str(app_dir)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--app-dir", str(app_dir), "--host", "127.0.0.1"]
    cmd += list(args)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log_file = tempfile.NamedTemporaryFile(prefix="typedasgi-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    base = ServerURL(f"http://127.0.0.1:{port}")
    base.log_path = Path(log_file.name)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early ({proc.returncode}):\n{base.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server did not start within {timeout}s") from None
                time.sleep(0.05)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=5)
        log_file.close()
        os.unlink(log_file.name)



def http_get(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()

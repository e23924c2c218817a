"""A real ``redis-server`` for tests: on a free 127.0.0.1 port, in a temporary directory, always stopped.

::

    with running_redis() as redis:
        broadcast = Broadcast(redis.url)
        ...
        redis.restart()        # same port: clients see Redis go away and come back

Needs the ``redis-server`` binary on PATH (Debian: ``apt-get install redis-server``).
Nothing is persisted (``--save ''``, ``--appendonly no``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator

__all__ = ["RedisServer", "free_port", "running_redis"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process; ``start``/``stop``/``restart`` keep the same port."""

    def __init__(self, directory: str, *, port: int | None = None, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: `python3 dev.py setup` installs it as root, "
                "or `apt-get install redis-server`"
            )
        self.binary = binary
        self.directory = directory
        self.port = port if port is not None else free_port()
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", self.directory, "--loglevel", "warning"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while not _answers_ping(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start ({self.process.returncode}) on port {self.port}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"redis-server did not answer on port {self.port} within {self.timeout}s")
            time.sleep(0.02)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=self.timeout)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def running_redis(*, timeout: float = 10.0) -> Generator[RedisServer, None, None]:
    """Start a ``redis-server`` for the block; it is stopped (and its directory removed) afterwards."""
    with tempfile.TemporaryDirectory(prefix="typedasgi-redis-") as directory:
        server = RedisServer(directory, timeout=timeout)
        server.start()
        try:
            yield server
        finally:
            server.stop()

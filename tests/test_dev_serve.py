"""``python3 dev.py serve`` passes SIGTERM to the server it started: stopping the script stops the server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

from tests.support import ROOT, free_port


def accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_sigterm_to_dev_py_serve_stops_the_server_gracefully() -> None:
    port = free_port()
    script = subprocess.Popen(
        [sys.executable, "dev.py", "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: the test can always clean up everything it started
    )
    try:
        deadline = time.monotonic() + 60
        while not accepting(port):
            assert script.poll() is None, "dev.py serve exited early"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        script.send_signal(signal.SIGTERM)  # to the script only, as a supervisor would
        output, _ = script.communicate(timeout=30)
        assert script.returncode == 0
        assert "Finished server process" in output  # uvicorn's graceful shut-down
        assert not accepting(port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script.pid, signal.SIGKILL)

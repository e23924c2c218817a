"""``dev.py compat --third-party``: a package that declares a Redis server gets a real one for its suite.

The suite here is a one-test stand-in run by the runner's own ``run_suite`` (a
real pytest subprocess), so what is checked is what a package's tests see: the
variable it declared, naming a redis-server on 127.0.0.1 that answers, and
gone once the run is over.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from compat.thirdparty import Package, run_suite, services

SUITE = """
import os
import socket
from urllib.parse import urlsplit


def test_redis_answers() -> None:
    url = urlsplit(os.environ["PROBE_REDIS_URL"])
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(b"PING\\r\\n")
        assert sock.recv(16) == b"+PONG\\r\\n"
"""


def test_a_declared_redis_server_runs_for_the_suite_and_is_stopped_after(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(SUITE, encoding="utf-8")
    package = Package("probe", redis_url_env="PROBE_REDIS_URL")
    with services(package) as env:
        counts, failures, note = run_suite(Path(sys.executable), tmp_path, package, 60, env)
    assert (counts, failures, note) == ({"passed": 1}, [], "")
    url = urlsplit(env["PROBE_REDIS_URL"])
    assert url.hostname == "127.0.0.1"
    assert url.port is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((url.hostname, url.port), timeout=5).close()


def test_a_package_that_declares_no_server_gets_none() -> None:
    with services(Package("plain")) as env:
        assert env == {}

"""What every hostile-input test checks afterwards, and a raw HTTP/1.1 exchange for requests no client library sends.

``nothing_leaks`` wraps one attack: afterwards the target's open file
descriptors and temporary files are back to where they were (waited for within
a bound, as a server closes sockets asynchronously), its resident memory grew
by less than a bound, and the next good request still gets ``200 ok``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from collections.abc import Callable, Iterator
from typing import TypedDict

from typedasgi.testclient import TestClient

from tests.hostile.app import open_fds, resident_kib, temp_files
from tests.support import connect, http_get

SETTLE_SECONDS = 10.0
"""How long a target may take to close what an attack opened."""
DEFAULT_RSS_GROWTH_KIB = 24 * 1024


class Stats(TypedDict):
    fds: int
    rss_kib: int
    temp_files: int


class ServerStats(Stats):
    peak_rss_kib: int


Response = tuple[int, dict[str, str], bytes]


class Target:
    """A place attacks are sent to: its stats and the good request that must still succeed."""

    def __init__(self, stats: Callable[[], Stats], good_request: Callable[[], tuple[int, bytes]]) -> None:
        self.stats = stats
        self.good_request = good_request

    @contextlib.contextmanager
    def nothing_leaks(self, rss_growth_kib: int = DEFAULT_RSS_GROWTH_KIB) -> Iterator[None]:
        before = self.stats()
        yield
        deadline = time.monotonic() + SETTLE_SECONDS
        after = self.stats()
        while (after["fds"] > before["fds"] or after["temp_files"] > before["temp_files"]) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
            after = self.stats()
        assert after["fds"] <= before["fds"], f"file descriptors leaked: {before} -> {after}"
        assert after["temp_files"] <= before["temp_files"], f"temporary files leaked: {before} -> {after}"
        growth = after["rss_kib"] - before["rss_kib"]
        assert growth <= rss_growth_kib, f"resident memory grew by {growth} KiB: {before} -> {after}"
        assert self.good_request() == (200, b"ok"), "the next good request failed"


def server_target(base: str) -> Target:
    """A served app: stats from its ``/_stats`` route, the good request over a new connection."""

    def good_request() -> tuple[int, bytes]:
        status, _, body = http_get(base + "/ok")
        return status, body

    return Target(lambda: server_stats(base), good_request)


def server_stats(base: str) -> ServerStats:
    status, _, body = http_get(base + "/_stats")
    assert status == 200, body
    result: ServerStats = json.loads(body)
    return result


def client_target(client: TestClient) -> Target:
    """The app in this process, through ``client``."""

    def stats() -> Stats:
        return {"fds": open_fds(), "rss_kib": resident_kib(), "temp_files": temp_files()}

    def good_request() -> tuple[int, bytes]:
        response = client.get("/ok")
        return response.status_code, response.content

    return Target(stats, good_request)


def raw_exchange(base: str, request: bytes, *, timeout: float = 5.0) -> Response:
    """Send ``request`` bytes as they are on a new connection; read one response (status, headers, body)."""
    with connect(base, timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (a 413) and stopped reading: its answer is still there to read
        response = http.client.HTTPResponse(sock)
        response.begin()
        try:
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            response.close()


def get_with_host(base: str, path: str, *host_lines: bytes) -> Response:
    """``GET path`` with exactly these ``Host`` header values (none, one, several, malformed)."""
    head = b"GET " + path.encode("latin-1") + b" HTTP/1.1\r\n"
    head += b"".join(b"Host: " + host + b"\r\n" for host in host_lines)
    return raw_exchange(base, head + b"Connection: close\r\n\r\n")


def same_origin(location: str, host: str) -> bool:
    """Whether a browser following ``location`` from ``host`` stays on ``host``.

    Browsers drop tab, CR and LF anywhere in a URL and controls or spaces around it,
    read ``\\`` as ``/`` in http(s) URLs and skip extra slashes after the scheme, so
    those are normalised first; a relative location must not start with ``//``
    (scheme-relative) once normalised.
    """
    dropped = location.replace("\t", "").replace("\n", "").replace("\r", "")
    normal = dropped.strip("".join(map(chr, range(33)))).replace("\\", "/")
    if normal.startswith(("http://", "https://")):
        scheme, _, rest = normal.partition("://")
        authority = rest.lstrip("/").split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        return authority == host and rest.startswith(authority)
    return normal.startswith("/") and not normal.startswith("//")

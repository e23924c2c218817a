"""Downloads abandoned mid-file, in the hostile-input suite: through a real uvicorn (ASGI spec 2.3, so only
``http.disconnect`` says the client left), the server stops reading soon after, closes the file, runs the
response's background task and serves on. Whole files, one range and ``multipart/byteranges``."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.hostile.download_app import BIG_FILE_ENV
from tests.support import ServerURL, http_get, running_server

BIG_SIZE = 32 * 1024 * 1024  # sparse: no disk used; far more than the socket buffers hold


@pytest.fixture(scope="module")
def download_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerURL]:
    path = tmp_path_factory.mktemp("downloads") / "big.bin"
    with path.open("wb") as file:
        file.truncate(BIG_SIZE)
    with pytest.MonkeyPatch.context() as env:  # read by the server process at start
        env.setenv(BIG_FILE_ENV, str(path))
        args = ("--log-level", "warning")
        with running_server("tests.hostile.download_app:app", args=args, command="uvicorn") as base:
            yield base


def read_some_then_leave(base: ServerURL, download: str, range_header: str | None) -> bytes:
    """Start a download on a raw socket, read its first 256 KiB, then close the connection."""
    port = int(base.rsplit(":", 1)[1])
    request = f"GET /big?id={download} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if range_header is not None:
        request += f"Range: {range_header}\r\n"
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall((request + "\r\n").encode())
        while len(received) < 256 * 1024:
            data = sock.recv(65536)
            assert data, "the server closed the connection first"
            received.extend(data)
    return bytes(received)


def stats(base: ServerURL, download: str) -> dict[str, int]:
    """The server's account of a download, once it finished (or after the app's 10 s bound)."""
    status, _, body = http_get(f"{base}/_file_stats?id={download}", timeout=15)
    assert status == 200
    values: dict[str, int] = json.loads(body)
    return values


@pytest.mark.parametrize("range_header", [None, "bytes=0-", "bytes=0-999,2000-"])
def test_uvicorn_download_abandoned_mid_file(download_server: ServerURL, range_header: str | None) -> None:
    download = f"abandoned-{range_header}"
    head = read_some_then_leave(download_server, download, range_header)
    assert head.startswith(b"HTTP/1.1 206" if range_header else b"HTTP/1.1 200")
    result = stats(download_server, download)  # the server serves on
    assert result["finished"] == 1, download_server.log()  # the response returned, its background ran
    assert result["open"] == 0  # the file is closed in the server process
    assert 0 < result["sent"] < BIG_SIZE // 2  # it stopped soon after the client left, not at the end of the file


def test_uvicorn_completes_a_download_that_is_read_to_the_end(download_server: ServerURL) -> None:
    status, headers, body = http_get(f"{download_server}/big?id=whole", timeout=30)
    assert status == 200
    assert len(body) == BIG_SIZE == int(headers["content-length"])
    assert stats(download_server, "whole") == {"finished": 1, "open": 0, "sent": BIG_SIZE}



"""Point 8 of the hostile-input suite: uploads go to disk past a small threshold, held to their own limits
(per file, in all, how many), not to the in-memory body limit. Through a real uvicorn."""

from __future__ import annotations

import http.client
import json
import resource
from urllib.parse import urlsplit

import pytest

from typedasgi.cli import OPEN_FILES_CEILING
from typedasgi.requests import DEFAULT_MAX_BODY_SIZE

from tests.hostile.guards import Target, server_stats
from tests.support import ServerURL, running_server

BOUNDARY = b"hostile-boundary"
MiB = 1024 * 1024


def file_part(name: str, size: int) -> tuple[bytes, int]:
    """A file part's head and its size (its content is ``size`` bytes of ``x``, streamed)."""
    head = b"--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s.bin\"\r\n" % (
        BOUNDARY, name.encode(), name.encode())
    return head + b"Content-Type: application/octet-stream\r\n\r\n", size


def upload(base: str, path: str, parts: list[tuple[bytes, int]]) -> tuple[int, bytes]:
    """POST a multipart body of ``parts``, streamed 1 MiB at a time: the client never holds it whole."""
    tail = b"--%s--\r\n" % BOUNDARY
    length = sum(len(head) + size + 2 for head, size in parts) + len(tail)
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "multipart/form-data; boundary=" + BOUNDARY.decode())
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        chunk = b"x" * MiB
        try:
            for head, size in parts:
                conn.send(head)
                for start in range(0, size, MiB):
                    conn.send(chunk[: min(MiB, size - start)])
                conn.send(b"\r\n")
            conn.send(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early (a 413): the answer is still there to read
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_100_mb_upload_succeeds_with_flat_memory(server: ServerURL, served: Target) -> None:
    """Runs first in this module, on a fresh server, so the server's peak resident memory is this upload's."""
    size = 100 * MiB
    assert size > DEFAULT_MAX_BODY_SIZE  # far past the in-memory limit, which does not apply to files
    before = server_stats(server)
    with served.nothing_leaks(rss_growth_kib=32 * 1024):
        status, body = upload(server, "/upload", [file_part("big", size)])
    assert status == 200, body
    result = json.loads(body)
    assert result["sizes"] == {"big": size}
    peak_growth_kib = result["peak_rss_kib"] - before["rss_kib"]
    assert peak_growth_kib < 32 * 1024, f"the upload raised the server's peak memory by {peak_growth_kib} KiB"


def test_many_files_each_under_the_spool_threshold_share_the_memory_limit(server: ServerURL, served: Target) -> None:
    """60 files of 900 KiB each stay under the 1 MiB a file may keep in memory: held all at once they took 53 MiB
    (1000 of them, the default max_files, 1 GiB). The form's files share the in-memory limit; the rest go to disk."""
    before = server_stats(server)
    with served.nothing_leaks(rss_growth_kib=32 * 1024):
        status, body = upload(server, "/upload", [file_part(f"f{index}", 900 * 1024) for index in range(60)])
    assert status == 200, body
    result = json.loads(body)
    assert result["sizes"] == {f"f{index}": 900 * 1024 for index in range(60)}
    peak_growth_kib = result["peak_rss_kib"] - before["rss_kib"]
    assert peak_growth_kib < 32 * 1024, f"the upload raised the server's peak memory by {peak_growth_kib} KiB"


def test_an_upload_past_the_open_files_limit_is_a_503_and_the_server_keeps_serving(
    server: ServerURL, served: Target
) -> None:
    """Each file on disk holds a descriptor until the request ends: past the process's limit the upload got a 500."""
    soft, hard = resource.prlimit(server.pid, resource.RLIMIT_NOFILE)
    tight = server_stats(server)["fds"] + 20
    try:
        with served.nothing_leaks():
            resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (tight, hard))
            status, body = upload(server, "/upload", [file_part(f"f{index}", MiB + 1) for index in range(40)])
            resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (soft, hard))
    finally:
        resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (soft, hard))
    assert status == 503 and b"cannot store this upload" in body
    assert "out of file descriptors" in server.log()


def test_typedasgi_run_lifts_the_open_files_limit_to_the_hard_one() -> None:
    """A soft limit of 1024 (a common default) is 1000 files on disk: one upload at the default max_files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = 256
    if hard != resource.RLIM_INFINITY and hard <= low:
        pytest.skip(f"the hard limit ({hard}) leaves nothing to lift")
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))  # what the server inherits
    try:
        with running_server("tests.hostile.app:app", args=("--log-level", "warning")) as base:
            lifted, _ = resource.prlimit(base.pid, resource.RLIMIT_NOFILE)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert lifted == (OPEN_FILES_CEILING if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_CEILING))


LIMITS = {
    "one file over max_file_size": ([file_part("a", MiB + 1)], 413, b"Uploaded file 'a.bin' too large"),
    "files over max_upload_size": ([file_part(name, MiB) for name in "abcd"] + [file_part("e", 10)], 413, b""),
    "more files than max_files": ([file_part(name, 10) for name in "abcd"], 400, b"Too many files"),
}


@pytest.mark.parametrize(("parts", "status", "message"), LIMITS.values(), ids=LIMITS.keys())
def test_upload_limits_refuse_and_leave_no_temporary_file(
    server: ServerURL, served: Target, parts: list[tuple[bytes, int]], status: int, message: bytes
) -> None:
    with served.nothing_leaks():
        got, body = upload(server, "/upload/small", parts)
    assert got == status and message in body


def test_uploads_within_the_limits(server: ServerURL, served: Target) -> None:
    with served.nothing_leaks():
        status, body = upload(server, "/upload/small", [file_part("a", MiB), file_part("b", 5)])
    assert status == 200 and json.loads(body)["sizes"] == {"a": MiB, "b": 5}


def test_the_body_limit_still_holds_for_json(server: ServerURL, served: Target) -> None:
    """``request.body()``/``json()`` keep the in-memory limit: the declared length is refused at once."""
    with served.nothing_leaks():
        status, body = upload(server, "/json", [file_part("big", DEFAULT_MAX_BODY_SIZE)])
    assert status == 413

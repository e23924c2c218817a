"""Point 5 of the hostile-input suite: JSON bodies too deep or too big for the decoder are a 4xx, never a 500
or a RecursionError, in ``request.json()`` and in typed handlers. Through a real uvicorn."""

from __future__ import annotations

import pytest

from typedasgi.requests import DEFAULT_MAX_BODY_SIZE

from tests.hostile.guards import Target, raw_exchange
from tests.support import ServerURL


def post(base: str, path: str, body: bytes, content_type: bytes = b"application/json") -> tuple[int, bytes]:
    head = b"POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    status, _, content = raw_exchange(base, head % (path.encode(), content_type, len(body)) + body)
    return status, content


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


HOSTILE = {
    "deep list": nested(100_000),
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "deep unclosed": b"[" * 200_000,
    "huge integer": b"1" * 100_000,
    "huge exponent": b"1e999999999",
}


@pytest.mark.parametrize("route", ["/json", "/typed"])
@pytest.mark.parametrize("document", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_json_is_a_4xx(server: ServerURL, served: Target, route: str, document: bytes) -> None:
    body = document if route == "/json" else b'{"data":' + document + b"}"
    with served.nothing_leaks():
        status, content = post(server, route, body)
    assert status in (400, 422), content[:200]
    assert b"Traceback" not in content and b"RecursionError" not in content


@pytest.mark.parametrize("route", ["/json", "/typed"])
def test_deep_but_reasonable_json_is_fine(server: ServerURL, route: str) -> None:
    document = nested(200)
    body = document if route == "/json" else b'{"data":' + document + b"}"
    status, content = post(server, route, body)
    assert (status, content) == (200, body)


def test_a_body_over_the_limit_is_a_413(server: ServerURL, served: Target) -> None:
    """Declared too big: refused before a byte of it is read."""
    head = b"POST /json HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    with served.nothing_leaks():
        status, _, content = raw_exchange(server, head % (DEFAULT_MAX_BODY_SIZE + 1))
    assert status == 413 and b"limit" in content


def test_a_body_growing_over_the_limit_is_a_413(server: ServerURL, served: Target) -> None:
    """Chunked, so the size is only known as it arrives: refused once past the limit, memory stays bounded."""
    chunk = b"x" * (1024 * 1024)
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    head = b"POST /json HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    with served.nothing_leaks(rss_growth_kib=48 * 1024):
        status, _, content = raw_exchange(server, head + framed * 20 + b"0\r\n\r\n")
    assert status == 413

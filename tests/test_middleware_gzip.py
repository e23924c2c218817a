"""GZipMiddleware: when it compresses, how it streams, what it leaves alone."""

from __future__ import annotations

import asyncio
import gzip
import threading
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTask
from typedasgi.datastructures import Headers
from typedasgi.middleware import Middleware
from typedasgi.middleware.cors import CORSMiddleware
from typedasgi.middleware.gzip import GZipMiddleware, accepts_gzip
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response, StreamingResponse
from typedasgi.routing import Route
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, HTTPScope, Receive, Scope, Send, extension_send

from tests.support import MessageCollector, body_receiver, call_app, drive, http_scope

BIG = "x" * 1000


def gzip_scope(method: str = "GET", accept_encoding: str | None = "gzip") -> HTTPScope:
    headers = {"host": "testserver"}
    if accept_encoding is not None:
        headers["accept-encoding"] = accept_encoding
    return http_scope(method, headers=headers)


def run(app: ASGIApp, scope: Scope) -> list[Any]:
    """Drive ``app`` once with plain ASGI calls; return every message it sent (as plain dicts, in order)."""
    return call_app(app, scope)


def headers_of(message: Any) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in message["headers"]}


def response_app(body: bytes, headers: dict[str, str] | None = None, status: int = 200) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Response(body, status_code=status, headers=headers, media_type="text/plain")(scope, receive, send)

    return app


def streaming_app(chunks: Sequence[bytes], media_type: str = "text/plain") -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", media_type.encode()), (b"content-length", b"999")]
        await send({"type": "http.response.start", "status": 200, "headers": headers, "trailers": False})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


# ---------------------------------------------------------------- the decision


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("*", True),
        ("br, deflate", False),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip;q=abc", False),
        ("gzipped", False),
        ("", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_large_single_body_is_compressed_with_exact_length() -> None:
    sent = run(GZipMiddleware(response_app(BIG.encode())), gzip_scope())
    start, body = sent
    headers = headers_of(start)
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body["body"]) < len(BIG)
    assert body["more_body"] is False
    assert gzip.decompress(body["body"]) == BIG.encode()


def test_small_body_passes_untouched() -> None:
    sent = run(GZipMiddleware(response_app(b"small")), gzip_scope())
    assert "content-encoding" not in headers_of(sent[0])
    assert "vary" not in headers_of(sent[0])
    assert sent[1]["body"] == b"small"


def test_minimum_size_is_configurable() -> None:
    sent = run(GZipMiddleware(response_app(b"small"), minimum_size=1), gzip_scope())
    assert headers_of(sent[0])["content-encoding"] == "gzip"
    assert gzip.decompress(sent[1]["body"]) == b"small"


@pytest.mark.parametrize("accept", [None, "br", "gzip;q=0"])
def test_client_that_does_not_accept_gzip_gets_identity(accept: str | None) -> None:
    sent = run(GZipMiddleware(response_app(BIG.encode())), gzip_scope(accept_encoding=accept))
    assert "content-encoding" not in headers_of(sent[0])
    assert headers_of(sent[0])["vary"] == "Accept-Encoding"  # a gzip client would get it compressed
    assert sent[1]["body"] == BIG.encode()


def test_identity_client_streaming_and_excluded_types() -> None:
    sent = run(GZipMiddleware(streaming_app([b"a", b"b"])), gzip_scope(accept_encoding=None))
    assert headers_of(sent[0])["vary"] == "Accept-Encoding"
    assert [m["body"] for m in sent[1:]] == [b"a", b"b", b""]
    image = run(GZipMiddleware(response_app(BIG.encode(), headers={"content-type": "image/png"})), gzip_scope(accept_encoding=None))
    assert "vary" not in headers_of(image[0])  # never compressed: nothing to vary by


def test_already_encoded_response_is_not_encoded_twice() -> None:
    app = response_app(BIG.encode(), headers={"content-encoding": "br"})
    sent = run(GZipMiddleware(app), gzip_scope())
    assert headers_of(sent[0])["content-encoding"] == "br"
    assert sent[1]["body"] == BIG.encode()


def test_partial_content_is_left_alone() -> None:
    app = response_app(BIG.encode(), headers={"content-range": "bytes 0-999/5000"}, status=206)
    sent = run(GZipMiddleware(app), gzip_scope())
    assert "content-encoding" not in headers_of(sent[0])


def test_excluded_media_type_streams_uncompressed() -> None:
    chunks = [b"data: 1\n\n" * 100, b"data: 2\n\n"]
    sent = run(GZipMiddleware(streaming_app(chunks, "text/event-stream; charset=utf-8")), gzip_scope())
    assert "content-encoding" not in headers_of(sent[0])
    assert [m["body"] for m in sent[1:-1]] == chunks


@pytest.mark.parametrize("media_type", ["image/png", "video/mp4", "application/grpc+proto", "Audio/MPEG; x=1"])
def test_compressed_formats_are_excluded_by_default(media_type: str) -> None:
    app = GZipMiddleware(response_app(BIG.encode(), headers={"content-type": media_type}))
    sent = run(app, gzip_scope())
    assert "content-encoding" not in headers_of(sent[0]) and "vary" not in headers_of(sent[0])
    assert sent[1]["body"] == BIG.encode()


def test_exclude_content_types_is_configurable() -> None:
    app = GZipMiddleware(response_app(BIG.encode()), exclude_content_types=["Text/*; charset=utf-8"])
    assert "content-encoding" not in headers_of(run(app, gzip_scope())[0])
    png = response_app(BIG.encode(), headers={"content-type": "image/png"})
    assert headers_of(run(GZipMiddleware(png, exclude_content_types=()), gzip_scope())[0])["content-encoding"] == "gzip"


@pytest.mark.parametrize("more_body", [False, True])
def test_trailers_pass_through_and_drop_content_length(more_body: bool) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": BIG.encode(), "more_body": more_body})
        if more_body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [(b"grpc-status", b"0")], "more_trailers": False})

    sent = run(GZipMiddleware(app), gzip_scope())
    headers = headers_of(sent[0])
    assert headers["content-encoding"] == "gzip" and "content-length" not in headers
    assert gzip.decompress(b"".join(m["body"] for m in sent if m["type"] == "http.response.body")) == BIG.encode()
    assert sent[-1] == {"type": "http.response.trailers", "headers": [(b"grpc-status", b"0")], "more_trailers": False}


def test_big_chunks_are_compressed_off_the_event_loop() -> None:
    threads: list[str] = []
    original = zlib.compressobj

    class Spy:
        def __init__(self) -> None:
            self._inner = original(9, zlib.DEFLATED, 31)

        def compress(self, data: bytes) -> bytes:
            threads.append(threading.current_thread().name)
            return self._inner.compress(data)

        def flush(self, mode: int = zlib.Z_FINISH) -> bytes:
            return self._inner.flush(mode)

    app = GZipMiddleware(response_app(BIG.encode()), thread_minimum_size=len(BIG))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zlib, "compressobj", lambda *args: Spy())
        sent = run(app, gzip_scope())
    assert gzip.decompress(sent[1]["body"]) == BIG.encode()
    assert threads and threads[0] != threading.current_thread().name


def test_head_request_with_a_body_gets_gets_head() -> None:
    # An app that renders the body for HEAD too (the server drops it): compressed as for GET, so the
    # head says what GET's says (it was left uncompressed: another length, no encoding).
    async def renders_always(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(BIG)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": BIG.encode()})

    head = headers_of(run(GZipMiddleware(renders_always), gzip_scope(method="HEAD"))[0])
    get = headers_of(run(GZipMiddleware(renders_always), gzip_scope())[0])
    assert head["content-encoding"] == get["content-encoding"] == "gzip"
    assert head["content-length"] == get["content-length"] != str(len(BIG))


# ---------------------------------------------------------------- streaming


def test_streamed_body_is_compressed_chunk_by_chunk() -> None:
    chunks = [b"first chunk " * 10, b"second " * 10, b"third"]
    sent = run(GZipMiddleware(streaming_app(chunks)), gzip_scope())
    headers = headers_of(sent[0])
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert "content-length" not in headers  # it was the uncompressed length
    bodies = sent[1:]
    assert [m["more_body"] for m in bodies] == [True, True, True, False]
    # Each message decompresses on its own, right away: the client sees every chunk as it comes.
    decompressor = zlib.decompressobj(31)
    for message, chunk in zip(bodies, chunks):
        assert decompressor.decompress(message["body"]) == chunk
    assert decompressor.decompress(bodies[-1]["body"]) == b""
    assert decompressor.eof


def test_streamed_small_first_chunk_still_compresses() -> None:
    sent = run(GZipMiddleware(streaming_app([b"a", b"b"])), gzip_scope())
    assert headers_of(sent[0])["content-encoding"] == "gzip"
    assert gzip.decompress(b"".join(m["body"] for m in sent[1:])) == b"ab"


def test_the_head_is_held_only_until_the_first_body_message() -> None:
    """The middleware never buffers beyond one message: the start goes out with the first chunk."""
    seen_before_second_chunk: list[int] = []
    sent = MessageCollector()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        seen_before_second_chunk.append(len(sent.messages))
        await send({"type": "http.response.body", "body": b"two", "more_body": False})

    asyncio.run(GZipMiddleware(app)(gzip_scope(), body_receiver(), sent))
    assert seen_before_second_chunk == [2]


@pytest.mark.parametrize(("declared", "held"), [(b"13", False), (b"499", False), (b"500", True), (b"x", True)])
def test_a_head_declaring_a_length_under_minimum_size_goes_out_at_once(declared: bytes, held: bool) -> None:
    """Its body would not be compressed anyway: nothing is held back, and nothing is added to it."""
    seen_before_body: list[int] = []
    sent = MessageCollector()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        head = [(b"content-type", b"text/plain"), (b"content-length", declared)]
        await send({"type": "http.response.start", "status": 200, "headers": head, "trailers": False})
        seen_before_body.append(len(sent.messages))
        await send({"type": "http.response.body", "body": b"Hello, world!", "more_body": False})

    asyncio.run(GZipMiddleware(app)(gzip_scope(), body_receiver(), sent))
    messages: list[Any] = sent.messages
    assert seen_before_body == [0 if held else 1]
    assert [m["body"] for m in messages[1:]] == [b"Hello, world!"]  # too small to compress either way
    assert "vary" not in headers_of(messages[0])


def test_pathsend_passes_through_with_the_original_head() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        head: list[tuple[bytes, bytes]] = [(b"content-length", b"5000")]
        await send({"type": "http.response.start", "status": 200, "headers": head, "trailers": False})
        await extension_send(send)({"type": "http.response.pathsend", "path": "/tmp/file"})

    sent = run(GZipMiddleware(app), gzip_scope())
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    assert headers_of(sent[0]) == {"content-length": "5000"}


def test_start_without_headers_key_is_handled() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": BIG.encode(), "more_body": False})

    sent = run(GZipMiddleware(app), gzip_scope())
    assert headers_of(sent[0])["content-encoding"] == "gzip"


def test_non_http_scopes_pass_through() -> None:
    scopes: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope["type"])

    run(GZipMiddleware(app), {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.4"}})
    assert scopes == ["lifespan"]


def test_invalid_compresslevel() -> None:
    with pytest.raises(ValueError, match="compresslevel"):
        GZipMiddleware(response_app(b""), compresslevel=10)


# ---------------------------------------------------------------- inside an app


def test_in_an_app_streaming_and_background_task() -> None:
    done: list[str] = []

    async def numbers() -> AsyncIterator[str]:
        for number in range(200):
            yield f"{number},"

    async def stream(request: Request) -> Response:
        return StreamingResponse(numbers(), media_type="text/plain", background=BackgroundTask(done.append, "task"))

    async def plain(request: Request) -> Response:
        return PlainTextResponse(BIG)

    app = TypedASGI(
        routes=[Route("/stream", stream), Route("/plain", plain)],
        middleware=[Middleware(GZipMiddleware, minimum_size=100)],
    )
    client = TestClient(app)
    response = client.get("/stream", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "".join(f"{n}," for n in range(200))
    assert done == ["task"]
    response = client.get("/plain", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == BIG
    identity = client.get("/plain", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in identity.headers
    assert identity.text == BIG


def test_one_shot_header_iterable_is_read_once_and_kept_for_the_app() -> None:
    seen: list[str | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(Headers(scope=scope).get("accept-encoding"))  # type: ignore[arg-type]  # an http scope
        await PlainTextResponse("x" * 1000)(scope, receive, send)

    scope = http_scope()
    scope["headers"] = iter([(b"accept-encoding", b"gzip"), (b"origin", b"https://a.example")])
    sent = call_app(CORSMiddleware(GZipMiddleware(app), allow_origins=["https://a.example"]), scope)
    headers = headers_of(sent[0])
    assert (headers["content-encoding"], headers["access-control-allow-origin"]) == ("gzip", "https://a.example")
    assert seen == ["gzip"]


def _kept_after_hostile_values(app: ASGIApp, header: bytes) -> int:
    """Bytes still held after 300 requests, each with a new 20 KB value of ``header``."""
    async def attack() -> int:
        for number in range(300):  # a first round: what the caches keep stays (a second one would add nothing)
            value = b"%d," % number + b"x" * 20_000
            await drive(app, http_scope(headers=[(header, value), (b"origin", value)]))
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        return asyncio.run(attack()) - before
    finally:
        tracemalloc.stop()


async def _echoes_content_type(scope: Scope, receive: Receive, send: Send) -> None:
    """An app serving stored uploads with the type the uploader gave: the client picks the content type."""
    assert scope["type"] == "http"
    content_type = Headers(scope=scope).get("x-stored-type", "")
    await PlainTextResponse("x" * 600, media_type=content_type)(scope, receive, send)


@pytest.mark.parametrize(
    ("middleware", "header"),
    [
        (GZipMiddleware(_echoes_content_type), b"accept-encoding"),
        (GZipMiddleware(_echoes_content_type), b"x-stored-type"),
        (CORSMiddleware(_echoes_content_type, allow_origins=["https://example.com"]), b"origin"),
    ],
    ids=["gzip accept-encoding", "gzip content-type", "cors origin"],
)
def test_long_new_header_values_are_not_kept(middleware: ASGIApp, header: bytes) -> None:
    """The middleware keep their answers for the values clients repeat; a client sending a long new value
    each time must not make them keep megabytes (300 values of 20 KB kept 6-12 MB)."""
    assert _kept_after_hostile_values(middleware, header) < 500_000


@pytest.mark.parametrize("accept", ["gzip", "identity"])
def test_head_gets_the_head_get_gets(accept: str) -> None:
    # No body is rendered for HEAD, so the head the app sent described the uncompressed body: HEAD got
    # Content-Length 1000 and no encoding where GET got gzip. Now GET's head, less the length only
    # compressing would tell (RFC 9110 lets HEAD leave it out).
    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("x" * 1000)

    app = TypedASGI(routes=[Route("/", page)], middleware=[Middleware(GZipMiddleware)], autoload_plugins=False)
    with TestClient(app) as client:
        get = client.get("/", headers={"accept-encoding": accept})
        head = client.head("/", headers={"accept-encoding": accept})
    assert head.status_code == 200 and head.content == b""
    assert head.headers.get("content-encoding") == get.headers.get("content-encoding")
    assert head.headers["vary"] == get.headers["vary"] == "Accept-Encoding"
    if accept == "gzip":
        assert get.headers["content-encoding"] == "gzip" and "content-length" not in head.headers
    else:
        assert head.headers["content-length"] == get.headers["content-length"] == "1000"

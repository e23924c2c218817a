from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import decimal
import email.utils
import inspect
import os
import threading
import tracemalloc
import typing
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import msgspec
import pytest

from typedasgi.background import BackgroundTask
from typedasgi.datastructures import URL
from typedasgi.ranges import MalformedRangeHeader, RangeNotSatisfiable, parse_range_header
from typedasgi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.types import (
    ASGIApp,
    HTTPResponseStartEvent,
    Receive,
    ReceiveEvent,
    Scope,
    Send,
    SendEvent,
)

from tests.support import Message, call_app, drive, http_scope, websocket_scope

# ----------------------------------------------------------------------------- reading what was sent


def call(app: ASGIApp, method: str = "GET", headers: dict[str, str] | None = None) -> list[Message]:
    return call_app(app, http_scope(method, headers=headers))


def start_of(messages: list[Message]) -> HTTPResponseStartEvent:
    first = messages[0]
    assert first["type"] == "http.response.start"
    return first


def header_dict(messages: list[Message]) -> dict[bytes, bytes]:
    return dict(start_of(messages)["headers"])


def body_of(messages: list[Message]) -> bytes:
    return b"".join(m["body"] for m in messages if m["type"] == "http.response.body")


# ----------------------------------------------------------------------------- Response


def test_response_sends_exactly_two_complete_messages() -> None:
    response = Response(b"hello", media_type="application/octet-stream")
    assert call(response) == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"5"), (b"content-type", b"application/octet-stream")],
            "trailers": False,
        },
        {"type": "http.response.body", "body": b"hello", "more_body": False},
    ]


def test_empty_response_has_zero_length_and_no_content_type() -> None:
    response = Response()
    assert response.body == b""
    assert response.raw_headers == [(b"content-length", b"0")]


def test_text_is_encoded_and_text_types_get_a_charset() -> None:
    response = Response("héllo", media_type="text/plain")
    assert response.body == "héllo".encode()
    assert dict(response.raw_headers) == {b"content-length": b"6", b"content-type": b"text/plain; charset=utf-8"}


def test_charset_is_not_added_twice_nor_to_non_text_types() -> None:
    assert dict(Response("x", media_type="text/csv; charset=latin-1").raw_headers)[b"content-type"] == (
        b"text/csv; charset=latin-1"
    )
    assert dict(Response("x", media_type="image/png").raw_headers)[b"content-type"] == b"image/png"


def test_class_charset_is_used() -> None:
    class Latin1Text(PlainTextResponse):
        charset = "latin-1"

    response = Latin1Text("é")
    assert response.body == b"\xe9"
    assert dict(response.raw_headers)[b"content-type"] == b"text/plain; charset=latin-1"


@pytest.mark.parametrize("status_code", [101, 204, 304])
def test_no_content_length_for_bodiless_statuses(status_code: int) -> None:
    response = Response(status_code=status_code)
    assert b"content-length" not in dict(response.raw_headers)


def test_given_headers_are_lowercased_and_win_over_computed_ones() -> None:
    response = Response(b"abc", headers={"X-Thing": "1", "Content-Type": "application/x-custom", "Content-Length": "3"})
    assert response.raw_headers == [
        (b"x-thing", b"1"),
        (b"content-type", b"application/x-custom"),
        (b"content-length", b"3"),
    ]


def test_headers_property_writes_through_to_what_is_sent() -> None:
    response = PlainTextResponse("hi")
    response.headers["X-Request-Id"] = "42"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert header_dict(call(response))[b"x-request-id"] == b"42"


def test_head_sends_headers_without_body() -> None:
    messages = call(PlainTextResponse("hello"), method="HEAD")
    assert header_dict(messages)[b"content-length"] == b"5"
    assert messages[1] == {"type": "http.response.body", "body": b"", "more_body": False}


def test_background_runs_after_the_body_was_sent() -> None:
    order: list[str] = []

    async def task() -> None:
        order.append("background")

    async def main() -> None:
        response = Response(b"x", background=BackgroundTask(task))

        async def receive() -> ReceiveEvent:
            return {"type": "http.disconnect"}

        async def send(message: SendEvent) -> None:
            order.append(message["type"])

        await response(http_scope(), receive, send)

    asyncio.run(main())
    assert order == ["http.response.start", "http.response.body", "background"]


def test_through_the_test_client() -> None:
    response = TestClient(HTMLResponse("<h1>hi</h1>", status_code=201)).get("/")
    assert response.status_code == 201
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>hi</h1>"


def test_plain_text_media_type() -> None:
    assert dict(PlainTextResponse("x").raw_headers)[b"content-type"] == b"text/plain; charset=utf-8"


# ----------------------------------------------------------------------------- JSON


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Item(msgspec.Struct):
    name: str
    tags: list[str]


def test_json_response_encodes_compactly() -> None:
    response = JSONResponse({"message": "Hello, world!", "n": [1, 2]})
    assert response.body == b'{"message":"Hello, world!","n":[1,2]}'
    assert dict(response.raw_headers) == {b"content-length": b"37", b"content-type": b"application/json"}


def test_json_response_handles_rich_types() -> None:
    when = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    content = {
        "point": Point(1, 2),
        "item": Item("a", ["b"]),
        "when": when,
        "id": ident,
        "price": decimal.Decimal("9.50"),
        "none": None,
    }
    assert msgspec.json.decode(JSONResponse(content).body) == {
        "point": {"x": 1, "y": 2},
        "item": {"name": "a", "tags": ["b"]},
        "when": "2024-05-01T12:30:00Z",
        "id": "12345678-1234-5678-1234-567812345678",
        "price": "9.50",
        "none": None,
    }


def test_json_render_returns_bytes_and_rejects_unknown_types() -> None:
    assert isinstance(JSONResponse([]).render({"a": 1}), bytes)
    with pytest.raises(TypeError):
        JSONResponse(object())


def test_json_response_through_the_test_client() -> None:
    response = TestClient(JSONResponse({"ok": True}, status_code=202, headers={"x-a": "b"})).get("/")
    assert response.status_code == 202
    assert response.json() == {"ok": True}
    assert response.headers["x-a"] == "b"


# ----------------------------------------------------------------------------- redirects


def test_redirect_defaults_to_307_and_quotes_the_location() -> None:
    response = RedirectResponse("/a path/é?q=1&r=a b#frag")
    assert response.status_code == 307
    assert dict(response.raw_headers)[b"location"] == b"/a%20path/%C3%A9?q=1&r=a%20b#frag"
    assert dict(response.raw_headers)[b"content-length"] == b"0"


def test_redirect_accepts_url_objects_and_other_statuses() -> None:
    response = RedirectResponse(URL("https://example.org/x?y=1"), status_code=303)
    assert response.status_code == 303
    assert dict(response.raw_headers)[b"location"] == b"https://example.org/x?y=1"


def test_redirect_keeps_percent_escapes() -> None:
    assert dict(RedirectResponse("/a%20b").raw_headers)[b"location"] == b"/a%20b"


def test_redirect_through_the_test_client() -> None:
    response = TestClient(RedirectResponse("/elsewhere", status_code=302), follow_redirects=False).get("/")
    assert response.status_code == 302
    assert response.headers["location"] == "/elsewhere"


# ----------------------------------------------------------------------------- cookies


def set_cookies(response: Response) -> list[str]:
    return [value.decode() for key, value in response.raw_headers if key == b"set-cookie"]


def test_set_cookie_with_every_attribute() -> None:
    response = Response()
    response.set_cookie(
        "session",
        "abc",
        max_age=600,
        expires=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        path="/app",
        domain="example.org",
        secure=True,
        httponly=True,
        samesite="strict",
        partitioned=True,
    )
    [cookie] = set_cookies(response)
    parts = cookie.split("; ")
    assert parts[0] == "session=abc"
    assert set(parts[1:]) == {
        "Max-Age=600",
        "expires=Wed, 02 Jan 2030 03:04:05 GMT",
        "Path=/app",
        "Domain=example.org",
        "Secure",
        "HttpOnly",
        "SameSite=strict",
        "Partitioned",
    }


def test_set_cookie_defaults_and_naive_datetimes() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", expires=dt.datetime(2030, 1, 2, 3, 4, 5), samesite=None)
    first, second = set_cookies(response)
    assert first == "a=1; Path=/; SameSite=lax"
    assert second == "b=2; expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/"


def test_cookie_values_are_quoted_and_names_validated() -> None:
    response = Response()
    response.set_cookie("a", "x y;z")
    assert set_cookies(response)[0].startswith('a="x y\\073z"')
    with pytest.raises(Exception, match="Illegal key"):
        response.set_cookie("bad name", "1")


def test_samesite_is_validated() -> None:
    with pytest.raises(ValueError, match="samesite"):
        Response().set_cookie("a", "1", samesite="sometimes")  # type: ignore[arg-type]  # the runtime check


def test_expires_in_seconds() -> None:
    response = Response()
    response.set_cookie("a", "1", expires=3600)
    expires = set_cookies(response)[0].split("expires=")[1].split(";")[0]
    parsed = email.utils.parsedate_to_datetime(expires)
    delta = parsed - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(minutes=58) < delta <= dt.timedelta(hours=1)


def test_delete_cookie() -> None:
    response = Response()
    response.delete_cookie("session", path="/app", domain="example.org", secure=True, httponly=True)
    [cookie] = set_cookies(response)
    assert cookie.startswith("session=")
    assert "Max-Age=0" in cookie and "expires=" in cookie
    assert "Path=/app" in cookie and "Domain=example.org" in cookie and "Secure" in cookie


@pytest.mark.parametrize("partitioned", [False, True])
def test_delete_cookie_of_a_partition(partitioned: bool) -> None:
    response = Response()
    response.delete_cookie("session", secure=True, samesite="none", partitioned=partitioned)
    [cookie] = set_cookies(response)
    assert "Max-Age=0" in cookie
    assert cookie.endswith("; Partitioned") is partitioned


def test_cookies_reach_the_client() -> None:
    response = PlainTextResponse("x")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    result = TestClient(response).get("/")
    assert result.headers.get_list("set-cookie") == ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]
    assert result.cookies["a"] == "1"


# ----------------------------------------------------------------------------- streaming


def test_streaming_async_iterable_with_text_and_bytes() -> None:
    async def parts() -> AsyncIterator[str | bytes]:
        yield "hé"
        yield b"llo"

    messages = call(StreamingResponse(parts(), media_type="text/plain"))
    assert header_dict(messages) == {b"content-type": b"text/plain; charset=utf-8"}  # no content-length
    assert body_of(messages) == "héllo".encode()
    assert messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert all(m["more_body"] for m in messages[1:-1] if m["type"] == "http.response.body")


def test_streaming_sync_iterable_runs_in_the_thread_pool() -> None:
    threads: list[str] = []

    def parts() -> Iterator[bytes]:
        for n in range(3):
            threads.append(threading.current_thread().name)
            yield str(n).encode()

    assert TestClient(StreamingResponse(parts())).get("/").content == b"012"
    assert threads and threading.current_thread().name not in threads


def test_streaming_background_runs_after_a_complete_stream() -> None:
    ran: list[bool] = []

    def task() -> None:
        ran.append(True)

    TestClient(StreamingResponse(iter([b"a"]), background=BackgroundTask(task))).get("/")
    assert ran == [True]


def test_streaming_stops_promptly_on_disconnect_then_runs_background() -> None:
    """As below ASGI 2.4 in Starlette, and as FileResponse: the task is often the stream's clean-up."""
    ran: list[bool] = []
    finalized = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick"
                await asyncio.sleep(0)
        finally:
            finalized.set()

    def task() -> None:
        ran.append(True)

    async def main() -> list[Message]:
        disconnect = asyncio.Event()
        response = StreamingResponse(endless(), background=BackgroundTask(task))
        run = asyncio.ensure_future(drive(response, http_scope(), disconnect=disconnect))
        await asyncio.sleep(0.02)
        disconnect.set()  # the client goes away while the stream is running
        messages = await asyncio.wait_for(run, timeout=2)  # an endless stream that ignores it times out here
        assert finalized.is_set()
        return messages

    messages = asyncio.run(main())
    assert start_of(messages)["status"] == 200
    assert body_of(messages).startswith(b"tick")
    assert ran == [True]


def test_streaming_sync_iterator_stops_on_disconnect() -> None:
    produced = 0

    def endless() -> Iterator[bytes]:
        nonlocal produced
        while True:
            produced += 1
            yield b"x"

    async def main() -> None:
        disconnect = asyncio.Event()
        run = asyncio.ensure_future(drive(StreamingResponse(endless()), http_scope(), disconnect=disconnect))
        await asyncio.sleep(0.05)
        disconnect.set()
        await asyncio.wait_for(run, timeout=2)

    asyncio.run(main())
    count = produced
    assert count > 0
    threading.Event().wait(0.05)
    assert produced <= count + 1  # at most the next() that was running; nothing keeps iterating


def test_streaming_closes_its_iterator_before_the_background_task_when_the_client_leaves_while_send_waits() -> None:
    """A flow-controlled send that waits for a reader who left: the stream's ``finally`` runs at once, not at GC."""
    events: list[str] = []

    async def endless_async() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            events.append("async finally")

    def endless_sync() -> Iterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            events.append("sync finally")

    async def main(stream: AsyncIterator[bytes] | Iterator[bytes]) -> None:
        gone = asyncio.Event()

        async def receive() -> ReceiveEvent:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: SendEvent) -> None:
            if message["type"] == "http.response.body":
                gone.set()
                await asyncio.Event().wait()  # the socket's buffer is full: this send never returns

        response = StreamingResponse(stream, background=BackgroundTask(events.append, "background"))
        await asyncio.wait_for(response(http_scope(), receive, send), timeout=5)
        events.append("returned")

    asyncio.run(main(endless_async()))
    asyncio.run(main(endless_sync()))
    assert events == ["async finally", "background", "returned", "sync finally", "background", "returned"]


def test_streaming_send_oserror_means_client_gone() -> None:
    ran: list[bool] = []

    def task() -> None:
        ran.append(True)

    async def main() -> None:
        response = StreamingResponse(iter([b"a", b"b"]), background=BackgroundTask(task))

        async def receive() -> ReceiveEvent:
            await asyncio.sleep(10)
            return {"type": "http.disconnect"}

        async def send(message: SendEvent) -> None:
            if message["type"] == "http.response.body":
                raise OSError("connection reset")

        await asyncio.wait_for(response(http_scope(), receive, send), timeout=2)  # no error escapes

    asyncio.run(main())
    assert ran == [True]  # the stream stopped quietly; its clean-up task still ran


def test_streaming_errors_propagate() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a"
        raise LookupError("stream broke")

    with pytest.raises(LookupError, match="stream broke"):
        call(StreamingResponse(broken()))


def test_streaming_oserror_from_the_iterator_is_not_a_disconnect() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a"
        raise OSError("disk read failed")

    with pytest.raises(OSError, match="disk read failed"):
        call(StreamingResponse(broken()))


def test_streaming_head_does_not_iterate() -> None:
    started = False

    async def parts() -> AsyncIterator[bytes]:
        nonlocal started
        started = True
        yield b"a"

    messages = call(StreamingResponse(parts(), media_type="text/plain"), method="HEAD")
    assert body_of(messages) == b""
    assert not started


# ----------------------------------------------------------------------------- files

DATA = b"".join(b"%04d" % n for n in range(500))  # 2000 bytes
SIZE = len(DATA)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_bytes(DATA)
    return path


def get(target: Path | FileResponse, headers: dict[str, str] | None = None, method: str = "GET") -> list[Message]:
    response = target if isinstance(target, FileResponse) else FileResponse(target)
    return call(response, method=method, headers=headers)


def test_file_response_headers_and_body(data_file: Path) -> None:
    result = TestClient(FileResponse(data_file)).get("/")
    stat = data_file.stat()
    assert result.status_code == 200
    assert result.content == DATA
    assert result.headers["content-length"] == str(SIZE)
    assert result.headers["content-type"] == "text/plain; charset=utf-8"
    assert result.headers["accept-ranges"] == "bytes"
    assert result.headers["last-modified"] == email.utils.formatdate(stat.st_mtime, usegmt=True)
    assert result.headers["etag"].startswith('"') and result.headers["etag"].endswith('"')
    assert "content-disposition" not in result.headers


def test_etag_follows_mtime_and_size(data_file: Path) -> None:
    first = header_dict(get(data_file))[b"etag"]
    os.utime(data_file, ns=(1_000_000_000, 1_000_000_000))
    second = header_dict(get(data_file))[b"etag"]
    data_file.write_bytes(DATA + b"!")
    os.utime(data_file, ns=(1_000_000_000, 1_000_000_000))
    third = header_dict(get(data_file))[b"etag"]
    assert len({first, second, third}) == 3


def test_file_is_sent_in_64k_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    payload = os.urandom(64 * 1024 * 2 + 10)
    path.write_bytes(payload)
    messages = get(path)
    bodies = [m["body"] for m in messages if m["type"] == "http.response.body"]
    assert b"".join(bodies) == payload
    assert max(len(b) for b in bodies) == 64 * 1024
    assert len(bodies) >= 3


def test_a_file_of_one_chunk_is_one_complete_body_message(data_file: Path) -> None:
    for headers in (None, {"range": "bytes=10-19"}):
        messages = get(data_file, headers=headers)
        assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
        assert messages[1] == {"type": "http.response.body", "body": DATA[10:20] if headers else DATA, "more_body": False}


def test_media_type_is_guessed_from_filename_or_path(tmp_path: Path, data_file: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>")
    assert header_dict(get(page))[b"content-type"] == b"text/html; charset=utf-8"
    assert header_dict(get(FileResponse(data_file, filename="x.json")))[b"content-type"] == b"application/json"
    unknown = tmp_path / "blob.unknownext"
    unknown.write_bytes(b"x")
    assert header_dict(get(unknown))[b"content-type"] == b"application/octet-stream"  # bytes, as in Starlette
    assert header_dict(get(FileResponse(data_file, media_type="image/png")))[b"content-type"] == b"image/png"


def test_content_disposition(data_file: Path) -> None:
    assert header_dict(get(FileResponse(data_file, filename="report.txt")))[b"content-disposition"] == (
        b'attachment; filename="report.txt"'
    )
    assert header_dict(get(FileResponse(data_file, filename="résumé €.txt")))[b"content-disposition"] == (
        b"attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20%E2%82%AC.txt"
    )
    inline = header_dict(get(FileResponse(data_file, filename="a.txt", content_disposition_type="inline")))
    assert inline[b"content-disposition"] == b'inline; filename="a.txt"'


def test_stat_result_given_sets_headers_at_construction(data_file: Path) -> None:
    response = FileResponse(data_file, stat_result=data_file.stat())
    assert response.headers["content-length"] == str(SIZE)
    assert "etag" in response.headers


def test_missing_file_raises_at_send_time(tmp_path: Path) -> None:
    response = FileResponse(tmp_path / "nope.txt")  # building it is fine
    with pytest.raises(RuntimeError, match="does not exist"):
        call(response)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="is not a file"):
        call(FileResponse(tmp_path))


def test_head_sends_headers_only(data_file: Path) -> None:
    messages = get(data_file, method="HEAD")
    assert header_dict(messages)[b"content-length"] == str(SIZE).encode()
    assert messages[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]
    by_argument = get(FileResponse(data_file, method="HEAD"))  # a GET, answered as HEAD
    assert header_dict(by_argument)[b"content-length"] == str(SIZE).encode()
    assert body_of(by_argument) == b""


def test_head_in_lower_case_sends_headers_only(data_file: Path) -> None:
    messages = call_app(FileResponse(data_file), http_scope(method="head"))
    assert header_dict(messages)[b"content-length"] == str(SIZE).encode()
    assert body_of(messages) == b""


def test_a_file_shorter_than_its_stat_is_an_error(data_file: Path) -> None:
    response = FileResponse(data_file, stat_result=data_file.stat())
    data_file.write_bytes(DATA[:3])
    with pytest.raises(RuntimeError, match="is shorter than expected"):
        call(response)


def test_background_runs_after_the_file(data_file: Path) -> None:
    ran: list[bool] = []

    def task() -> None:
        ran.append(True)

    TestClient(FileResponse(data_file, background=BackgroundTask(task))).get("/")
    assert ran == [True]


# pathsend


def test_pathsend_hands_the_whole_file_to_the_server(data_file: Path) -> None:
    scope = http_scope(extensions={"http.response.pathsend": {}})
    messages = asyncio.run(drive(FileResponse(data_file), scope))
    assert start_of(messages)["status"] == 200
    assert messages[1:] == [{"type": "http.response.pathsend", "path": str(data_file.resolve())}]


def test_pathsend_path_is_absolute(data_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(data_file.parent)
    scope = http_scope(extensions={"http.response.pathsend": {}})
    messages = asyncio.run(drive(FileResponse("data.txt"), scope))
    assert messages[1] == {"type": "http.response.pathsend", "path": str(data_file)}


def test_pathsend_is_not_used_for_ranges_or_head(data_file: Path) -> None:
    extensions: dict[str, dict[object, object]] = {"http.response.pathsend": {}}
    scope = http_scope(headers={"range": "bytes=0-3"}, extensions=extensions)
    ranged = asyncio.run(drive(FileResponse(data_file), scope))
    assert body_of(ranged) == DATA[:4]
    head = asyncio.run(drive(FileResponse(data_file), http_scope("HEAD", extensions=extensions)))
    assert [m["type"] for m in head] == ["http.response.start", "http.response.body"]


# conditional requests


def test_if_none_match_gives_304(data_file: Path) -> None:
    etag = header_dict(get(data_file))[b"etag"].decode()
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        messages = get(data_file, {"if-none-match": value})
        headers = header_dict(messages)
        assert start_of(messages)["status"] == 304, value
        assert body_of(messages) == b""
        assert headers[b"etag"] == etag.encode()
        assert b"content-length" not in headers and b"content-type" not in headers
    for value in ('"other"', '"foo,*,bar"', '"a", *'):  # "*" matches only as the whole field
        assert start_of(get(data_file, {"if-none-match": value}))["status"] == 200, value


def test_if_modified_since_gives_304(data_file: Path) -> None:
    last_modified = header_dict(get(data_file))[b"last-modified"].decode()
    assert start_of(get(data_file, {"if-modified-since": last_modified}))["status"] == 304
    later = email.utils.formatdate(data_file.stat().st_mtime + 3600, usegmt=True)
    assert start_of(get(data_file, {"if-modified-since": later}))["status"] == 304
    earlier = email.utils.formatdate(data_file.stat().st_mtime - 3600, usegmt=True)
    assert start_of(get(data_file, {"if-modified-since": earlier}))["status"] == 200
    assert start_of(get(data_file, {"if-modified-since": "not a date"}))["status"] == 200


def test_if_none_match_takes_precedence_over_if_modified_since(data_file: Path) -> None:
    later = email.utils.formatdate(data_file.stat().st_mtime + 3600, usegmt=True)
    messages = get(data_file, {"if-none-match": '"other"', "if-modified-since": later})
    assert start_of(messages)["status"] == 200


def test_conditionals_only_apply_to_get_and_head_200s(data_file: Path) -> None:
    etag = header_dict(get(data_file))[b"etag"].decode()
    assert start_of(get(data_file, {"if-none-match": etag}, method="HEAD"))["status"] == 304
    assert start_of(get(data_file, {"if-none-match": etag}, method="POST"))["status"] == 200
    assert start_of(get(FileResponse(data_file, status_code=404), {"if-none-match": etag}))["status"] == 404


def test_304_through_the_test_client(data_file: Path) -> None:
    client = TestClient(FileResponse(data_file))
    etag = client.get("/").headers["etag"]
    assert client.get("/", headers={"if-none-match": etag}).status_code == 304


# ranges


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-199", 100, 199),
        ("bytes=1990-", 1990, 1999),
        ("bytes=-5", 1995, 1999),
        ("bytes=1995-5000", 1995, 1999),  # end clamped
        ("bytes=-5000", 0, 1999),  # suffix longer than the file
        ("bytes=0-0", 0, 0),
        ("Bytes = 5-6", 5, 6),
        ("bytes=0-9,5-14", 0, 14),  # overlapping: merged
        ("bytes=0-4,5-9", 0, 9),  # adjacent: merged
        ("bytes=0-4, ,", 0, 4),  # empty list elements are allowed
        ("bytes=100, 0-4", 0, 4),  # elements that are not ranges are skipped: without a dash,
        ("bytes= - , 0-4", 0, 4),  # without either end,
        ("bytes=abc-def, 0-4", 0, 4),  # not numbers
        ("bytes=0-4,x", 0, 4),
        ("bytes=0-,0-", 0, 1999),  # the same range twice: merged
        ("bytes=0-1500,500-", 0, 1999),
    ],
)
def test_single_range(data_file: Path, header: str, first: int, last: int) -> None:
    messages = get(data_file, {"range": header})
    headers = header_dict(messages)
    assert start_of(messages)["status"] == 206
    assert headers[b"content-range"] == f"bytes {first}-{last}/{SIZE}".encode()
    assert headers[b"content-length"] == str(last - first + 1).encode()
    assert headers[b"content-type"] == b"text/plain; charset=utf-8"
    assert body_of(messages) == DATA[first : last + 1]


def parse_multipart(content_type: bytes, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    media, _, boundary = content_type.decode().partition("; boundary=")
    assert media == "multipart/byteranges"
    delimiter = b"--" + boundary.encode()
    assert body.endswith(delimiter + b"--")
    parts = []
    for chunk in body[: -len(delimiter + b"--")].split(delimiter)[1:]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append((fields, data))
    return parts


def test_multiple_ranges_are_sent_as_multipart_byteranges(data_file: Path) -> None:
    result = TestClient(FileResponse(data_file)).get("/", headers={"range": "bytes=20-29, 0-4, -3"})
    assert result.status_code == 206
    assert int(result.headers["content-length"]) == len(result.content)
    parts = parse_multipart(result.headers["content-type"].encode(), result.content)
    assert [fields["Content-Range"] for fields, _ in parts] == [
        f"bytes 0-4/{SIZE}",
        f"bytes 20-29/{SIZE}",
        f"bytes 1997-1999/{SIZE}",
    ]
    assert [data for _, data in parts] == [DATA[0:5], DATA[20:30], DATA[1997:]]
    assert all(fields["Content-Type"] == "text/plain; charset=utf-8" for fields, _ in parts)


def test_multipart_messages_one_by_one(data_file: Path) -> None:
    class SmallChunks(FileResponse):
        chunk_size = 4

    messages = get(SmallChunks(data_file), {"range": "bytes=0-5,10-13"})
    boundary = header_dict(messages)[b"content-type"].partition(b"boundary=")[2]
    head = b"--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes %s/2000\r\n\r\n"
    assert [(message.get("body"), message.get("more_body")) for message in messages[1:]] == [
        (head % (boundary, b"0-5"), True),
        (DATA[0:4], True),
        (DATA[4:6], True),
        (b"\r\n", True),  # each part's line break is a message of its own,
        (head % (boundary, b"10-13"), True),  # before the next part's head
        (DATA[10:14], True),
        (b"\r\n", True),
        (b"--%s--" % boundary, False),
    ]


def test_a_plain_body_ends_as_starlette_ends_it(data_file: Path) -> None:
    class SmallChunks(FileResponse):
        chunk_size = 4

    for header, chunks in (("bytes=0-9", [DATA[0:4], DATA[4:8], DATA[8:10]]), ("bytes=4-11", [DATA[4:8], DATA[8:12]])):
        messages = get(SmallChunks(data_file), {"range": header})
        assert [(message.get("body"), message.get("more_body")) for message in messages[1:]] == [
            *((chunk, True) for chunk in chunks[:-1]),
            (chunks[-1], False),  # no empty message after it, as Starlette sends one range
        ]
    whole = get(SmallChunks(data_file))  # 2000 bytes: 500 full chunks, then an empty message, as Starlette reads
    assert [len(m["body"]) for m in whole if m["type"] == "http.response.body"] == [4] * 500 + [0]
    assert whole[-1] == {"type": "http.response.body", "body": b"", "more_body": False}

    class OddChunks(FileResponse):
        chunk_size = 3

    whole = get(OddChunks(data_file))  # a short last chunk ends the body itself
    assert [len(m["body"]) for m in whole if m["type"] == "http.response.body"] == [3] * 666 + [2]
    assert whole[-1] == {"type": "http.response.body", "body": DATA[-2:], "more_body": False}


def test_each_multipart_response_gets_its_own_boundary(data_file: Path) -> None:
    one = header_dict(get(data_file, {"range": "bytes=0-1,5-6"}))[b"content-type"]
    two = header_dict(get(data_file, {"range": "bytes=0-1,5-6"}))[b"content-type"]
    assert one != two


@pytest.mark.parametrize(
    "header", ["bytes=2000-", "bytes=5000-6000", "bytes=-0", "bytes=2000-2001,3000-", "bytes=3000-4000,0-1", "bytes=--5"]
)
def test_a_range_past_the_end_gives_416(data_file: Path, header: str) -> None:
    messages = get(data_file, {"range": header})
    headers = header_dict(messages)
    assert start_of(messages)["status"] == 416
    assert headers == {
        b"content-range": f"bytes */{SIZE}".encode(),
        b"content-length": b"0",
        b"content-type": b"text/plain; charset=utf-8",
    }
    assert body_of(messages) == b""


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("0-5", "Malformed range header."),
        ("bytes: 0-5", "Malformed range header."),
        ("items=0-5", "Only support bytes range"),
        ("bytes=", "Range header: range must be requested"),
        ("bytes=abc", "Range header: range must be requested"),
        ("bytes=5", "Range header: range must be requested"),
        ("bytes=0-1-2", "Range header: range must be requested"),
        ("bytes=\u0661-\u0662", "Range header: range must be requested"),  # non-ASCII digits
        ("bytes=9-5", "Range header: start must be less than end"),
        ("bytes=5-4", "Range header: start must be less than end"),
        ("bytes=0-9,1--2", "Range header: start must be less than end"),
    ],
)
def test_unreadable_range_gives_400_with_the_reason(data_file: Path, header: str, reason: str) -> None:
    messages = get(data_file, {"range": header})
    assert start_of(messages)["status"] == 400
    assert header_dict(messages) == {
        b"content-length": str(len(reason)).encode(),
        b"content-type": b"text/plain; charset=utf-8",
    }
    assert body_of(messages) == reason.encode()
    head = get(data_file, {"range": header}, method="HEAD")
    assert start_of(head)["status"] == 400 and body_of(head) == b""


@pytest.mark.parametrize(("header", "status"), [("bytes=9-5", 400), ("bytes=3000-", 416)])
def test_a_range_answer_of_its_own_still_runs_the_background_task(data_file: Path, header: str, status: int) -> None:
    ran: list[bool] = []
    response = FileResponse(data_file, background=BackgroundTask(ran.append, True))
    assert start_of(get(response, {"range": header}))["status"] == status
    assert ran == [True]


def test_a_range_the_if_range_rules_out_is_not_read(data_file: Path) -> None:
    messages = get(data_file, {"range": "items=0-5", "if-range": '"stale"'})
    assert start_of(messages)["status"] == 200 and body_of(messages) == DATA


def test_more_ranges_than_max_ranges_are_ignored(data_file: Path) -> None:
    allowed = ",".join(f"{n * 10}-{n * 10 + 1}" for n in range(100))
    many = ",".join(f"{n * 10}-{n * 10 + 1}" for n in range(101))
    messages = get(data_file, {"range": f"bytes={allowed}"})
    assert len(parse_multipart(header_dict(messages)[b"content-type"], body_of(messages))) == 100
    for header in (f"bytes={many}", "bytes=" + ",".join("0-1" for _ in range(10_000)), "bytes=0-1" + "," * 100):
        messages = get(data_file, {"range": header})
        assert start_of(messages)["status"] == 200 and body_of(messages) == DATA


def test_max_ranges_is_configurable(data_file: Path) -> None:
    class FewRanges(FileResponse):
        max_ranges = 2

    assert start_of(get(FewRanges(data_file), {"range": "bytes=0-1,5-6"}))["status"] == 206
    messages = get(FewRanges(data_file), {"range": "bytes=0-1,5-6,9-10"})
    assert start_of(messages)["status"] == 200 and body_of(messages) == DATA


def test_ranges_apply_only_to_get_and_head_200s(data_file: Path) -> None:
    assert start_of(get(data_file, {"range": "bytes=0-1"}, method="POST"))["status"] == 200
    assert start_of(get(FileResponse(data_file, status_code=404), {"range": "bytes=0-1"}))["status"] == 404
    assert start_of(get(data_file, {"range": "bytes=9-5"}, method="POST"))["status"] == 200


def test_head_with_range_sends_partial_headers_only(data_file: Path) -> None:
    messages = get(data_file, {"range": "bytes=0-9"}, method="HEAD")
    assert start_of(messages)["status"] == 206
    assert header_dict(messages)[b"content-length"] == b"10"
    assert body_of(messages) == b""


def test_if_range_with_etag(data_file: Path) -> None:
    etag = header_dict(get(data_file))[b"etag"].decode()
    assert start_of(get(data_file, {"range": "bytes=0-9", "if-range": etag}))["status"] == 206
    stale = get(data_file, {"range": "bytes=0-9", "if-range": '"stale"'})
    assert start_of(stale)["status"] == 200 and body_of(stale) == DATA
    weak = get(data_file, {"range": "bytes=0-9", "if-range": f"W/{etag}"})
    assert start_of(weak)["status"] == 200  # If-Range needs a strong match


def test_if_range_with_date(data_file: Path) -> None:
    last_modified = header_dict(get(data_file))[b"last-modified"].decode()
    assert start_of(get(data_file, {"range": "bytes=0-9", "if-range": last_modified}))["status"] == 206
    earlier = email.utils.formatdate(data_file.stat().st_mtime - 60, usegmt=True)
    assert start_of(get(data_file, {"range": "bytes=0-9", "if-range": earlier}))["status"] == 200
    assert start_of(get(data_file, {"range": "bytes=0-9", "if-range": "garbage"}))["status"] == 200
    written_otherwise = email.utils.format_datetime(email.utils.parsedate_to_datetime(last_modified))  # +0000
    assert written_otherwise != last_modified
    assert start_of(get(data_file, {"range": "bytes=0-9", "if-range": written_otherwise}))["status"] == 200


def test_if_range_is_an_exact_match_of_a_given_validator(data_file: Path) -> None:
    tagged = FileResponse(data_file, headers={"etag": "v1"})  # not quoted, but what the response says
    assert start_of(get(tagged, {"range": "bytes=0-9", "if-range": "v1"}))["status"] == 206
    assert start_of(get(tagged, {"range": "bytes=0-9", "if-range": "v2"}))["status"] == 200


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    messages = get(path)
    assert header_dict(messages)[b"content-length"] == b"0"
    assert body_of(messages) == b""
    assert start_of(get(path, {"range": "bytes=0-"}))["status"] == 416


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        ("bytes=0-1,4-5,2-3", [(0, 5)]),
        ("bytes=8-,0-0", [(0, 0), (8, 9)]),
        ("bytes=0-99999999999999999999999", [(0, 9)]),
        ("bytes=0-1,3-4,6-7", [(0, 1), (3, 4), (6, 7)]),
        ("bytes=+1-2", [(1, 2)]),  # numbers read as Python's int() reads them,
        ("bytes=0_1-0_3", [(1, 3)]),
        ("bytes=" + "0" * 4000 + "1-" + "9" * 4300, [(1, 9)]),  # long ones too,
        ("bytes=" + "0" * 4301 + "1-2, 3-4", [(3, 4)]),  # but not past int()'s digit limit
        ("bytes=-" + "9" * 40, [(0, 9)]),
        ("bytes=-" + "0" * 39 + "3", [(7, 9)]),
    ],
)
def test_parse_range_header_directly(header: str, ranges: list[tuple[int, int]]) -> None:
    assert parse_range_header(header, 10) == ranges


def test_parse_range_header_limits_and_errors() -> None:
    assert parse_range_header("bytes=0-1,3-4,6-7", 10, max_ranges=2) == []
    with pytest.raises(RangeNotSatisfiable):
        parse_range_header("bytes=99999999999999999999999-", 10)
    with pytest.raises(RangeNotSatisfiable):
        parse_range_header("bytes=0-1," + "1_" * 30 + "1-", 10)
    with pytest.raises(MalformedRangeHeader, match="start must be less than end"):
        parse_range_header("bytes=5--" + "9" * 40, 10)
    with pytest.raises(MalformedRangeHeader, match="range must be requested"):
        parse_range_header("bytes=x", 10)
    with pytest.raises(MalformedRangeHeader, match="range must be requested"):
        parse_range_header("bytes=" + "9" * 5000 + "-", 10)


def test_subclasses_keep_their_render_media_type_and_charset() -> None:
    class Shouting(PlainTextResponse):
        def render(self, content: str | bytes | None) -> bytes:
            return str(content).upper().encode()

    class Latin(PlainTextResponse):
        charset = "latin-1"

    class Csv(Response):
        media_type = "text/csv"

    class Wrapped(JSONResponse):
        def render(self, content: object) -> bytes:
            return super().render({"data": content})

    assert Shouting("hi").body == b"HI"
    latin = Latin("café")
    assert (latin.body, latin.headers["content-type"]) == ("café".encode("latin-1"), "text/plain; charset=latin-1")
    assert Csv("a,b").headers["content-type"] == "text/csv; charset=utf-8"
    assert Wrapped([1]).body == b'{"data":[1]}'
    assert JSONResponse("text").body == b'"text"'
    plain = Response("x", headers={})
    assert (plain.status_code, plain.background, plain.raw_headers) == (200, None, [(b"content-length", b"1")])
    created = JSONResponse({}, status_code=201, media_type="application/vnd.x+json")
    assert (created.status_code, created.headers["content-type"]) == (201, "application/vnd.x+json")
    assert Response(None, status_code=204).raw_headers == []


def test_subclass_with_its_own_init_gets_its_own_media_type_charset_and_defaults() -> None:
    class Csv(PlainTextResponse):  # reaches PlainTextResponse's __init__ through super()
        media_type = "text/csv"

        def __init__(self, rows: list[list[str]]) -> None:
            super().__init__("\n".join(",".join(row) for row in rows))

    class Latin(PlainTextResponse):
        def __init__(self, content: str) -> None:
            self.charset = "latin-1"  # set on the instance before Response's __init__ runs
            super().__init__(content)

    class Csv2(Csv):  # below a class with an __init__ of its own: that one still runs
        media_type = "text/tab-separated-values"

    class Created(JSONResponse):  # a class default of its own: the common call keeps it
        background = BackgroundTask(lambda: None)

    csv = Csv([["a", "b"], ["1", "2"]])
    assert (csv.body, csv.headers["content-type"]) == (b"a,b\n1,2", "text/csv; charset=utf-8")
    latin = Latin("café")
    assert (latin.body, latin.headers["content-type"]) == ("café".encode("latin-1"), "text/plain; charset=latin-1")
    assert Csv2([["x"]]).headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    assert Created({"a": 1}).background is Created.background
    assert str(inspect.signature(PlainTextResponse)) == str(inspect.signature(Response))
    assert list(inspect.signature(JSONResponse).parameters) == [
        "content", "status_code", "headers", "media_type", "background",
    ]
    assert typing.get_type_hints(PlainTextResponse.__init__)["headers"] == (Mapping[str, str] | None)


# ------------------------------------------------------------- as a WebSocket denial response


def _deny_with(response: ASGIApp) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await response(scope, receive, send)  # a response given the WebSocket scope: it answers the handshake

    return app


async def _chunks() -> AsyncIterator[bytes]:
    yield b"not "
    yield b"here"


@pytest.mark.parametrize(
    ("response", "body"),
    [
        (PlainTextResponse("not here", status_code=404), "not here"),
        (StreamingResponse(_chunks(), status_code=404, media_type="text/plain"), "not here"),
    ],
)
def test_a_response_in_a_websocket_scope_is_a_denial_response(response: Response, body: str) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied:
        with TestClient(_deny_with(response)).websocket_connect("/"):
            pass  # pragma: no cover - denied
    assert denied.value.status_code == 404
    assert denied.value.text == body


def test_a_file_response_in_a_websocket_scope_sends_the_denial_messages(data_file: Path) -> None:
    messages = call_app(FileResponse(data_file), websocket_scope(extensions={"websocket.http.response": {}}))
    assert {message["type"] for message in messages} == {"websocket.http.response.start", "websocket.http.response.body"}
    bodies = [message.get("body", b"") for message in messages if message["type"] == "websocket.http.response.body"]
    assert b"".join(bodies) == DATA


def test_media_types_a_client_made_up_are_not_kept() -> None:
    """Encoded content types are cached, but an app passing on a client's media type (a stored upload's)
    must not grow that cache with every new one: 300 new 20 KB types kept 6 MB."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(300):
            response = PlainTextResponse("x", media_type=f"text/x-{number}-" + "y" * 20_000)
            assert response.headers["content-type"].endswith("; charset=utf-8")
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 500_000


def test_a_location_or_disposition_given_in_headers_is_sent_once(data_file: Path) -> None:
    # Both were sent twice: the caller's and the response's own (Starlette sends one of each).
    redirect = RedirectResponse("/new", headers={"Location": "/old", "X-Kept": "1"})
    assert [name for name, _ in redirect.raw_headers].count(b"location") == 1
    assert dict(redirect.raw_headers)[b"location"] == b"/new"  # the url argument is the location
    assert dict(redirect.raw_headers)[b"x-kept"] == b"1"
    given = 'attachment; filename="report.csv"'
    file = FileResponse(data_file, filename="data.bin", headers={"Content-Disposition": given})
    dispositions = [value for name, value in file.raw_headers if name == b"content-disposition"]
    assert dispositions == [given.encode()]  # the caller's wins


@pytest.mark.parametrize("content", [3, [104, 105], 2.5])
def test_content_that_is_no_text_nor_bytes_is_refused(content: object) -> None:
    # Response(3) sent three NUL bytes with a 200 (bytes(3)); Starlette fails on it too (a 500).
    with pytest.raises(TypeError, match="content must be str, bytes or memoryview"):
        Response(content)  # type: ignore[arg-type]  # the mistake under test


def test_json_response_encodes_subclasses_of_str_int_and_float_as_their_base() -> None:
    # msgspec refuses them (a 500 for markupsafe's Markup or a `class UserId(str)`); json.dumps, Starlette's, takes them.
    class UserId(str):
        pass

    class Count(int):
        pass

    class Ratio(float):
        pass

    response = JSONResponse({"user": UserId("u1"), "n": Count(3), "r": Ratio(0.5)})
    assert response.body == b'{"user":"u1","n":3,"r":0.5}'
    with pytest.raises(TypeError, match="Encoding objects of type object is unsupported"):
        JSONResponse({"x": object()})

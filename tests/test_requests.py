from __future__ import annotations

import asyncio
import gzip
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import Address, State
from typedasgi.exceptions import ClientDisconnect, HTTPException, MalformedBody
from typedasgi.requests import HTTPConnection, Request, cookie_parser
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Route
from typedasgi.testclient import TestClient
from typedasgi.types import HTTPScope, ReceiveEvent

from tests.support import body_receiver, http_scope


def scope(method: str = "GET", state: dict[str, Any] | None = None) -> HTTPScope:
    """A rich request: https, a query string, repeated headers and cookies."""
    return http_scope(
        method,
        "/a/b",
        scheme="https",
        query_string=b"x=1&x=2&y=%20z",
        headers=[(b"host", b"example.org"), (b"x-multi", b"1"), (b"x-multi", b"2"), (b"cookie", b"a=1; b=\"two\"")],
        client=("10.0.0.1", 5000),
        server=("example.org", 443),
        extensions={},
        state=state,
    )


def test_connection_properties_are_lazy_and_correct() -> None:
    request = Request(scope())
    assert request.method == "GET"
    assert str(request.url) == "https://example.org/a/b?x=1&x=2&y=%20z"
    assert str(request.base_url) == "https://example.org/"
    assert request.headers["X-Multi"] == "1"
    assert request.headers.getlist("x-multi") == ["1", "2"]
    assert request.query_params.getlist("x") == ["1", "2"]
    assert request.query_params["y"] == " z"
    assert request.cookies == {"a": "1", "b": "two"}
    assert request.client == Address("10.0.0.1", 5000)
    assert request.path_params == {}
    assert isinstance(request.state, State)


def test_headers_are_immutable() -> None:
    request = Request(scope())
    with pytest.raises(TypeError):
        request.headers["x"] = "y"  # type: ignore[index]  # immutability under test


def test_state_is_shared_through_the_scope() -> None:
    s = scope(state={"db": "conn"})
    request = Request(s)
    assert request.state.db == "conn"
    request.state.user = "ada"
    assert Request(s).state.user == "ada"


def test_every_cookie_header_line_is_read() -> None:
    """HTTP/2 clients may send one ``cookie`` line per cookie; a later line wins a repeated name."""
    request = Request(http_scope(headers=[(b"cookie", b"a=1; b=2"), (b"x", b"y"), (b"cookie", b"c=3; a=4")]))
    assert request.cookies == {"a": "4", "b": "2", "c": "3"}


def test_cookie_parser_is_lenient() -> None:
    assert cookie_parser("a=1; ; b = 2 ;c=\"x y\"; flag") == {"a": "1", "b": "2", "c": "x y", "": "flag"}
    assert cookie_parser("") == {}


def test_quoted_cookie_values_are_unescaped_as_the_stdlib_does() -> None:
    """Octal escapes and backslash-quoted characters are read; a backslash before a newline stays."""
    assert cookie_parser('a="\\012\\"x\\\\"; b="\\8\\0"; c="\\\n"; d="x') == {
        "a": '\n"x\\', "b": "80", "c": "\\\n", "d": '"x'
    }


def test_body_stream_and_json() -> None:
    async def run() -> None:
        request = Request(scope(method="POST"), body_receiver(b'{"a":', b" [1, 2]}"))
        assert await request.body() == b'{"a": [1, 2]}'
        assert await request.json() == {"a": [1, 2]}
        assert [c async for c in request.stream()] == [b'{"a": [1, 2]}', b""]  # the end is an empty chunk

        class Model(msgspec.Struct):
            a: list[int]

        assert await Request(scope(), body_receiver(b'{"a": [3]}')).json(Model) == Model(a=[3])
        with pytest.raises(MalformedBody) as info:
            await Request(scope(), body_receiver(b'{"a": "x"}')).json(Model)
        assert info.value.status_code == 400

    asyncio.run(run())


class GzipRequest(Request):
    """Starlette's (and FastAPI's) documented pattern: a subclass decoding the body, keyed on ``hasattr(self, "_body")``."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            body = await super().body()
            if "gzip" in self.headers.getlist("Content-Encoding"):
                body = gzip.decompress(body)
            self._body = body
        return self._body


def test_body_attribute_exists_once_read_as_starlette_code_expects() -> None:
    async def run() -> None:
        request = Request(scope(method="POST"), body_receiver(b"abc"))
        assert not hasattr(request, "_body")  # error reporters ask this before reading it
        assert await request.body() == b"abc"
        assert request._body == b"abc"

        zipped = GzipRequest(http_scope("POST", headers={"content-encoding": "gzip"}), body_receiver(gzip.compress(b'{"a": 1}')))
        assert await zipped.json() == {"a": 1}  # json() reads through the subclass's body()
        assert await zipped.body() == b'{"a": 1}'

        injected = Request(scope(method="POST"), body_receiver(b"from the client"))
        injected._body = b"set by a middleware"  # what code written for Starlette does to replace a body
        assert await injected.body() == b"set by a middleware"
        assert [c async for c in injected.stream()] == [b"set by a middleware", b""]

    asyncio.run(run())


def test_a_gzip_request_subclass_through_the_app() -> None:
    async def endpoint(request: Request) -> Response:
        return JSONResponse(await GzipRequest(request.scope, request.receive).json())

    client = TestClient(TypedASGI(routes=[Route("/", endpoint, methods=["POST"])]))
    answer = client.post("/", content=gzip.compress(b'{"b": 2}'), headers={"content-encoding": "gzip"})
    assert answer.json() == {"b": 2}


def test_stream_twice_is_an_error_and_disconnect_raises() -> None:
    async def run() -> None:
        request = Request(scope(), body_receiver(b"a", b"b"))
        assert [c async for c in request.stream()] == [b"a", b"b", b""]  # as in Starlette: b"" marks the end
        with pytest.raises(RuntimeError, match="Stream consumed"):
            [c async for c in request.stream()]

        async def disconnect() -> ReceiveEvent:
            return {"type": "http.disconnect"}

        with pytest.raises(ClientDisconnect):
            await Request(scope(), disconnect).body()

    asyncio.run(run())


def test_connection_is_a_mapping_over_its_scope() -> None:
    s = scope()
    request = Request(s)
    assert isinstance(request, Mapping)
    assert request["path"] == "/a/b" and request.get("method") == "GET" and request.get("nope") is None
    assert set(request) == set(s) and len(request) == len(s)
    assert request == request and request != Request(s)  # equal only to itself
    assert len({request, Request(s)}) == 2


def test_form_is_awaitable_or_an_async_context_manager_closing_uploads() -> None:
    boundary = "xyz"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\ndata\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    headers = [(b"content-type", f"multipart/form-data; boundary={boundary}".encode())]

    async def run() -> None:
        async with Request(http_scope("POST", headers=headers), body_receiver(body)).form() as form:
            upload = form["f"]
            assert not isinstance(upload, str)
            assert await upload.read() == b"data"
        assert upload.file.closed
        awaited = await Request(http_scope("POST", headers=headers), body_receiver(body)).form()
        upload = awaited["f"]
        assert not isinstance(upload, str) and not upload.file.closed
        await awaited.close()

    asyncio.run(run())


def test_is_disconnected() -> None:
    async def run() -> None:
        async def disconnect() -> ReceiveEvent:
            return {"type": "http.disconnect"}

        assert await Request(scope(), disconnect).is_disconnected() is True

        async def never() -> ReceiveEvent:
            await asyncio.sleep(10)
            raise AssertionError("not reached")

        assert await Request(scope(), never).is_disconnected() is False

    asyncio.run(run())


def test_request_through_the_app() -> None:
    async def info(request: Request) -> Response:
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "client": request.client.host if request.client else None,
                "body": (await request.body()).decode(),
                "agent": request.headers.get("user-agent"),
            }
        )

    client = TestClient(TypedASGI(routes=[Route("/info", info, methods=["GET", "POST"])]))
    data = client.post("/info?q=1", content=b"hello", headers={"user-agent": "t"}).json()
    assert data == {"method": "POST", "path": "/info", "query": {"q": "1"}, "client": "testclient", "body": "hello", "agent": "t"}


def test_session_and_auth_need_their_middleware() -> None:
    connection = HTTPConnection(scope())
    with pytest.raises(AssertionError, match="SessionMiddleware"):
        connection.session
    with pytest.raises(AssertionError, match="AuthenticationMiddleware"):
        connection.user


def test_form_urlencoded() -> None:
    async def form(request: Request) -> Response:
        data = await request.form()
        return PlainTextResponse(",".join(f"{k}={v}" for k, v in data.multi_items()))

    client = TestClient(TypedASGI(routes=[Route("/", form, methods=["POST"])]))
    assert client.post("/", data={"a": "1", "b": ["2", "3"]}).text == "a=1,b=2,b=3"


def test_uploads_are_closed_when_the_request_ends() -> None:
    seen: list[object] = []

    async def upload(request: Request) -> Response:
        form = await request.form()
        seen.append(form["file"])
        return PlainTextResponse("ok")

    client = TestClient(TypedASGI(routes=[Route("/", upload, methods=["POST"])]))
    assert client.post("/", files={"file": ("a.txt", b"hello")}).text == "ok"
    from typedasgi.datastructures import UploadFile

    assert isinstance(seen[0], UploadFile) and seen[0].file.closed


async def _never_received() -> ReceiveEvent:
    raise AssertionError("a body refused by its declared length must not be received")


@pytest.mark.parametrize(
    "headers",
    [
        [(b"host", b"a"), (b"content-length", b"101"), (b"content-type", b"text/plain")],  # as httpx orders them
        [(b"Content-Length", b"101")],  # a hand-built scope's name in upper case
        ((b"content-length", b"101"),),  # a tuple, not a list
        [(b"content-length", b"1" * 30)],  # more digits than any limit
        [(b"content-length", b"1" * 5000)],  # more digits than int() converts: a 413 too, not a 500
        [(b"content-length", b"0" * 5000 + b"101")],  # as many, mostly leading zeros
    ],
)
def test_a_declared_length_past_the_limit_is_refused_before_any_receive(headers: Any) -> None:
    async def run() -> None:
        request = Request(http_scope("POST", headers=headers, max_body_size=100), _never_received)
        with pytest.raises(HTTPException) as info:
            await request.body()
        assert info.value.status_code == 413

    asyncio.run(run())


@pytest.mark.parametrize("declared", [b"100", b"99", b"0100", b"0" * 5000 + b"100", b"not-a-number", b""])
def test_a_declared_length_within_the_limit_or_unreadable_is_read(declared: bytes) -> None:
    """Only a number past the limit refuses early; the bytes that arrive are what the limit counts."""

    async def run() -> None:
        scope = http_scope("POST", headers=[(b"content-length", declared)], max_body_size=100)
        assert await Request(scope, body_receiver(b"x" * 100)).body() == b"x" * 100
        with pytest.raises(HTTPException) as info:
            await Request(http_scope("POST", headers=[(b"content-length", declared)], max_body_size=100),
                          body_receiver(b"x" * 60, b"x" * 41)).body()
        assert info.value.status_code == 413

    asyncio.run(run())


def test_body_after_part_of_the_stream_gets_the_rest() -> None:
    async def run() -> None:
        request = Request(http_scope("POST"), body_receiver(b"a", b"b", b"c"))
        chunks = request.stream()
        assert await anext(chunks) == b"a"
        assert await request.body() == b"bc"  # what the stream had not yet given
        assert await request.body() == b"bc"  # and kept

    asyncio.run(run())


class _Item(msgspec.Struct):
    name: str


@pytest.mark.parametrize(
    "type_",
    [list[_Item], Annotated[list[_Item], {"not": ["hashable"]}]],  # a generic alias; an annotation no dict can key
)
def test_json_into_a_generic_type_decodes_and_refuses_a_wrong_shape(type_: Any) -> None:
    async def run() -> None:
        for _ in range(2):  # the second read uses the decoder kept from the first
            request = Request(http_scope("POST"), body_receiver(b'[{"name": "a"}, {"name": "b"}]'))
            assert await request.json(type_) == [_Item("a"), _Item("b")]
        with pytest.raises(MalformedBody) as info:
            await Request(http_scope("POST"), body_receiver(b'[{"name": 1}]')).json(type_)
        assert info.value.status_code == 400 and "Expected `str`, got `int`" in str(info.value.detail)

    asyncio.run(run())


def test_a_body_trickled_in_tiny_messages_is_gathered_in_memory_near_its_size() -> None:
    """100,000 two-byte messages (200 KB): a list of chunks peaked at 12.5 MB; the buffer holds the bytes."""
    import tracemalloc

    messages = 100_000

    async def run() -> int:
        sent = 0

        async def receive() -> ReceiveEvent:
            nonlocal sent
            sent += 1  # each chunk a new bytes object, as a server's reads are
            return {"type": "http.request", "body": b"%02d" % (sent % 100), "more_body": sent < messages}

        request = Request(http_scope("POST"), receive)
        tracemalloc.start()
        try:
            body = await request.body()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert len(body) == 2 * messages
        return peak

    peak = asyncio.run(run())
    assert peak < 4 * 2 * messages, peak  # the buffer and the final copy, with room to spare


def test_malformed_json_is_a_value_error_as_starlette_apps_catch_it() -> None:
    """Starlette's ``json()`` raises ``json.JSONDecodeError``; apps (Ariadne's GraphQL handler among them)
    answer it with their own error by catching ``ValueError``. Here it still is one, besides a 400."""

    async def graphql(request: Request) -> Response:
        try:
            return JSONResponse({"got": await request.json()})
        except ValueError:
            return JSONResponse({"errors": ["Request body is not a valid JSON"]}, status_code=400)

    client = TestClient(TypedASGI(routes=[Route("/", graphql, methods=["POST"])]))
    assert client.post("/", content=b'{"a": 1}').json() == {"got": {"a": 1}}
    for body in (b"not json", b'{"a": 1', "\"caf\u00e9\"".encode("latin-1")):  # bad syntax, truncated, not UTF-8
        response = client.post("/", content=body)
        assert (response.status_code, response.text) == (400, '{"errors":["Request body is not a valid JSON"]}')

"""Starlette's API kept for migrated code: what the names do, through the public API."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest

from typedasgi.applications import Starlette, TypedASGI
from typedasgi.concurrency import run_until_first_complete
from typedasgi.config import Config, undefined
from typedasgi.datastructures import Headers
from typedasgi.endpoints import HTTPEndpoint
from typedasgi.exceptions import StarletteDeprecationWarning, TypedASGIDeprecationWarning
from typedasgi.formparsers import FormMessage, FormParser, MultiPartException, MultiPartParser
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Mount, Route, Router, replace_params
from typedasgi.convertors import CONVERTOR_TYPES
from typedasgi.schemas import OpenAPIResponse, SchemaGenerator
from typedasgi.staticfiles import NotModifiedResponse
from typedasgi.testclient import TestClient
from typedasgi.websockets import WebSocket, WebSocketDisconnected
from typedasgi.middleware import Middleware
from typedasgi.types import ASGIApp, Receive, Scope, Send

with pytest.warns(TypedASGIDeprecationWarning, match="typedasgi.middleware.wsgi is deprecated"):
    wsgi = importlib.reload(importlib.import_module("typedasgi.middleware.wsgi"))


def test_starlette_is_the_app_class_and_its_warning_the_same_class() -> None:
    assert Starlette is TypedASGI
    assert StarletteDeprecationWarning is TypedASGIDeprecationWarning
    assert issubclass(StarletteDeprecationWarning, UserWarning)  # shown without -W, as Starlette's


# ------------------------------------------------------------------ concurrency


def test_run_until_first_complete_cancels_the_others_before_their_next_step() -> None:
    first_done = asyncio.Event()
    second_finished: list[bool] = []

    async def first() -> None:
        first_done.set()

    async def second(label: str) -> None:
        await first_done.wait()
        await asyncio.sleep(0)
        second_finished.append(label == "x")

    async def main() -> None:
        with pytest.warns(TypedASGIDeprecationWarning, match="run_until_first_complete is deprecated"):
            await run_until_first_complete((first, {}), (second, {"label": "x"}))

    asyncio.run(main())
    assert first_done.is_set()
    assert second_finished == []


def test_run_until_first_complete_raises_the_first_error() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    async def forever() -> None:
        await asyncio.Event().wait()

    async def main() -> None:
        with pytest.warns(TypedASGIDeprecationWarning), pytest.raises(ValueError, match="boom"):
            await run_until_first_complete((fails, {}), (forever, {}))

    asyncio.run(main())


# ------------------------------------------------------------------ config, routing, responses


def test_config_undefined_means_no_default() -> None:
    config = Config(environ={"PRESENT": "1"})
    assert config("PRESENT", cast=int, default=undefined) == 1
    with pytest.raises(KeyError):
        config("ABSENT", default=undefined)


def test_replace_params_fills_known_slots_and_returns_the_rest() -> None:
    convertors = {"id": CONVERTOR_TYPES["int"], "name": CONVERTOR_TYPES["str"]}
    params: dict[str, Any] = {"id": 7, "other": "x"}
    path, rest = replace_params("/users/{id}/{name}", convertors, params)
    assert (path, rest) == ("/users/7/{name}", {"other": "x"})


def test_not_modified_response_keeps_only_the_headers_a_304_may_carry() -> None:
    response = NotModifiedResponse(Headers({"etag": '"abc"', "content-length": "10", "vary": "Accept"}))
    assert response.status_code == 304
    assert dict(response.headers) == {"etag": '"abc"', "vary": "Accept"}


# ------------------------------------------------------------------ websockets


def test_using_a_websocket_after_the_disconnect_is_websocket_disconnected() -> None:
    seen: list[str] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        message = await websocket.receive()
        assert message["type"] == "websocket.disconnect"
        try:
            await websocket.receive()
        except WebSocketDisconnected as exc:
            seen.append(type(exc).__mro__[1].__name__)

    app = Router(routes=[])
    app.add_websocket_route("/ws", endpoint)
    with TestClient(app).websocket_connect("/ws") as session:
        session.close()
    assert seen == ["RuntimeError"]


# ------------------------------------------------------------------ form parsers


async def _chunks(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def test_form_parser_parses_urlencoded_chunks() -> None:
    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    form = asyncio.run(FormParser(headers, _chunks(b"a=1&b", b"=two+words")).parse())
    assert form.multi_items() == [("a", "1"), ("b", "two words")]


def test_form_parser_limits_raise_multipart_exception_a_400() -> None:
    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    with pytest.raises(MultiPartException) as caught:
        asyncio.run(FormParser(headers, _chunks(b"a=1&b=2&c=3"), max_fields=2).parse())
    assert caught.value.status_code == 400
    assert "2" in caught.value.message


def test_form_parser_stops_inside_one_huge_chunk_and_keeps_starlettes_counters() -> None:
    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    many = FormParser(headers, _chunks(b"&".join(b"f%d=" % i for i in range(10_000))), max_fields=10)
    with pytest.raises(MultiPartException, match="Too many fields"):
        asyncio.run(many.parse())
    assert many._current_fields == 11  # Starlette's counter: the field over the limit counted, none after it

    big = FormParser(headers, _chunks(b"field=" + b"x" * 1_000_000), max_part_size=1024)
    with pytest.raises(MultiPartException, match="Field exceeded maximum size"):
        asyncio.run(big.parse())
    assert len(big._field_value) <= 1024  # the over-long value was never copied into the buffer


def test_multipart_parser_parses_fields_and_files() -> None:
    boundary = "xyz"
    body = (
        b"--xyz\r\ncontent-disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
        b"--xyz\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
        b"content-type: text/plain\r\n\r\nfile body\r\n--xyz--\r\n"
    )
    headers = Headers({"content-type": f"multipart/form-data; boundary={boundary}"})

    async def parse() -> tuple[str, bytes]:
        form = await MultiPartParser(headers, _chunks(body[:30], body[30:])).parse()
        upload = form["file"]
        assert not isinstance(upload, str)
        content = await upload.read()
        await form.close()
        field = form["field"]
        assert isinstance(field, str)
        return field, content

    assert asyncio.run(parse()) == ("value", b"file body")
    assert MultiPartParser.spool_max_size == 1024 * 1024


def test_form_message_warns_on_use() -> None:
    with pytest.warns(TypedASGIDeprecationWarning, match="`FormMessage` is deprecated"):
        assert FormMessage(1).name == "FIELD_START"


def test_a_form_limit_inside_an_app_is_a_400_answer() -> None:
    async def endpoint(request: Request) -> Response:
        await request.form(max_fields=1)
        return PlainTextResponse("unreachable")

    response = TestClient(TypedASGI(routes=[Route("/", endpoint, methods=["POST"])])).post(
        "/", data={"a": "1", "b": "2"}
    )
    assert response.status_code == 400


# ------------------------------------------------------------------ schemas


def list_users(request: Request) -> Response:
    """
    List the users.
    ---
    responses:
      200:
        description: The users.
    """
    return PlainTextResponse("users")


def undocumented(request: Request) -> Response:
    """Plain prose is not a schema."""
    return PlainTextResponse("")


class Orgs(HTTPEndpoint):
    def get(self, request: Request) -> Response:
        """
        responses:
          200:
            description: The organisations.
        """
        return PlainTextResponse("orgs")


schemas = SchemaGenerator({"openapi": "3.1.0", "info": {"title": "Example", "version": "1"}})


def test_schema_generator_reads_docstring_yaml_through_mounts() -> None:
    routes = [
        Route("/users/{id:int}", list_users, methods=["GET", "POST"]),
        Route("/plain", undocumented),
        Route("/hidden", list_users, include_in_schema=False),
        Mount("/api", routes=[Route("/orgs", Orgs)]),
    ]
    schema = schemas.get_schema(routes)
    assert schema["paths"] == {
        "/users/{id}": {
            "get": {"responses": {200: {"description": "The users."}}},
            "post": {"responses": {200: {"description": "The users."}}},
        },
        "/api/orgs": {"get": {"responses": {200: {"description": "The organisations."}}}},
    }


def test_schema_endpoint_answers_yaml() -> None:
    app = TypedASGI(
        routes=[
            Route("/users", list_users),
            Route("/schema", schemas.OpenAPIResponse, include_in_schema=False),
        ]
    )
    response = TestClient(app).get("/schema")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.oai.openapi"
    assert "description: The users." in response.text
    assert isinstance(OpenAPIResponse({"a": 1}).body, bytes)


# ------------------------------------------------------------------ WSGI


StartResponse = Callable[..., Any]


def echo(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Path", environ["PATH_INFO"])])
    return [b"got ", body]


def fails_after_answering(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    try:
        raise RuntimeError("wsgi failure")
    except RuntimeError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"Internal Server Error"]


def test_wsgi_middleware_serves_a_wsgi_app_mounted_under_a_prefix() -> None:
    app = TypedASGI(routes=[Mount("/legacy", app=wsgi.WSGIMiddleware(echo))])
    response = TestClient(app).post("/legacy/a/b", content=b"payload")
    assert response.status_code == 201
    assert response.text == "got payload"
    assert response.headers["x-path"] == "/a/b"


def test_wsgi_exc_info_answers_then_raises() -> None:
    with pytest.raises(RuntimeError, match="wsgi failure"):
        TestClient(wsgi.WSGIMiddleware(fails_after_answering)).get("/")
    response = TestClient(wsgi.WSGIMiddleware(fails_after_answering), raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def test_wsgi_body_over_the_limit_is_413() -> None:
    app = TypedASGI(routes=[Mount("/", app=wsgi.WSGIMiddleware(echo))], max_body_size=4)
    response = TestClient(app).post("/", content=b"too long")
    assert response.status_code == 413


def test_build_environ_reads_a_minimal_scope_with_spec_defaults() -> None:
    environ = wsgi.build_environ({"type": "http", "path": "/x"}, b"")
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["QUERY_STRING"] == ""
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("localhost", 80)
    assert "REMOTE_ADDR" not in environ


def test_a_query_string_that_is_not_ascii_reaches_the_wsgi_app_as_latin_1() -> None:
    """Servers may pass raw bytes past ASCII in the query (uvicorn refuses them; others need not): PEP 3333
    gives them to the app as latin-1, not a UnicodeDecodeError 500."""
    raw = "a=\u00e9".encode()
    environ = wsgi.build_environ({"type": "http", "path": "/", "query_string": raw}, b"")
    assert environ["QUERY_STRING"].encode("latin-1") == raw


def test_a_header_name_with_an_underscore_is_dropped() -> None:
    """CGI keys cannot tell ``_`` from ``-``: a client's ``X_Remote_User`` would be read as the ``X-Remote-User``
    an authenticating proxy sets (or joined to it), so it is dropped, as gunicorn, Django and Werkzeug do."""
    headers = [(b"x-remote-user", b"alice"), (b"x_remote_user", b"admin"), (b"content_length", b"999")]
    environ = wsgi.build_environ({"type": "http", "path": "/", "headers": headers}, b"")
    assert environ["HTTP_X_REMOTE_USER"] == "alice"
    assert "HTTP_CONTENT_LENGTH" not in environ and "CONTENT_LENGTH" not in environ
    only_ours = wsgi.build_environ({"type": "http", "path": "/", "headers": [(b"x_remote_user", b"admin")]}, b"")
    assert "HTTP_X_REMOTE_USER" not in only_ours


# ------------------------------------------------------------------ exception handlers


class BadBody(Exception):
    pass


async def reads_then_fails(request: Request) -> Response:
    await request.body()
    raise BadBody()


async def handler_reads_again(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(b"handler saw " + await request.body(), status_code=422)


@pytest.mark.parametrize("middleware", [False, True], ids=["app frame", "exception middleware"])
def test_an_exception_handler_gets_the_failed_endpoints_request_with_its_body(middleware: bool) -> None:
    app = TypedASGI(
        routes=[Route("/", reads_then_fails, methods=["POST"])],
        exception_handlers={BadBody: handler_reads_again},
        middleware=[Middleware(PassThrough)] if middleware else [],
    )
    response = TestClient(app).post("/", content=b"payload")
    assert (response.status_code, response.text) == (422, "handler saw payload")


class PassThrough:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

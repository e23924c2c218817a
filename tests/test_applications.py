from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import traceback
from collections.abc import AsyncIterator

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException
from typedasgi.middleware import Middleware
from typedasgi.middleware.errors import CENTER_LINE, FRAME_TEMPLATE, JS, LINE, STYLES, TEMPLATE
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from typedasgi.routing import Route
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Receive, Scope, Send, SendEvent

from tests.support import Message, TagResponses, body_receiver, call_app, http_scope


def test_hello_world_decorator_and_sync_endpoint_runs_off_the_loop() -> None:
    app = TypedASGI()
    seen: list[str] = []

    @app.route("/")
    def homepage(request: Request) -> Response:
        seen.append(threading.current_thread().name)
        return JSONResponse({"hello": "world"})

    client = TestClient(app)
    response = client.get("/")
    assert response.json() == {"hello": "world"}
    assert response.headers["content-type"] == "application/json"
    assert seen and seen[0] != threading.main_thread().name
    assert homepage.__name__ == "homepage"  # the decorator returns the function


def test_response_used_alone_as_asgi_app() -> None:
    client = TestClient(PlainTextResponse("Hello, world!"))
    assert client.get("/anything").text == "Hello, world!"


def test_http_exception_default_and_custom_handlers() -> None:
    async def teapot(request: Request) -> Response:
        raise HTTPException(418, "short and stout", headers={"X-Pot": "1"})

    async def forbidden(request: Request) -> Response:
        raise HTTPException(403)

    class Boom(Exception):
        pass

    async def boom(request: Request) -> Response:
        raise Boom("bad")

    async def on_403(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    def on_boom(request: Request, exc: Boom) -> Response:
        return PlainTextResponse(f"handled {exc}", status_code=409)

    app = TypedASGI(
        routes=[Route("/teapot", teapot), Route("/forbidden", forbidden), Route("/boom", boom)],
        exception_handlers={403: on_403, Boom: on_boom},
    )
    client = TestClient(app)
    response = client.get("/teapot")
    assert (response.status_code, response.text, response.headers["x-pot"]) == (418, "short and stout", "1")
    assert client.get("/forbidden").json() == {"detail": "Forbidden"}
    response = client.get("/boom")
    assert (response.status_code, response.text) == (409, "handled bad")


def test_custom_404_handler() -> None:
    app = TypedASGI()

    @app.exception_handler(404)
    async def not_found(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"missing": request.url.path}, status_code=404)

    assert TestClient(app).get("/x").json() == {"missing": "/x"}


def test_server_error_is_500_without_traceback_and_reraised() -> None:
    async def crash(request: Request) -> Response:
        raise RuntimeError("secret internals")

    app = TypedASGI(routes=[Route("/crash", crash)])
    with pytest.raises(RuntimeError, match="secret internals"):
        TestClient(app).get("/crash")
    response = TestClient(app, raise_server_exceptions=False).get("/crash")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "secret" not in response.text


def test_debug_shows_traceback_page() -> None:
    async def crash(request: Request) -> Response:
        raise RuntimeError("look <here>")

    app = TypedASGI(debug=True, routes=[Route("/crash", crash)])
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/crash", headers={"accept": "text/html"})
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "<h2>RuntimeError: look &lt;here&gt;</h2>" in page.text  # escaped: the message is not markup
    frames = page.text.split('<div class="frame">')[1:]
    assert "<b>crash</b>" in frames[0] and 'class="source-code "' in frames[0]  # innermost first, and open
    assert all('class="source-code collapsed"' in frame for frame in frames[1:])
    assert 'raise RuntimeError(&quot;look &lt;here&gt;&quot;)' in frames[0].split('class="center-line"')[1]
    assert '<pre class="full-traceback">Traceback (most recent call last)' in page.text
    plain = client.get("/crash")
    assert plain.text.startswith("Traceback") and "look <here>" in plain.text


def test_debug_page_templates_take_starlettes_fields() -> None:
    """Code written against Starlette builds pages from these names with these fields."""
    line = LINE.format(lineno=3, line="x = 1") + CENTER_LINE.format(lineno=4, line="boom()")
    frame = FRAME_TEMPLATE.format(
        frame_filename="app.py", frame_lineno=4, frame_name="view", collapse_button="+", collapsed="",
        code_context=line,
    )
    page = TEMPLATE.format(styles=STYLES, js=JS, error="ValueError: x", exc_html=frame)
    assert "app.py" in page and "boom()" in page and "ValueError: x" in page and "<script>" in page


def test_500_handler() -> None:
    async def crash(request: Request) -> Response:
        raise ValueError("x")

    async def on_error(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("custom error", status_code=500)

    app = TypedASGI(routes=[Route("/crash", crash)], exception_handlers={500: on_error})
    response = TestClient(app, raise_server_exceptions=False).get("/crash")
    assert response.text == "custom error"


def test_500_handler_hears_of_an_error_after_the_response_started() -> None:
    """Error reporting hangs on the 500 handler: a stream that breaks halfway must reach it too (its
    response is dropped, and the error still cuts the connection)."""
    reported: list[str] = []

    async def broken_chunks() -> AsyncIterator[bytes]:
        yield b"first"
        raise ValueError("halfway")

    async def stream(request: Request) -> Response:
        return StreamingResponse(broken_chunks())

    async def report(request: Request, exc: Exception) -> Response:
        reported.append(f"{request.url.path}: {exc}")
        return PlainTextResponse("never sent", status_code=500)

    app = TypedASGI(routes=[Route("/stream", stream)], exception_handlers={Exception: report})
    with pytest.raises(ValueError, match="halfway"):
        TestClient(app).get("/stream")
    assert reported == ["/stream: halfway"]


def test_endpoint_returning_non_response_names_it() -> None:
    async def wrong(request: Request) -> Response:
        return {"not": "a response"}  # type: ignore[return-value]  # the mistake under test

    app = TypedASGI(routes=[Route("/wrong", wrong)])
    with pytest.raises(TypeError, match=r"test_applications\..*wrong returned dict"):
        TestClient(app).get("/wrong")


def test_server_keeps_serving_after_a_failure() -> None:
    calls = {"n": 0}

    async def flaky(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("first call fails")
        return PlainTextResponse("ok")

    client = TestClient(TypedASGI(routes=[Route("/", flaky)]), raise_server_exceptions=False)
    assert client.get("/").status_code == 500
    assert client.get("/").text == "ok"



def test_middleware_order_first_is_outermost() -> None:
    app = TypedASGI(routes=[Route("/", lambda request: PlainTextResponse("x"))], middleware=[Middleware(TagResponses, name="outer", header="x-order"), Middleware(TagResponses, name="inner", header="x-order")])
    app.add_middleware(TagResponses, name="added", header="x-order")
    response = TestClient(app).get("/")
    # inner adds first on the way out, the outermost last
    assert response.headers.get_list("x-order") == ["inner", "outer", "added"]
    with pytest.raises(RuntimeError, match="after the application has started"):
        app.add_middleware(TagResponses, name="late", header="x-order")


def test_lifespan_state_reaches_requests() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: TypedASGI) -> AsyncIterator[dict[str, object]]:
        events.append("startup")
        yield {"greeting": "hi"}
        events.append("shutdown")

    async def read(request: Request) -> Response:
        return PlainTextResponse(str(request.state.greeting))

    app = TypedASGI(routes=[Route("/", read)], lifespan=lifespan)
    with TestClient(app) as client:
        assert events == ["startup"]
        assert client.get("/").text == "hi"
    assert events == ["startup", "shutdown"]


def test_lifespan_startup_failure_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: TypedASGI) -> AsyncIterator[None]:
        if not app.debug:  # always here: a generator that fails before it yields
            raise RuntimeError("no database")
        yield

    app = TypedASGI(lifespan=lifespan)
    with pytest.raises(Exception, match="no database"):
        with TestClient(app):
            pass


def test_a_middleware_refusing_its_options_fails_start_up() -> None:
    """As in Starlette: the stack is built at start-up, so a bad option stops the app there, not at a request."""

    class Strict:
        def __init__(self, app: ASGIApp, level: int) -> None:
            if level < 0:
                raise ValueError("level must not be negative")
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)

    app = TypedASGI()
    app.add_middleware(Strict, level=-1)
    with pytest.raises(ValueError, match="level must not be negative"):
        with TestClient(app):
            pass


def test_malformed_json_is_400_not_500() -> None:
    async def read(request: Request) -> Response:
        return JSONResponse({"got": await request.json()})

    client = TestClient(TypedASGI(routes=[Route("/", read, methods=["POST"])]))
    assert client.post("/", content=b'{"a": 1}').json() == {"got": {"a": 1}}
    bad = client.post("/", content=b'{"a": ')
    assert bad.status_code == 400
    assert "Malformed JSON" in bad.text


def test_app_wide_body_limit() -> None:
    async def read(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    client = TestClient(TypedASGI(routes=[Route("/", read, methods=["POST"])], max_body_size=100))
    assert client.post("/", content=b"x" * 100).text == "100"
    assert client.post("/", content=b"x" * 101).status_code == 413
    # a chunked body without content-length is counted while read
    def chunks() -> object:
        yield b"x" * 60
        yield b"x" * 60

    assert client.post("/", content=chunks()).status_code == 413  # type: ignore[arg-type]  # httpx2 takes iterators


def test_a_route_body_limit_wins_over_the_apps_for_its_requests_only() -> None:
    async def read(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    routes = [
        Route("/small", read, methods=["POST"], max_body_size=10),
        Route("/free", read, methods=["POST"], max_body_size=None),
        Route("/", read, methods=["POST"]),
    ]
    client = TestClient(TypedASGI(routes=routes, max_body_size=100))
    assert [client.post("/small", content=b"x" * n).status_code for n in (10, 11)] == [200, 413]
    assert client.post("/free", content=b"x" * 1000).text == "1000"
    assert [client.post("/", content=b"x" * n).status_code for n in (100, 101)] == [200, 413]  # the app's again


def test_unhandled_error_is_logged_once_and_not_re_raised(caplog: pytest.LogCaptureFixture) -> None:
    """After its complete 500 the error is logged here, not raised to the server (which would close the
    keep-alive connection, and log it a second time); the TestClient asks for it with an extension."""
    async def crash(request: Request) -> Response:
        raise RuntimeError("once")

    app = TypedASGI(routes=[Route("/", crash)])
    with caplog.at_level(logging.ERROR):
        messages = call_app(app, http_scope(headers={"host": "example.com"}))  # returns: nothing re-raised
    assert [m["status"] for m in messages if m["type"] == "http.response.start"] == [500]
    [record] = [r for r in caplog.records if r.name.startswith("typedasgi")]
    assert record.name == "typedasgi.error" and record.exc_info is not None
    assert str(record.exc_info[1]) == "once" and "GET /" in record.getMessage()
    with pytest.raises(RuntimeError, match="once"):
        TestClient(app).get("/")


def test_a_client_path_cannot_forge_a_line_of_the_error_log(caplog: pytest.LogCaptureFixture) -> None:
    """The path is logged percent-encoded, as uvicorn's access log has it: its line breaks start no new line."""
    async def crash(request: Request) -> Response:
        raise RuntimeError("once")

    app = TypedASGI(routes=[Route("/{name}", crash)])
    with caplog.at_level(logging.ERROR):
        call_app(app, http_scope(path="/x\nERROR forged line \u00e9", headers={"host": "example.com"}))
    [record] = [r for r in caplog.records if r.name == "typedasgi.error"]
    assert record.getMessage() == "Exception in GET /x%0AERROR%20forged%20line%20%C3%A9, answered 500"


class _Crash:
    """Middleware that fails for any method: the router would answer an unknown one 405 before any handler."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("once")


def test_a_client_method_cannot_put_a_terminal_escape_in_the_error_log(caplog: pytest.LogCaptureFixture) -> None:
    """An HTTP/2 ':method' may hold any byte but NUL, CR and LF (h2 checks no more), so a server can pass an
    ANSI escape on: the method is logged percent-encoded too, a token's characters kept."""
    app = TypedASGI(middleware=[Middleware(_Crash)])
    with caplog.at_level(logging.ERROR):
        call_app(app, http_scope("GET\x1b[2J\x1b]0;owned\x07 x", headers={"host": "example.com"}))
        call_app(app, http_scope("M-SEARCH", headers={"host": "example.com"}))
    escaped, token = [r.getMessage() for r in caplog.records if r.name == "typedasgi.error"]
    assert escaped == "Exception in GET%1B%5B2J%1B%5D0%3Bowned%07%20x /, answered 500"
    assert token == "Exception in M-SEARCH /, answered 500"


def test_user_error_traceback_ends_in_the_user_code() -> None:
    def fail_here() -> None:
        raise LookupError("deep inside")

    async def crash(request: Request) -> Response:
        fail_here()
        return PlainTextResponse("unreachable")

    app = TypedASGI(routes=[Route("/crash", crash)])
    with pytest.raises(LookupError) as caught:
        TestClient(app).get("/crash")
    names = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert names[-2:] == ["crash", "fail_here"]


def test_error_after_the_response_started_is_reraised_without_a_second_answer() -> None:
    async def broken_stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            raise RuntimeError("mid-stream")

        return StreamingResponse(chunks())

    app = TypedASGI(routes=[Route("/stream", broken_stream)])
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(RuntimeError, match="mid-stream"):
        asyncio.run(app(http_scope(path="/stream"), body_receiver(), send))
    assert [message.get("status") for message in sent if message["type"] == "http.response.start"] == [200]


@pytest.mark.parametrize("with_middleware", [False, True], ids=["alone", "with-middleware"])
def test_a_subclass_overriding_call_runs_once_per_request(with_middleware: bool) -> None:
    """Starlette apps subclass the app class and override ``__call__``; the override runs once, on top."""

    class Counting(TypedASGI):
        calls = 0

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]  # the plain ASGI signature, as Starlette's
            type(self).calls += 1
            await super().__call__(scope, receive, send)

    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello")

    middleware = [Middleware(TagResponses, name="x")] if with_middleware else None
    client = TestClient(Counting(routes=[Route("/", hello)], middleware=middleware))
    assert client.get("/").text == "hello"  # the first request builds the stack, then takes its path
    assert Counting.calls == 1
    assert client.get("/").text == "hello"
    assert Counting.calls == 2


def test_exception_handlers_added_with_starlettes_keyword() -> None:
    async def teapot(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("teapot", status_code=418)

    app = TypedASGI()
    app.add_exception_handler(exc_class_or_status_code=ValueError, handler=teapot)
    assert app.exception_handlers[ValueError] is teapot

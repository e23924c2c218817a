"""The pure ASGI helpers: PureASGIMiddleware, on_response_start, add_vary, start_headers, respond_early,
quick_call (and the built-in layers' use of it), tracking()."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTask
from typedasgi.datastructures import MutableHeaders
from typedasgi.middleware import Middleware
from typedasgi.middleware.cors import CORSMiddleware
from typedasgi.middleware.errors import ServerErrorMiddleware
from typedasgi.middleware.gzip import GZipMiddleware
from typedasgi.middleware.pure import (
    PureASGIMiddleware,
    add_vary,
    on_response_start,
    quick_call,
    respond_early,
    start_headers,
)
from typedasgi.middleware.tracking import TrackingSend, tracking
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response, StreamingResponse
from typedasgi.routing import Route, Router, WebSocketRoute
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.types import (
    ASGIApp,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Scope,
    Send,
    WebSocketScope,
)
from typedasgi.websockets import WebSocket

from tests.support import MessageCollector, body_receiver, http_scope


class ServerTiming(PureASGIMiddleware):
    """The module docstring's example, verbatim in spirit."""

    async def handle_http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()

        def add_header(message: HTTPResponseStartEvent, headers: MutableHeaders) -> None:
            headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"

        await self.app(scope, receive, on_response_start(send, add_header))


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("bare")(scope, receive, send)


def test_example_middleware_around_a_bare_app() -> None:
    response = TestClient(ServerTiming(bare_app)).get("/")
    assert response.text == "bare"
    assert response.headers["server-timing"].startswith("app;dur=")


def test_example_middleware_in_an_app_keeps_streaming_and_background_tasks() -> None:
    done: list[str] = []
    chunks_sent: list[int] = []

    async def numbers() -> AsyncIterator[str]:
        for number in range(3):
            chunks_sent.append(number)
            yield str(number)

    async def stream(request: Request) -> Response:
        return StreamingResponse(numbers(), background=BackgroundTask(done.append, "bg"))

    app = TypedASGI(routes=[Route("/", stream)], middleware=[Middleware(ServerTiming)])
    response = TestClient(app).get("/")
    assert response.text == "012"
    assert "server-timing" in response.headers
    assert chunks_sent == [0, 1, 2]
    assert done == ["bg"]


def test_async_callback_may_change_the_status() -> None:
    async def teapot(message: HTTPResponseStartEvent, headers: MutableHeaders) -> None:
        await asyncio.sleep(0)
        message["status"] = 418
        headers.append("x-added", "1")

    class Teapot(PureASGIMiddleware):
        async def handle_http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, on_response_start(send, teapot))

    response = TestClient(Teapot(bare_app)).get("/")
    assert (response.status_code, response.text, response.headers["x-added"]) == (418, "bare", "1")


def test_body_messages_pass_one_by_one() -> None:
    calls: list[int] = []

    def count(message: HTTPResponseStartEvent, headers: MutableHeaders) -> None:
        calls.append(message["status"])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        for chunk in (b"a", b"b"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    sent = MessageCollector()
    asyncio.run(app(http_scope(extensions={}), body_receiver(), on_response_start(sent, count)))
    assert calls == [200]
    assert [m.get("body") for m in sent.messages[1:]] == [b"a", b"b", b""]


def test_default_hooks_pass_everything_through() -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ws")
        await websocket.close()

    async def home(request: Request) -> Response:
        return PlainTextResponse("home")

    app = TypedASGI(routes=[Route("/", home), WebSocketRoute("/ws", ws)], middleware=[Middleware(PureASGIMiddleware)])
    with TestClient(app) as client:  # the lifespan passes through too
        assert client.get("/").text == "home"
        with client.websocket_connect("/ws") as session:
            assert session.receive_text() == "ws"


def test_websocket_hook_and_respond_early() -> None:
    class OnlyWithToken(PureASGIMiddleware):
        async def handle_websocket(self, scope: WebSocketScope, receive: Receive, send: Send) -> None:
            if dict(scope["headers"]).get(b"x-token") != b"ok":
                await respond_early(scope, receive, send, PlainTextResponse("no token", status_code=401))
                return
            await self.app(scope, receive, send)

        async def handle_http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
            if dict(scope["headers"]).get(b"x-token") != b"ok":
                await respond_early(scope, receive, send, PlainTextResponse("no token", status_code=401))
                return
            await self.app(scope, receive, send)

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("in")
        await websocket.close()

    inner = TypedASGI(routes=[WebSocketRoute("/ws", ws), Route("/", lambda request: PlainTextResponse("in"))])
    client = TestClient(OnlyWithToken(inner))
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect("/ws"):
            pass  # pragma: no cover - refused
    assert (denied.value.status_code, denied.value.text) == (401, "no token")
    with client.websocket_connect("/ws", headers={"x-token": "ok"}) as session:
        assert session.receive_text() == "in"
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"x-token": "ok"}).text == "in"


@pytest.mark.parametrize(
    ("existing", "token", "expected"),
    [
        ([], "Origin", ["Origin"]),
        (["Accept-Encoding"], "Origin", ["Accept-Encoding, Origin"]),
        (["accept-encoding, origin"], "Origin", ["accept-encoding, origin"]),
        (["*"], "Origin", ["*"]),
        (["Accept", "Cookie"], "Origin", ["Accept, Cookie, Origin"]),
    ],
)
def test_add_vary(existing: list[str], token: str, expected: list[str]) -> None:
    headers = MutableHeaders(raw=[(b"vary", value.encode()) for value in existing])
    add_vary(headers, token)
    assert headers.getlist("vary") == expected


def test_start_headers_adds_a_missing_headers_list() -> None:
    message: HTTPResponseStartEvent = {"type": "http.response.start", "status": 200}
    start_headers(message)["x-a"] = "1"
    assert list(message["headers"]) == [(b"x-a", b"1")]


async def hello_app(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("from a function")(scope, receive, send)


def test_quick_call_binds_an_objects_python_call_and_keeps_other_callables() -> None:
    response = PlainTextResponse("x")
    assert quick_call(response) == response.__call__  # the same function bound to the same object
    assert quick_call(hello_app) is hello_app
    partial = functools.partial(hello_app)
    assert quick_call(partial) is partial


@pytest.mark.parametrize(
    "layer",
    [
        lambda app: CORSMiddleware(app, allow_origins=["https://a.example"]),
        lambda app: GZipMiddleware(app, minimum_size=1),
        ServerErrorMiddleware,
    ],
    ids=["cors", "gzip", "server-error"],
)
def test_a_built_in_layer_calls_its_app_as_replaced(
    layer: Callable[[ASGIApp], CORSMiddleware | GZipMiddleware | ServerErrorMiddleware],
) -> None:
    middleware = layer(PlainTextResponse("first"))
    client = TestClient(middleware)
    assert client.get("/", headers={"origin": "https://a.example"}).text == "first"
    middleware.app = hello_app
    assert client.get("/", headers={"origin": "https://a.example"}).text == "from a function"
    middleware.app = PlainTextResponse("third")
    assert client.get("/").text == "third"


def test_tracking_reuses_a_tracker_passed_on_as_its_bound_call() -> None:
    collector = MessageCollector()
    tracker = TrackingSend(collector)
    assert tracking(tracker) is tracker
    assert tracking(tracker.__call__) is tracker  # what ServerErrorMiddleware passes down
    fresh = tracking(collector)
    assert type(fresh) is TrackingSend and fresh is not tracker
    assert tracking(collector.__call__).send == collector.__call__  # a bound method of anything else is wrapped


def test_middleware_walking_app_down_reaches_the_router() -> None:
    """Middleware that follows ``.app`` to the Router, as in Starlette's stack, to find routes or add start-up work."""
    found: list[Router] = []

    class FindsRouter:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app
            below: object = app
            while not isinstance(below, Router) and hasattr(below, "app"):
                below = getattr(below, "app")
            assert isinstance(below, Router), f"walked to {below!r}, not the Router"
            found.append(below)

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)

    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello")

    app = TypedASGI(routes=[Route("/", hello)], middleware=[Middleware(FindsRouter), Middleware(GZipMiddleware)])
    assert TestClient(app).get("/").status_code == 200
    assert found == [app.router]

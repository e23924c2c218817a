"""The app tests/test_report_once.py serves: one route (or plugin, or lifespan) per way code can fail.

Every failure raises ``Failure`` with a message naming the case, so the test can count the log records that
report it. ``/ran`` lists the background tasks that ran, to see which ran after a failing one.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTask, BackgroundTasks
from typedasgi.endpoints import WebSocketEndpoint
from typedasgi.exceptions import HTTPException
from typedasgi.hooks import PluginApp, PluginMiddleware, hookimpl
from typedasgi.markers import Depends
from typedasgi.middleware import Middleware
from typedasgi.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from typedasgi.requests import Request
from typedasgi.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from typedasgi.routing import BaseRoute, Mount, Route, WebSocketRoute
from typedasgi.types import ASGIApp, Message, Receive, Scope, Send
from typedasgi.websockets import WebSocket


class Failure(Exception):
    """What every case raises: its message is the case's name, looked for in the log."""


ran: list[str] = []


def fail(case: str) -> None:
    raise Failure(f"failure-{case}")


# ------------------------------------------------------------------ HTTP endpoints


async def raise_async(request: Request) -> Response:
    fail("endpoint-async")
    return PlainTextResponse("unreachable")


def raise_sync(request: Request) -> Response:
    fail("endpoint-sync")
    return PlainTextResponse("unreachable")


class Handled(Exception):
    """Has a handler, which itself fails."""


async def raise_handled(request: Request) -> Response:
    raise Handled("handled")


async def failing_handler(request: Request, exc: Exception) -> Response:
    fail("handler")
    return PlainTextResponse("unreachable")


class WebSocketHandled(Exception):
    """Has a WebSocket handler, which itself fails: the client got no close frame, or a 500 for its handshake."""


async def failing_websocket_handler(websocket: WebSocket, exc: Exception) -> None:
    fail(websocket.url.path.strip("/"))


async def async_chunks() -> AsyncIterator[bytes]:
    yield b"first "
    fail("stream-async")


def sync_chunks() -> Iterator[bytes]:
    yield b"first "
    fail("stream-sync")


async def stream_async(request: Request) -> Response:
    return StreamingResponse(async_chunks())


async def stream_sync(request: Request) -> Response:
    return StreamingResponse(sync_chunks())


async def endless_chunks() -> AsyncIterator[bytes]:
    try:
        while True:
            yield b"x" * 65536
            await asyncio.sleep(0.01)
    finally:
        print("stream-endless ended", flush=True)


async def stream_endless(request: Request) -> Response:
    """Streams until the client leaves: leaving is the client's own business, not an error."""
    return StreamingResponse(endless_chunks())


async def read_body(request: Request) -> Response:
    """Reads the body; the test leaves half-way through it."""
    try:
        return PlainTextResponse(await request.body())
    finally:
        print("read-body ended", flush=True)


async def raise_to_500_handler(request: Request) -> Response:
    fail("unhandled")
    return PlainTextResponse("unreachable")


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """The app's 500 handler, which fails for ``/handler-500``."""
    if request.url.path == "/handler-500":
        fail("handler-500")
    return PlainTextResponse("Internal Server Error", status_code=500)


async def vanished_file(request: Request) -> Response:
    fd, path = tempfile.mkstemp(prefix="failure-file-vanished-")
    os.close(fd)
    response = FileResponse(path)
    os.unlink(path)
    return response


async def typed_raise(n: int) -> dict[str, int]:
    fail("typed")
    return {"n": n}


async def setup_fails() -> AsyncIterator[int]:
    fail("dependency-setup")
    yield 1


async def teardown_fails() -> AsyncIterator[int]:
    yield 1
    fail("dependency-teardown")


def sync_teardown_fails() -> Iterator[int]:
    yield 2
    fail("dependency-teardown-sync")


async def teardown_fails_after_an_error() -> AsyncIterator[int]:
    try:
        yield 3
    finally:  # runs with the endpoint's HTTPException, before any response
        fail("dependency-teardown-before")


async def stream_teardown_fails() -> AsyncIterator[int]:
    yield 4
    fail("dependency-teardown-stream")


async def ws_teardown_fails() -> AsyncIterator[int]:
    yield 5
    fail("ws-dependency-teardown")


async def with_dependency_setup(value: Annotated[int, Depends(setup_fails)]) -> dict[str, int]:
    return {"value": value}


async def with_dependency_teardown(value: Annotated[int, Depends(teardown_fails)]) -> dict[str, int]:
    return {"value": value}


def with_sync_dependency_teardown(value: Annotated[int, Depends(sync_teardown_fails)]) -> dict[str, int]:
    return {"value": value}


async def with_dependency_teardown_after_an_error(value: Annotated[int, Depends(teardown_fails_after_an_error)]) -> None:
    raise HTTPException(404)


async def with_dependency_teardown_after_a_stream(value: Annotated[int, Depends(stream_teardown_fails)]) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b"streamed"

    return StreamingResponse(body())


async def sub_stream(request: Request) -> Response:
    return StreamingResponse(sub_chunks())


async def sub_chunks() -> AsyncIterator[bytes]:
    yield b"first "
    fail("mounted-stream")


async def sub_raise(request: Request) -> Response:
    fail("mounted")
    return PlainTextResponse("unreachable")


mounted = TypedASGI(routes=[Route("/raise", sub_raise), Route("/stream", sub_stream)], autoload_plugins=False)


# ------------------------------------------------------------------ background tasks


def task_sync() -> None:
    fail("task-sync")


async def task_async() -> None:
    fail("task-async")


async def task_several() -> None:
    fail("task-several")


def task_after_stream() -> None:
    fail("task-after-stream")


def note(name: str) -> None:
    ran.append(name)


async def background_sync(request: Request) -> Response:
    return PlainTextResponse("ok", background=BackgroundTask(task_sync))


async def background_async(request: Request) -> Response:
    return PlainTextResponse("ok", background=BackgroundTask(task_async))


async def background_several(request: Request) -> Response:
    tasks = BackgroundTasks()
    tasks.add_task(note, "before")
    tasks.add_task(task_several)
    tasks.add_task(note, "after")
    return PlainTextResponse("ok", background=tasks)


async def background_after_stream(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b"ok"

    return StreamingResponse(body(), background=BackgroundTask(task_after_stream))


async def which_ran(request: Request) -> Response:
    return JSONResponse(ran)


async def fine(request: Request) -> Response:
    return PlainTextResponse("fine")


# ------------------------------------------------------------------ middleware


class PureMiddleware:
    """Fails ``/pure-before`` before calling the app and ``/pure-after`` once the response started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in ("/pure-before", "/pure-after"):
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/pure-before":
            fail("pure-before")

        async def failing_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                fail("pure-after")

        await self.app(scope, receive, failing_send)


class DispatchMiddleware(BaseHTTPMiddleware):
    """Fails ``/dispatch-before`` before ``call_next`` and ``/dispatch-after`` after it."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path == "/dispatch-before":
            fail("dispatch-before")
        response = await call_next(request)
        if request.url.path == "/dispatch-after":
            fail("dispatch-after")
        return response


# ------------------------------------------------------------------ WebSockets


async def ws_before_accept(websocket: WebSocket) -> None:
    fail("ws-before-accept")


async def ws_handler_before(websocket: WebSocket) -> None:
    raise WebSocketHandled("handled")


async def ws_handler_after(websocket: WebSocket) -> None:
    await websocket.accept()
    raise WebSocketHandled("handled")


async def ws_after_accept(websocket: WebSocket) -> None:
    await websocket.accept()
    fail("ws-after-accept")


class FailingEndpoint(WebSocketEndpoint):
    encoding = "text"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        fail("ws-on-receive")


async def ws_dependency_teardown(websocket: WebSocket, value: Annotated[int, Depends(ws_teardown_fails)]) -> None:
    await websocket.accept()
    await websocket.send_text(str(value))
    await websocket.close()


async def ws_typed(websocket: WebSocket, n: int) -> None:
    await websocket.accept()
    await websocket.send_text(str(n))
    await websocket.close()


async def ws_echo(websocket: WebSocket) -> None:
    """Echoes until the client leaves."""
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    finally:
        print("ws-echo ended", flush=True)


async def ws_push(websocket: WebSocket) -> None:
    """Sends until the client leaves, never receiving."""
    await websocket.accept()
    try:
        while True:
            await websocket.send_text("tick")
            await asyncio.sleep(0.01)
    finally:
        print("ws-push ended", flush=True)


# ------------------------------------------------------------------ a plugin


class PluginMiddlewareFailing:
    """A plugin's middleware failing every request to ``/plugin-middleware``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/plugin-middleware":
            fail("plugin-middleware")
        await self.app(scope, receive, send)


class FailingMiddlewarePlugin:
    plugin_name = "failing-middleware"

    @hookimpl.middleware
    def middleware(self, app: PluginApp) -> Sequence[PluginMiddleware]:
        return [PluginMiddleware(Middleware(PluginMiddlewareFailing))]


routes = [
    Route("/fine", fine),
    Route("/endpoint-async", raise_async),
    Route("/endpoint-sync", raise_sync),
    Route("/handler", raise_handled),
    Route("/pure-before", fine),
    Route("/pure-after", fine),
    Route("/dispatch-before", fine),
    Route("/dispatch-after", fine),
    Route("/stream-async", stream_async),
    Route("/stream-sync", stream_sync),
    Route("/file-vanished", vanished_file),
    Route("/handler-500", raise_to_500_handler),
    Route("/read-body", read_body, methods=["POST"]),
    Route("/stream-endless", stream_endless),
    Route("/task-sync", background_sync),
    Route("/task-async", background_async),
    Route("/task-several", background_several),
    Route("/task-after-stream", background_after_stream),
    Route("/plugin-middleware", fine),
    Route("/ran", which_ran),
    Route("/typed", typed_raise),
    Route("/dependency-setup", with_dependency_setup),
    Route("/dependency-teardown", with_dependency_teardown),
    Route("/dependency-teardown-sync", with_sync_dependency_teardown),
    Route("/dependency-teardown-before", with_dependency_teardown_after_an_error),
    Route("/dependency-teardown-stream", with_dependency_teardown_after_a_stream),
    Mount("/sub", mounted),
    WebSocketRoute("/ws-before-accept", ws_before_accept),
    WebSocketRoute("/ws-after-accept", ws_after_accept),
    WebSocketRoute("/ws-handler-before", ws_handler_before),
    WebSocketRoute("/ws-handler-after", ws_handler_after),
    WebSocketRoute("/ws-on-receive", FailingEndpoint),
    WebSocketRoute("/ws-typed", ws_typed),
    WebSocketRoute("/ws-dependency-teardown", ws_dependency_teardown),
    WebSocketRoute("/ws-echo", ws_echo),
    WebSocketRoute("/ws-push", ws_push),
]

app = TypedASGI(
    routes=routes,
    middleware=[Middleware(PureMiddleware), Middleware(DispatchMiddleware)],
    exception_handlers={Handled: failing_handler, WebSocketHandled: failing_websocket_handler, Exception: server_error_handler},
    plugins=[FailingMiddlewarePlugin()],
    autoload_plugins=False,
)


# ------------------------------------------------------------------ apps that fail to start or to stop


@asynccontextmanager
async def startup_fails(app: TypedASGI) -> AsyncIterator[None]:
    fail("startup")
    yield


@asynccontextmanager
async def startup_fine(app: TypedASGI) -> AsyncIterator[None]:
    yield


@asynccontextmanager
async def shutdown_fails(app: TypedASGI) -> AsyncIterator[None]:
    yield
    fail("shutdown")


class FailingLifespanPlugin:
    plugin_name = "failing-lifespan"

    @hookimpl.lifespan
    @asynccontextmanager
    async def lifespan(self, app: PluginApp) -> AsyncIterator[Mapping[str, Any] | None]:
        fail("plugin-lifespan")
        yield None


class FailingHookPlugin:
    plugin_name = "failing-hook"

    @hookimpl.routes
    def routes(self, app: PluginApp) -> Sequence[BaseRoute]:
        fail("plugin-hook")
        return []


class FailingConfiguredPlugin:
    """Its app_configured hook fails: that failed no start-up (uvicorn took the app for one without lifespan)."""

    plugin_name = "failing-configured"

    @hookimpl.app_configured
    def app_configured(self, app: PluginApp) -> None:
        fail("plugin-configured")


def _plain(**options: Any) -> TypedASGI:
    return TypedASGI(routes=[Route("/fine", fine)], autoload_plugins=False, **options)


startup_failing = _plain(lifespan=startup_fails)
shutdown_failing = _plain(lifespan=shutdown_fails)
plugin_lifespan_failing = _plain(plugins=[FailingLifespanPlugin()])
plugin_hook_failing = _plain(plugins=[FailingHookPlugin()])
plugin_configured_failing = _plain(lifespan=startup_fine, plugins=[FailingConfiguredPlugin()])

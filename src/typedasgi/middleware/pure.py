"""The recommended way to write your own middleware: pure ASGI, with a few small typed helpers.

A pure ASGI middleware is an ASGI app that wraps another one. It sees every
message as it passes, so it never buffers a body, streaming and background
tasks keep working, and it composes with any framework (prefer it to
``BaseHTTPMiddleware``). The helpers take the boilerplate out of the common
case - editing the response head::

    import time

    from typedasgi.applications import TypedASGI
    from typedasgi.datastructures import MutableHeaders
    from typedasgi.middleware import Middleware
    from typedasgi.middleware.pure import PureASGIMiddleware, on_response_start
    from typedasgi.types import HTTPResponseStartEvent, HTTPScope, Receive, Send

    class ServerTiming(PureASGIMiddleware):
        async def handle_http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
            started = time.perf_counter()

            def add_header(message: HTTPResponseStartEvent, headers: MutableHeaders) -> None:
                headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"

            await self.app(scope, receive, on_response_start(send, add_header))

    app = TypedASGI(middleware=[Middleware(ServerTiming)])   # or: ServerTiming(any_asgi_app)

Everything a subclass does not handle (lifespan, and WebSockets unless
``handle_websocket`` is overridden) passes straight through to ``app``. To
answer without calling the app (a refusal, a redirect), use
:func:`respond_early`, which also refuses WebSocket handshakes properly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import FunctionType

from typedasgi.datastructures import MutableHeaders
from typedasgi.responses import Response
from typedasgi.types import (
    ASGIApp,
    AnyASGIApp,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Scope,
    Send,
    SendEvent,
    WWWScope,
    WebSocketScope,
    as_asgi_app,
)
from typedasgi.websockets import WebSocket

__all__ = [
    "PureASGIMiddleware",
    "ResponseStartCallback",
    "WrapsApp",
    "add_vary",
    "on_response_start",
    "quick_call",
    "respond_early",
    "start_headers",
]

ResponseStartCallback = Callable[[HTTPResponseStartEvent, MutableHeaders], "Awaitable[None] | None"]
"""``callback(message, headers)``: may edit ``headers`` (they write into ``message``) or ``message["status"]``."""


def start_headers(message: HTTPResponseStartEvent) -> MutableHeaders:
    """The response head's headers, editable in place.

    The spec lets an app leave ``headers`` out of ``http.response.start``; it is
    then added as an empty list, so editing works for any app's messages.
    """
    message.setdefault("headers", [])
    return MutableHeaders(scope=message)


def on_response_start(send: Send, callback: ResponseStartCallback) -> Send:
    """Wrap ``send`` so ``callback`` can edit the response head just before it goes out.

    Only ``http.response.start`` is touched; body messages pass through unchanged,
    one by one. ``callback`` may be sync or async.
    """

    async def wrapped(message: SendEvent) -> None:
        if message["type"] == "http.response.start":
            result = callback(message, start_headers(message))
            if result is not None:
                await result
        await send(message)

    return wrapped


def add_vary(headers: MutableHeaders, token: str) -> None:
    """Add ``token`` to ``Vary`` unless it is already listed (or ``Vary: *``); repeated lines are merged."""
    values = headers.getlist("vary")
    listed = {part.strip().lower() for value in values for part in value.split(",")}
    if token.lower() not in listed and "*" not in listed:
        headers["vary"] = ", ".join([*values, token])


async def respond_early(scope: WWWScope, receive: Receive, send: Send, response: Response) -> None:
    """Answer without calling the app: send ``response``, or refuse a WebSocket handshake with it.

    A WebSocket gets ``response`` as a denial response where the server supports
    that extension; otherwise it is closed with 1008, which clients see as HTTP 403.
    """
    if scope["type"] == "http":
        await response(scope, receive, send)
    else:
        await WebSocket(scope, receive, send).send_denial_response(response)


def quick_call(app: ASGIApp) -> ASGIApp:
    """``app`` in the form quickest to call: an object of a class with a Python ``__call__`` as that bound
    method (3.11 calls a bound method without the slot lookup calling the object costs: 24 vs 101 ns
    timed), anything else (a function, a ``functools.partial``) as it is."""
    if isinstance(getattr(type(app), "__call__", None), FunctionType):
        return app.__call__
    return app


class WrapsApp:
    """Base of a middleware that calls ``app``, the layer inside it, per request: keeps beside it
    ``_call_app``, the same app in its quickest form (:func:`quick_call`), in step when ``app`` is replaced."""

    _app: ASGIApp
    _call_app: ASGIApp

    @property
    def app(self) -> ASGIApp:
        return self._app

    @app.setter
    def app(self, app: ASGIApp) -> None:
        self._app = app
        self._call_app = quick_call(app)


class PureASGIMiddleware:
    """A base class for pure ASGI middleware: keeps ``app``, routes scopes to typed hooks.

    Override :meth:`handle_http` (and/or :meth:`handle_websocket`); each gets a
    scope already narrowed to its type. The defaults pass through unchanged.
    """

    def __init__(self, app: AnyASGIApp) -> None:
        self.app: ASGIApp = as_asgi_app(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle_http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.handle_websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def handle_http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def handle_websocket(self, scope: WebSocketScope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

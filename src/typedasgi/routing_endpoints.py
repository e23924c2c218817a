"""Plain endpoints made into ASGI apps: ``endpoint(request) -> Response`` and ``endpoint(websocket)``.

Decided once, when the route is built: a coroutine function is awaited as it
is, a sync one runs in the thread pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias, cast

from typedasgi.concurrency import is_async_callable, run_in_threadpool
from typedasgi.requests import Request
from typedasgi.responses import Response
from typedasgi.types import ASGIApp, Receive, Scope, Send, framework_keys
from typedasgi.websockets import WebSocket

__all__ = [
    "Endpoint",
    "PlainCall",
    "PlainEntry",
    "WebSocketEndpointFunc",
    "get_name",
    "not_a_response",
    "plain_call",
    "request_response",
    "websocket_session",
]

Endpoint: TypeAlias = Callable[[Request[Any]], Awaitable[Response] | Response]
"""A plain HTTP endpoint: takes the request (any state type), returns a response."""
WebSocketEndpointFunc: TypeAlias = Callable[[WebSocket[Any]], Awaitable[None]]


def get_name(endpoint: object) -> str:
    return str(getattr(endpoint, "__name__", type(endpoint).__name__))


def _describe(endpoint: object) -> str:
    module = getattr(endpoint, "__module__", None)
    qualname = getattr(endpoint, "__qualname__", repr(endpoint))
    return f"{module}.{qualname}" if module else str(qualname)


PlainCall: TypeAlias = Callable[[Request[Any]], Awaitable[object]]
"""A plain endpoint made awaitable (sync ones run in the thread pool); it may return anything."""

PlainEntry: TypeAlias = tuple[PlainCall, object, Mapping[str, object] | None]
"""What an app needs to serve a route's plain endpoint itself: the call, then the scope's ``endpoint``
(``route`` is the route itself) and any other keys the route's ``enter`` sets (None: no others)."""


def plain_call(func: Endpoint) -> PlainCall:
    """``func`` itself when it is a coroutine function, else a coroutine running it in the thread pool."""
    if is_async_callable(func):
        return cast(PlainCall, func)  # a coroutine function, checked above

    async def in_threadpool(request: Request[Any]) -> object:  # sync endpoints run in the thread pool
        return await run_in_threadpool(func, request)

    return in_threadpool


def not_a_response(endpoint: object, response: object) -> TypeError:
    """The error for an endpoint that returned something other than a Response."""
    return TypeError(
        f"Endpoint {_describe(endpoint)} returned {type(response).__name__} {response!r:.80}; "
        "expected a Response (e.g. JSONResponse(...))"
    )


def request_response(func: Endpoint) -> ASGIApp:
    """Turn ``endpoint(request) -> Response`` into an ASGI app (sync ones run in the thread pool)."""
    call = plain_call(func)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)  # type: ignore[arg-type]  # http scopes only reach here
        try:
            response = await call(request)
            if not isinstance(response, Response):
                raise not_a_response(func, response)
            await response(scope, receive, send)
        except Exception:
            framework_keys(scope)["request"] = request  # the error's handler gets this request, its body already read
            raise
        finally:
            # uploads spooled to disk are closed with the request; close() only when a form was parsed
            if request._form is not None:  # pyright: ignore[reportPrivateUsage]  # same package
                await request.close()

    return app


def websocket_session(func: WebSocketEndpointFunc) -> ASGIApp:
    """Turn ``async endpoint(websocket)`` into an ASGI app."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await func(WebSocket(scope, receive, send))  # type: ignore[arg-type]  # websocket scopes only reach here

    return app

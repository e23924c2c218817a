"""``ExceptionMiddleware``: turn ``HTTPException``s and registered exception types into responses."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Set as AbstractSet
from typing import Any, Protocol, TypeAlias

from typedasgi.concurrency import run_in_threadpool
from typedasgi.error_responses import error_response
from typedasgi.exceptions import HTTPException, WebSocketException
from typedasgi.requests import Request, request_for_handler
from typedasgi.responses import Response
from typedasgi.middleware.tracking import tracking
from typedasgi.types import ASGIApp, AnyASGIApp, Receive, Scope, Send, as_asgi_app
from typedasgi.websockets import WebSocket

__all__ = ["ExceptionHandler", "ExceptionHandlerTable", "ExceptionHandlers", "ExceptionMiddleware", "lookup_handler"]

ExceptionHandler: TypeAlias = Callable[[Any, Any], "Response | Awaitable[Response] | Awaitable[None] | None"]
"""``handler(request_or_websocket, exc)``: returns a Response for HTTP; closes the socket for WebSockets.

Its parameters are ``Any`` because each handler narrows them itself (``Request`` or
``WebSocket``, and the exception class it was registered for).
"""
ExceptionHandlers: TypeAlias = Mapping["int | type[BaseException]", ExceptionHandler]


class ExceptionHandlerTable(Protocol):
    """Exception handlers by status code or exception class: any mapping of them (a ``dict`` is one).

    Read through ``items()`` alone, so its keys may be narrower than ``int | type[BaseException]``: a
    ``Mapping`` parameter's key type is invariant, and ``{404: not_found}`` or ``{ValueError: handler}``
    kept in a variable (``dict[int, ...]``, ``dict[type[ValueError], ...]``) did not fit one.
    """

    def items(self) -> AbstractSet[tuple[int | type[BaseException], ExceptionHandler]]: ...


def lookup_handler(
    status_handlers: Mapping[int, ExceptionHandler],
    exception_handlers: Mapping[type[BaseException], ExceptionHandler],
    exc: BaseException,
) -> ExceptionHandler | None:
    """The handler for ``exc``: by status code for HTTPExceptions, else by the closest class in its MRO."""
    if isinstance(exc, HTTPException):
        handler = status_handlers.get(exc.status_code)
        if handler is not None:
            return handler
    for cls in type(exc).__mro__:
        handler = exception_handlers.get(cls)
        if handler is not None:
            return handler
    return None


async def call_handler(handler: ExceptionHandler, connection: Any, exc: BaseException) -> Any:
    if inspect.iscoroutinefunction(handler):
        return await handler(connection, exc)
    return await run_in_threadpool(handler, connection, exc)


def http_exception_response(request: Request, exc: HTTPException) -> Response:
    return error_response(request.scope, exc.status_code, exc.detail, exc.headers)


async def websocket_exception_close(websocket: WebSocket, exc: WebSocketException) -> None:
    await websocket.close(code=exc.code, reason=exc.reason)


class ExceptionMiddleware:
    """Innermost layer: handled exceptions become responses; others go on to ServerErrorMiddleware."""

    def __init__(
        self,
        app: AnyASGIApp,
        handlers: Mapping[int | type[BaseException], ExceptionHandler] | None = None,
        debug: bool = False,
    ) -> None:
        self.app: ASGIApp = as_asgi_app(app)
        self.debug = debug
        # Starlette's two tables under Starlette's names: instrumentation written for it (Sentry's) wraps
        # the handlers in ``_exception_handlers`` to report what they answer.
        self._status_handlers: dict[int, ExceptionHandler] = {}
        self._exception_handlers: dict[type[BaseException], ExceptionHandler] = {
            HTTPException: http_exception_response,
            WebSocketException: websocket_exception_close,
        }
        for key, handler in (handlers or {}).items():
            self.add_exception_handler(key, handler)

    def add_exception_handler(self, key: int | type[BaseException], handler: ExceptionHandler) -> None:
        if isinstance(key, int):
            self._status_handlers[key] = handler
        else:
            self._exception_handlers[key] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        tracked = tracking(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if not await self.handle(exc, scope, receive, send, started=tracked.started):
                raise

    async def handle(self, exc: Exception, scope: Scope, receive: Receive, send: Send, *, started: bool) -> bool:
        """Answer ``exc`` with its registered handler; False when none is registered for it."""
        handler = lookup_handler(self._status_handlers, self._exception_handlers, exc)
        if handler is None:
            return False
        if scope["type"] == "http":
            if started:
                raise RuntimeError("Caught handled exception, but response already started.") from exc
            request = request_for_handler(scope, receive, send)
            response = await call_handler(handler, request, exc)
            exc.__traceback__ = None  # answered: don't keep the frames alive through a long-lived exception object
            if response is not None:
                await response(scope, receive, send)
        else:
            # A WebSocket's handlers run after accept too: closing with a code is how it answers.
            assert scope["type"] == "websocket"
            websocket = WebSocket(scope, receive, send)
            result = await call_handler(handler, websocket, exc)
            if isinstance(result, Response):  # an HTTP answer: a denial of the handshake, if still possible
                if started:
                    return False  # too late for HTTP: the outer layer closes with 1011
                await websocket.send_denial_response(result)
        return True

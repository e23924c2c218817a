"""Class-based endpoints: one class per URL, one method per HTTP method or WebSocket event.

Both classes are ASGI apps the Starlette way: the router calls the class with
``(scope, receive, send)`` and awaits the new instance, so each request gets its
own object. What can be decided per class (which methods exist, which are
coroutines, the ``Allow`` header) is decided once, when the class is defined.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Awaitable, Generator
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import msgspec

from typedasgi import status
from typedasgi.concurrency import run_in_threadpool
from typedasgi.exceptions import HTTPException, WebSocketException, raises_to_app
from typedasgi.middleware.errors import wants_exceptions
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.types import HTTPScope, Receive, Scope, Send, WebSocketReceiveEvent, WebSocketScope
from typedasgi.websockets import WebSocket, WebSocketDecodeError, WebSocketDisconnect, WebSocketState

__all__ = ["HTTPEndpoint", "WebSocketEndpoint"]

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY")
"""The methods an ``HTTPEndpoint`` dispatches to (``get``, ``head``, ...); others answer 405."""

_NORMAL_CLOSURE = status.WS_1000_NORMAL_CLOSURE
_UNSUPPORTED_DATA = status.WS_1003_UNSUPPORTED_DATA
_INTERNAL_ERROR = status.WS_1011_INTERNAL_ERROR


class HTTPEndpoint:
    """Dispatch an HTTP request to the method named after it (``get``, ``post``, ...).

    Sync methods run in the thread pool, async ones on the event loop. ``HEAD``
    uses ``get`` unless ``head`` is defined. A method the class lacks answers
    405 with an ``Allow`` header listing the ones it has.
    """

    # Per class, filled by __init_subclass__: method -> (attribute name, is a coroutine function).
    _handlers: ClassVar[dict[str, tuple[str, bool]]] = {}
    _allow: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, tuple[str, bool]] = {}
        for method in HTTP_METHODS:
            name = method.lower()
            handler = getattr(cls, name, None)
            if callable(handler):
                handlers[method] = (name, inspect.iscoroutinefunction(handler))
        if "GET" in handlers and "HEAD" not in handlers:
            handlers["HEAD"] = handlers["GET"]
        cls._handlers = handlers
        cls._allow = ", ".join(method for method in HTTP_METHODS if method in handlers)

    if TYPE_CHECKING:  # the shape each method handler must have, so a subclass's are checked as overrides

        def get(self, request: Request[Any], /) -> Response | Awaitable[Response]: raise NotImplementedError
        def head(self, request: Request[Any], /) -> Response | Awaitable[Response]: raise NotImplementedError
        def post(self, request: Request[Any], /) -> Response | Awaitable[Response]: raise NotImplementedError
        def put(self, request: Request[Any], /) -> Response | Awaitable[Response]: raise NotImplementedError
        def patch(self, request: Request[Any], /) -> Response | Awaitable[Response]: raise NotImplementedError
        def delete(self, request: Request[Any], /) -> Response | Awaitable[Response]: raise NotImplementedError
        def options(self, request: Request[Any], /) -> Response | Awaitable[Response]: raise NotImplementedError
        def query(self, request: Request[Any], /) -> Response | Awaitable[Response]: raise NotImplementedError

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"{type(self).__name__} serves 'http' scopes, got {scope['type']!r}")
        self.scope: HTTPScope = scope
        self.receive = receive
        self.send = send

    def __await__(self) -> Generator[Any, None, None]:  # the awaitable protocol: Any is asyncio's yield type
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        request: Request = Request(self.scope, self.receive, self.send)
        entry = self._handlers.get(self.scope.get("method", "GET"))
        response: Response
        if entry is None:
            response = await self.method_not_allowed(request)
        else:
            name, is_async = entry
            handler = getattr(self, name)
            response = await handler(request) if is_async else await run_in_threadpool(handler, request)
        await response(self.scope, self.receive, self.send)

    async def method_not_allowed(self, request: Request) -> Response:
        """The 405: raised as ``HTTPException`` inside an app (so its handlers shape it), a response otherwise."""
        headers = {"Allow": self._allow}
        if raises_to_app(self.scope):
            raise HTTPException(405, headers=headers)
        return PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)


class WebSocketEndpoint:
    """A WebSocket session as three events: ``on_connect``, ``on_receive``, ``on_disconnect``.

    ``encoding`` says what ``on_receive`` gets: ``"text"`` (str), ``"bytes"``,
    ``"json"`` (the decoded value) or ``None`` (str or bytes, as sent). A message
    that does not fit closes the connection with 1003 (unsupported data) and
    ends the session; the server hears of it only when it asks for the app's
    errors (the TestClient raises it). An exception in a handler closes the
    connection with 1011 and propagates.
    """

    encoding: ClassVar[Literal["text", "bytes", "json"] | None] = None

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError(f"{type(self).__name__} serves 'websocket' scopes, got {scope['type']!r}")
        self.scope: WebSocketScope = scope
        self.receive = receive
        self.send = send

    def __await__(self) -> Generator[Any, None, None]:  # the awaitable protocol: Any is asyncio's yield type
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        websocket: WebSocket = WebSocket(self.scope, self.receive, self.send)
        close_code = _NORMAL_CLOSURE
        try:
            await self.on_connect(websocket)
            if websocket.application_state is not WebSocketState.CONNECTED:
                return  # rejected or denied in on_connect: there is no session to run
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.receive":
                    await self.on_receive(websocket, await self.decode(websocket, message))
                elif message["type"] == "websocket.disconnect":
                    close_code = message.get("code") or _NORMAL_CLOSURE
                    return
        except WebSocketDecodeError as exc:
            close_code = _UNSUPPORTED_DATA
            await _close_if_open(websocket, close_code, str(exc))
            if wants_exceptions(self.scope):
                raise  # the TestClient raises it, as Starlette's endpoint does; a real server is spared the log
        except WebSocketDisconnect as exc:
            close_code = exc.code
        except WebSocketException as exc:
            close_code = exc.code
            await _close_if_open(websocket, exc.code, exc.reason)
        except Exception:
            close_code = _INTERNAL_ERROR
            with contextlib.suppress(WebSocketDisconnect):  # the client is gone (ASGI 2.4): the error still counts
                await _close_if_open(websocket, close_code, None)
            raise
        finally:
            await self.on_disconnect(websocket, close_code)

    async def decode(self, websocket: WebSocket, message: WebSocketReceiveEvent) -> Any:  # by `encoding`
        """The message's payload as ``encoding`` asks (str, bytes or a JSON value).

        A message that does not fit closes the connection with 1003 (unsupported
        data), the reason saying what was wrong, and raises :class:`WebSocketDecodeError`
        (a ``RuntimeError``, as Starlette raises), which ``dispatch`` treats as the client's mistake.
        """
        try:
            return self._payload(message)
        except WebSocketDecodeError as exc:
            await _close_if_open(websocket, _UNSUPPORTED_DATA, str(exc))  # the reason tells the client what was wrong
            raise

    def _payload(self, message: WebSocketReceiveEvent) -> Any:  # str, bytes or a JSON value, by `encoding`
        text = message.get("text")
        data = message.get("bytes")
        encoding = self.encoding
        if encoding == "text":
            if text is None:
                raise WebSocketDecodeError("Expected text websocket messages, but got bytes")
            return text
        if encoding == "bytes":
            if data is None:
                raise WebSocketDecodeError("Expected bytes websocket messages, but got text")
            return data
        if encoding == "json":
            payload = text if text is not None else data
            if payload is None:
                raise WebSocketDecodeError("Empty message")
            return _decode_json(payload)
        return text if text is not None else data

    async def on_connect(self, websocket: WebSocket) -> None:
        """Accept the connection; override to check it first (close or deny to reject)."""
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:  # Any: its type follows `encoding`
        """Handle one message; ``data`` is decoded as ``encoding`` says."""

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        """The session ended with ``close_code`` (the client's, or the one the endpoint closed with)."""


async def _close_if_open(websocket: WebSocket, code: int, reason: str | None) -> None:
    if websocket.application_state in (WebSocketState.CONNECTING, WebSocketState.CONNECTED):
        await websocket.close(code, reason)


_json_decoder = msgspec.json.Decoder()


def _decode_json(payload: str | bytes) -> object:
    try:
        return _json_decoder.decode(payload)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise WebSocketDecodeError(f"Malformed JSON message: {exc}") from None

"""``BaseHTTPMiddleware``: middleware written as ``dispatch(request, call_next) -> Response``.

Kept for Starlette compatibility; new middleware should be pure ASGI (see
:mod:`typedasgi.middleware.pure`), which is simpler and faster. What this one
does about the classic pitfalls:

* ``call_next(request)`` runs the rest of the app in a task and returns as soon
  as the response *head* is there; the body is streamed through a one-message
  hand-off, never buffered. The response's background tasks start after its
  last body message was sent, and the middleware returns only once they are done.
* An error raised downstream before the response starts comes out of
  ``call_next`` (its context becomes its cause, as in Starlette); one raised
  mid-stream comes out of sending the response. Both keep their traceback.
* The request body is read once, as in Starlette (see :class:`_DispatchRequest`):
  a body read in ``dispatch`` with ``await request.body()`` is handed to the app.
* The client going away (the server's ``send`` raising ``OSError``) stops the
  stream and cancels the downstream task; nothing is left running. A
  ``body_iterator`` that ``dispatch`` swapped in is also stopped and closed on
  ``http.disconnect`` (below ASGI 2.4), as a ``StreamingResponse`` is.
* ContextVars: Starlette documents that values set in the endpoint are not seen
  by the middleware. Here the endpoint's changes are copied into the
  middleware's context when ``call_next`` returns and again when the response
  is complete, so ``dispatch`` (and outer middleware) see them.
* Messages leave in Starlette's shapes, which outer middleware and tests rely
  on: ``http.response.start`` without a ``trailers`` key (unless the app
  declared trailers), each non-empty body chunk with ``more_body=True``, then
  one empty final body message. Trailers pass through after it.
* ``http.response.pathsend`` and early hints pass through (the server sends the
  file); the ``zerocopysend`` extension is hidden from the app below, so such
  bodies pass through ``dispatch`` as bytes.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, NoReturn, TypeVar

from typedasgi.background import run_after_response
from typedasgi.disconnect import send_until_disconnect
from typedasgi.requests import ClientDisconnect, Request
from typedasgi.responses import Response, StreamingResponse
from typedasgi.types import (
    ASGIApp,
    AnyASGIApp,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    ReceiveEvent,
    Scope,
    Send,
    SendEvent,
    as_asgi_app,
    extension_send,
)

__all__ = [
    "AsyncContentStream",
    "BaseHTTPMiddleware",
    "BodyStreamGenerator",
    "DispatchFunction",
    "RequestResponseEndpoint",
]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
"""``call_next``: hand the request to the rest of the app, get its (streaming) response."""
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]

# Starlette's names for what flows between the layers: body chunks, or a
# message passed through as is (the values of a message are the spec's, open).
BodyStreamGenerator = AsyncGenerator[bytes | MutableMapping[str, Any], None]
AsyncContentStream = AsyncIterable[str | bytes | memoryview | MutableMapping[str, Any]]
T = TypeVar("T")

_HIDDEN_EXTENSIONS = ("http.response.zerocopysend",)
_MISSING = object()
_NO_RESPONSE = "No response returned: the app finished without sending 'http.response.start'"


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class _ClientGone(Exception):
    """The server's ``send`` raised ``OSError``: the client disconnected (ASGI 2.4)."""


def _checked(send: Send) -> Send:
    async def checked_send(message: SendEvent) -> None:
        try:
            await send(message)
        except OSError as exc:
            raise _ClientGone() from exc

    return checked_send


def _is_last(message: SendEvent) -> bool:
    return message["type"] == "http.response.pathsend" or (
        message["type"] == "http.response.body" and not message.get("more_body", False)
    )


class _HandOff:
    """A one-message channel from the app (``put`` is its ``send``) to the response.

    Holding at most one message is what gives back-pressure: the app cannot run
    ahead of a slow client, and nothing is buffered. The app's ``send`` of the last
    body message returns only once the response asks for what comes next (it has
    then sent that message on), so background tasks start after the client has it.
    """

    __slots__ = ("_consumer", "_delivered", "_finished", "_items", "_producers", "_taken")

    def __init__(self) -> None:
        self._items: deque[SendEvent] = deque()
        self._consumer: asyncio.Future[None] | None = None
        self._producers: list[asyncio.Future[None]] = []
        self._delivered: asyncio.Future[None] | None = None  # the app waits on it after putting the last message
        self._taken = False  # the last message was handed out: the next get() means it was sent on
        self._finished = False

    async def put(self, message: SendEvent) -> None:
        while self._items:
            waiter = asyncio.get_running_loop().create_future()
            self._producers.append(waiter)
            await waiter
        self._items.append(message)
        consumer = self._consumer
        if consumer is not None and not consumer.done():
            consumer.set_result(None)
        if _is_last(message):
            self._delivered = delivered = asyncio.get_running_loop().create_future()
            await delivered

    def release(self) -> None:
        """Let the app's ``send`` of the last message return (it was sent on, or never will be)."""
        delivered, self._delivered = self._delivered, None
        if delivered is not None and not delivered.done():
            delivered.set_result(None)

    def finish(self) -> None:
        self._finished = True
        consumer = self._consumer
        if consumer is not None and not consumer.done():
            consumer.set_result(None)

    async def get(self) -> SendEvent | None:
        """The next message, or None once the app has returned."""
        if self._taken:
            self.release()
        while not self._items:
            if self._finished:
                return None
            self._consumer = asyncio.get_running_loop().create_future()
            await self._consumer
        message = self._items.popleft()
        self._taken = _is_last(message)
        producers, self._producers = self._producers, []
        for waiter in producers:  # each re-checks; one gets the free slot
            if not waiter.done():
                waiter.set_result(None)
        return message


class _Downstream:
    """One ``call_next``: the app's task, its messages, and the ContextVars it changed."""

    def __init__(self, app: ASGIApp, scope: HTTPScope, receive: Receive) -> None:
        self.channel = _HandOff()
        self.complete = False  # the final body message has passed
        self._raised = False  # the task's error already reached dispatch
        self._seen = contextvars.copy_context()
        self._context = self._seen.copy()
        self.task = asyncio.get_running_loop().create_task(self._run(app, scope, receive), context=self._context)

    async def _run(self, app: ASGIApp, scope: HTTPScope, receive: Receive) -> None:
        try:
            await app(scope, receive, self.channel.put)
        finally:
            self.channel.finish()

    def sync_context(self) -> None:
        """Copy the ContextVars the app set since the last sync into the caller's context."""
        seen = self._seen
        for var, value in self._context.items():
            if seen.get(var, _MISSING) is not value:
                var.set(value)
        self._seen = self._context.copy()

    async def next_message(self) -> SendEvent | None:
        message = await self.channel.get()
        if message is None:
            await self.wait()  # the app returned: raise its error, if any
        elif _is_last(message):
            self.complete = True
        return message

    async def wait(self) -> None:
        """Wait for the app to return (background tasks included); raise its error once."""
        try:
            await self.task
        except asyncio.CancelledError:
            if not self.task.cancelled() or _being_cancelled():
                raise  # our own cancellation, not the one we gave the task
        except BaseException:
            if not self._raised:
                self._raised = True
                raise
        finally:
            if self.task.done():
                self.sync_context()

    async def response(self) -> _CallNextResponse:
        early: list[SendEvent] = []
        while True:
            message = await self.channel.get()
            if message is None:
                await self._raise_without_response()
            elif message["type"] == "http.response.start":
                break
            else:
                early.append(message)  # e.g. http.response.debug, sent before the head
        self.sync_context()
        return _CallNextResponse(self, message, early)

    async def _raise_without_response(self) -> NoReturn:
        """The app returned before its response: raise its error shaped as Starlette's, or say there was none.

        Starlette raises the app's error where the app's messages ended: the error's own context becomes its
        cause, and its (suppressed) context is that end. Code that walks the chain sees the same links.
        """
        ended = RuntimeError(_NO_RESPONSE)
        try:
            await self.wait()
        except Exception as error:
            error.__cause__ = error.__cause__ or error.__context__
            error.__context__ = ended
            error.__suppress_context__ = True
            raise
        raise ended

    async def close(self) -> None:
        """After the response: let a delivered one finish its background work, cancel any other."""
        self.channel.release()
        if not self.complete and not self.task.done():
            self.task.cancel()
        await self.wait()

    async def abort(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


class _CallNextResponse(StreamingResponse):
    """What ``call_next`` returns: the app's head, and its body as it is produced.

    ``status_code`` and ``headers`` may be changed before it is sent;
    ``body_iterator`` may be read or replaced (e.g. to log or rewrite the body).
    """

    def __init__(self, downstream: _Downstream, start: HTTPResponseStartEvent, early: list[SendEvent]) -> None:
        self._downstream = downstream
        self._early = early
        self._trailers = start.get("trailers", False)
        self._own_iterator = self._body()
        super().__init__(self._own_iterator, status_code=start["status"])
        self.raw_headers = list(start.get("headers", []))

    async def _body(self) -> AsyncIterator[bytes]:
        downstream = self._downstream
        while not downstream.complete:
            message = await downstream.next_message()
            if message is None:
                return
            if message["type"] == "http.response.body" and (body := message.get("body", b"")):
                yield body

    def _start_message(self) -> HTTPResponseStartEvent:
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self.raw_headers,
        }
        if self._trailers:
            start["trailers"] = True
        return start

    async def _forward(self, send: Send) -> None:
        """Pass the app's messages on in order; body messages in Starlette's shape (chunks, then an empty end)."""
        downstream = self._downstream
        forward = extension_send(send)
        for early in self._early:
            await forward(early)
        await send(self._start_message())
        while (message := await downstream.next_message()) is not None:
            if message["type"] != "http.response.body":
                await forward(message)
                continue
            body = message.get("body", b"")
            if body:
                await send({"type": "http.response.body", "body": body, "more_body": True})
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self.body_iterator is self._own_iterator:
                await self._forward(_checked(send))
                delivered = self._downstream.complete
            elif not await send_until_disconnect(self._stream(send), receive):  # dispatch's own body_iterator
                return  # the client left: the iterator was closed; the middleware cancels the app
            else:
                delivered = True
        except _ClientGone:
            return  # nothing more to send; the middleware cancels the app
        await self._downstream.close()
        if delivered and self.background is not None:
            await run_after_response(self.background, scope)


_DISCONNECT: ReceiveEvent = {"type": "http.disconnect"}


class _DispatchRequest(Request[Any]):
    """The request ``dispatch`` gets; its :meth:`receive_for_app` is the app's ``receive``.

    The body is read once, by whoever reads first, as in Starlette: a body that dispatch
    read with ``body()`` is handed to the app whole; one that dispatch streamed to the end
    reaches the app empty; one that dispatch left alone is read for the app through this
    request (so dispatch cannot stream it afterwards). A disconnect, once seen, is answered
    at once from then on - a second read never hangs.
    """

    _app_consumed = False  # the app got the last body message
    _app_disconnected = False  # the app got http.disconnect

    async def receive_for_app(self) -> ReceiveEvent:
        if self._app_disconnected:
            return _DISCONNECT
        if self._app_consumed:
            if self._is_disconnected:
                self._app_disconnected = True
                return _DISCONNECT
            message = await self._receive()  # all that is left to come is the disconnect
            if message["type"] == "http.disconnect":
                self._app_disconnected = True
            return message
        body: bytes | None = getattr(self, "_body", None)  # dispatch read it (or set it), as in Starlette
        if body is not None:
            self._app_consumed = True
            return {"type": "http.request", "body": body, "more_body": False}
        if self._stream_consumed:
            self._app_consumed = True
            return {"type": "http.request", "body": b"", "more_body": False}
        chunks = self.stream()
        try:
            chunk = await anext(chunks)
        except ClientDisconnect:
            self._app_disconnected = True
            return _DISCONNECT
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]  # stream() is an async generator
        self._app_consumed = self._stream_consumed
        return {"type": "http.request", "body": chunk, "more_body": not self._stream_consumed}


class BaseHTTPMiddleware:
    """Subclass and override :meth:`dispatch`, or pass ``dispatch=`` a function.

    Example::

        class CustomHeader(BaseHTTPMiddleware):
            async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
                response = await call_next(request)
                response.headers["x-custom"] = "1"
                return response
    """

    def __init__(self, app: AnyASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app: ASGIApp = as_asgi_app(app)
        self.dispatch_func: DispatchFunction = self.dispatch if dispatch is None else dispatch

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise NotImplementedError("Override dispatch() or pass dispatch= to BaseHTTPMiddleware")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extensions = scope.get("extensions")
        if extensions and any(name in extensions for name in _HIDDEN_EXTENSIONS):
            scope["extensions"] = {k: v for k, v in extensions.items() if k not in _HIDDEN_EXTENSIONS}
        request = _DispatchRequest(scope, receive, send)
        calls: list[_Downstream] = []

        async def call_next(request_given: Request[Any]) -> Response:
            request_scope = request_given.scope
            if request_scope["type"] != "http":
                raise TypeError("call_next() takes the HTTP request dispatch() was given")
            downstream = _Downstream(self.app, request_scope, request.receive_for_app)
            calls.append(downstream)
            return await downstream.response()

        try:
            response = await self.dispatch_func(request, call_next)
            await response(scope, receive, send)
        except BaseException:
            for downstream in calls:
                await downstream.abort()
            raise
        for downstream in calls:
            await downstream.close()

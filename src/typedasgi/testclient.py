"""Drive an ASGI app in-process from tests, through the httpx2 client API.

Why a background loop: tests are mostly synchronous functions while the app is a coroutine.
:class:`TestClient` owns one asyncio loop in a daemon thread (started on first use, stopped on
``close()``, on leaving ``with`` or when the client is collected) and hands each request, websocket
message and lifespan step to it with ``asyncio.run_coroutine_threadsafe``. Whatever the app schedules
(tasks, lifespan resources) thus lives in one loop, as under a server. :class:`AsyncTestClient` runs
the app in the caller's own loop instead, for async tests.

Every wait on the app is bounded by the client's read timeout (10 s unless given), so a hung app fails
the test with a clear error instead of hanging it; pass ``timeout=None`` while debugging.

A request URL's path is the full path (ASGI: ``path`` includes ``root_path``); ``root_path`` is only
put in the scope, as a server behind a path-stripping proxy would.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import weakref
from collections.abc import Awaitable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, cast

import msgspec

try:
    import httpx2
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("The TestClient needs httpx2: pip install 'typedasgi[testclient]'") from exc

from typedasgi.types import (
    AnyASGIApp,
    ASGI2App,
    ASGIApp,
    ExtensionSendEvent,
    HTTPReceiveEvent,
    HTTPScope,
    LifespanReceiveEvent,
    LifespanScope,
    LifespanSendEvent,
    Receive,
    Scope,
    Send,
    SendEvent,
    WebSocketAcceptEvent,
    WebSocketReceiveEvent,
    WebSocketReceiveMessage,
    WebSocketScope,
    WebSocketSendEvent,
    WebSocketSendMessage,
    as_asgi_app,
)
from typedasgi.websockets import WebSocketDisconnect

__all__ = [
    "AsyncTestClient",
    "TestClient",
    "TestClientTimeout",
    "WebSocketDenialResponse",
    "WebSocketTestSession",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
"""Seconds any single wait on the app may take before the test fails (the httpx2 read timeout)."""

CookieTypes = httpx2.Cookies | dict[str, str] | list[tuple[str, str]]
HeaderTypes = Mapping[str, str] | list[tuple[str, str]]
TimeoutTypes = float | httpx2.Timeout | None

_json_encoder = msgspec.json.Encoder()
_WEBSOCKET_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # any base64 of 16 bytes will do: nothing checks it in-process


class TestClientTimeout(TimeoutError):
    """The app did not answer within the client's timeout (raised whatever ``raise_server_exceptions``)."""

    __test__ = False  # not a pytest test class


# ----------------------------------------------------------------------------- app adaptation


def _is_asgi2(app: object) -> bool:
    """ASGI 2 apps are classes: ``app(scope)`` builds an instance that is awaited with (receive, send)."""
    return inspect.isclass(app) and inspect.iscoroutinefunction(getattr(app, "__call__", None))


class _ASGI2Adapter:
    """Presents a double-callable ASGI 2 app as an ASGI 3 one."""

    __slots__ = ("_app",)

    def __init__(self, app: ASGI2App) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send, /) -> None:
        await self._app(scope)(receive, send)


def _as_asgi3(app: AnyASGIApp | ASGI2App) -> ASGIApp:
    if _is_asgi2(app):
        return _ASGI2Adapter(cast(ASGI2App, app))
    return as_asgi_app(cast(AnyASGIApp, app))


@dataclass
class _AppConfig:
    """What the client, its transport and its websocket sessions share about the app under test."""

    app: ASGIApp
    root_path: str
    client: tuple[str, int]
    raise_server_exceptions: bool
    timeout: float | None
    state: dict[str, Any] = field(default_factory=dict)  # the lifespan state; values are the app's

    @classmethod
    def create(
        cls,
        app: AnyASGIApp | ASGI2App,
        root_path: str,
        client: tuple[str, int],
        raise_server_exceptions: bool,
        timeout: TimeoutTypes,
    ) -> _AppConfig:
        bound = timeout.read if isinstance(timeout, httpx2.Timeout) else timeout
        return cls(_as_asgi3(app), root_path, client, raise_server_exceptions, bound)


def _default_headers(headers: HeaderTypes | None) -> httpx2.Headers:
    merged = httpx2.Headers(headers)
    merged.setdefault("user-agent", "testclient")
    return merged


async def _within(awaitable: Awaitable[T], timeout: float | None, what: str) -> T:
    """Await with the client's bound; a timeout says what was waited for."""
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError:
        if deadline.expired():
            raise TestClientTimeout(f"{what} did not finish within {timeout} s (the TestClient timeout)") from None
        raise


def _server(url: httpx2.URL) -> tuple[str, int]:
    port = url.port
    if port is None:
        port = 443 if url.scheme in ("https", "wss") else 80
    return (url.host, port)


def _http_scope(config: _AppConfig, request: httpx2.Request) -> HTTPScope:
    url = request.url
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": config.root_path,
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "client": config.client,
        "server": _server(url),
        "extensions": {"http.response.debug": {}},
        "state": dict(config.state),
    }


def _request_timeout(request: httpx2.Request, default: float | None) -> float | None:
    timeouts = request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        read = timeouts.get("read", default)
        return read if isinstance(read, (int, float)) or read is None else default
    return default


# ----------------------------------------------------------------------------- HTTP


class _HTTPExchange:
    """One request/response with the app: the ``receive`` and ``send`` it gets, and what it sent."""

    def __init__(self, scope: HTTPScope, body: list[bytes]) -> None:
        self.scope = scope
        self._chunks = [chunk for chunk in body if chunk] or [b""]
        self._sent_chunks = 0
        self._complete = asyncio.Event()
        self._head = scope["method"] == "HEAD"
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.debug: dict[str, object] | None = None

    @property
    def complete(self) -> bool:
        return self._complete.is_set()

    async def receive(self) -> HTTPReceiveEvent:
        if self._sent_chunks < len(self._chunks):
            chunk = self._chunks[self._sent_chunks]
            self._sent_chunks += 1
            return {"type": "http.request", "body": chunk, "more_body": self._sent_chunks < len(self._chunks)}
        # Like a server: the client "disconnects" once the response is complete, not before.
        await self._complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: SendEvent | ExtensionSendEvent) -> None:
        # Keys the spec lets apps omit are read with .get(): foreign apps do omit them.
        if message["type"] == "http.response.start":
            if self.status is not None:
                raise RuntimeError("The app sent 'http.response.start' twice")
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            if self.status is None:
                raise RuntimeError("The app sent 'http.response.body' before 'http.response.start'")
            if self._complete.is_set():
                raise RuntimeError("The app sent 'http.response.body' after the response was complete")
            body = message.get("body", b"")
            if body and not self._head:
                self.body.append(body)
            if not message.get("more_body", False):
                self._complete.set()
        elif message["type"] == "http.response.debug":
            self.debug = dict(message["info"])
        elif message["type"] not in ("http.response.trailers", "http.response.push"):
            raise RuntimeError(f"The app sent {message['type']!r}, which is not an HTTP response message")

    def response(self, request: httpx2.Request) -> httpx2.Response:
        assert self.status is not None
        response = httpx2.Response(
            self.status, headers=self.headers, stream=httpx2.ByteStream(b"".join(self.body)), request=request
        )
        if self.debug is not None:
            response.extensions["http.response.debug"] = self.debug
            for key in ("template", "context"):  # Starlette-style attributes, for template tests
                if key in self.debug:
                    setattr(response, key, self.debug[key])
        return response


async def _exchange(config: _AppConfig, scope: HTTPScope, body: list[bytes], timeout: float | None) -> _HTTPExchange:
    """Run the app for one request; raise its error or turn it into a 500, as configured."""
    exchange = _HTTPExchange(scope, body)
    target = f"The app's response to {scope['method']} {scope['path']}"
    try:
        await _within(config.app(scope, exchange.receive, exchange.send), timeout, target)
    except TestClientTimeout:
        raise
    except Exception:
        if config.raise_server_exceptions:
            raise
        if exchange.status is None:  # nothing sent yet: answer as a server would
            exchange.status = 500
            exchange.headers = [(b"content-type", b"text/plain; charset=utf-8")]
            exchange.body = [b"Internal Server Error"]
        return exchange
    if exchange.status is None:
        raise RuntimeError(f"{target}: the app returned without sending 'http.response.start'")
    if not exchange.complete:
        raise RuntimeError(
            f"{target}: the app returned before the body was complete (the last 'http.response.body' "
            "must have more_body=False)"
        )
    return exchange


# ----------------------------------------------------------------------------- lifespan


class _Lifespan:
    """Drives the app's lifespan protocol in the current loop: startup before the tests, shutdown after."""

    def __init__(self, config: _AppConfig) -> None:
        self._config = config
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None
        self._to_app: asyncio.Queue[LifespanReceiveEvent] | None = None
        self._from_app: asyncio.Queue[LifespanSendEvent | None] | None = None  # None: the app returned

    async def _run(self, scope: LifespanScope, to_app: asyncio.Queue[LifespanReceiveEvent]) -> None:
        from_app = self._from_app
        assert from_app is not None

        async def receive() -> LifespanReceiveEvent:
            return await to_app.get()

        async def send(message: SendEvent) -> None:
            if not message["type"].startswith("lifespan."):
                raise RuntimeError(f"The app sent {message['type']!r} during the lifespan")
            from_app.put_nowait(cast(LifespanSendEvent, message))

        try:
            await self._config.app(scope, receive, send)
        except Exception as error:
            self._error = error
        finally:
            from_app.put_nowait(None)

    async def _next(self, phase: str) -> LifespanSendEvent | None:
        assert self._from_app is not None
        return await _within(self._from_app.get(), self._config.timeout, f"Lifespan {phase}")

    async def _finish(self, task: asyncio.Task[None] | None) -> None:
        """Give the app's lifespan coroutine the timeout to return, then cancel it."""
        if task is None or task.done():
            return
        await asyncio.wait({task}, timeout=self._config.timeout)
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)

    def _failure(self, phase: str, message: str) -> Exception:
        # The app's own exception, when it raised one, names the real cause.
        return self._error if self._error is not None else RuntimeError(f"Lifespan {phase} failed: {message}")

    async def startup(self) -> None:
        self._config.state = {}
        scope: LifespanScope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self._config.state,
        }
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        self._to_app.put_nowait({"type": "lifespan.startup"})
        self._task = asyncio.create_task(self._run(scope, self._to_app))
        message = await self._next("startup")
        if message is None:
            # The app returned or raised before answering: it does not do lifespan. Go on without it,
            # as uvicorn does.
            self._task = None
            return
        if message["type"] == "lifespan.startup.complete":
            return
        if message["type"] == "lifespan.startup.failed":
            task, self._task = self._task, None
            await self._finish(task)
            raise self._failure("startup", message["message"])
        raise RuntimeError(f"The app sent {message['type']!r} in answer to 'lifespan.startup'")

    async def shutdown(self) -> None:
        task, self._task = self._task, None
        if task is None or self._to_app is None:
            return
        if task.done():
            if self._error is not None:
                raise self._error
            return
        self._to_app.put_nowait({"type": "lifespan.shutdown"})
        message = await self._next("shutdown")
        await self._finish(task)
        if message is None:
            if self._error is not None:
                raise self._error
            return
        if message["type"] == "lifespan.shutdown.complete":
            return
        if message["type"] == "lifespan.shutdown.failed":
            raise self._failure("shutdown", message["message"])
        raise RuntimeError(f"The app sent {message['type']!r} in answer to 'lifespan.shutdown'")


# ----------------------------------------------------------------------------- websockets


class WebSocketDenialResponse(httpx2.Response, Exception):  # type: ignore[misc]  # __setstate__ differs: pickling only
    """The app refused the handshake with an HTTP response (the WebSocket denial response extension).

    Raised by ``websocket_connect``; it is also the response: ``.status_code .headers .content .text .json()``.
    """

    def __str__(self) -> str:
        return f"WebSocket handshake denied with HTTP {self.status_code}: {self.text[:200]!r}"


def _denial(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> WebSocketDenialResponse:
    denial = WebSocketDenialResponse(status, headers=headers, stream=httpx2.ByteStream(body))
    denial.read()
    return denial


def _websocket_scope(config: _AppConfig, request: httpx2.Request, subprotocols: list[str]) -> WebSocketScope:
    url = request.url
    headers = [(name.lower(), value) for name, value in request.headers.raw if name.lower() != b"connection"]
    headers += [
        (b"connection", b"upgrade"),
        (b"upgrade", b"websocket"),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-key", _WEBSOCKET_KEY),
    ]
    if subprotocols:
        headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme),
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": config.root_path,
        "headers": headers,
        "client": config.client,
        "server": _server(url),
        "subprotocols": subprotocols,
        "extensions": {"websocket.http.response": {}},
        "state": dict(config.state),
    }


class _ClientGone(OSError):
    """What the app's send() raises once the test closed the connection (ASGI 2.4: an OSError)."""


class _WebSocketChannel:
    """The server side of one websocket connection: the app runs as a task, messages go through queues."""

    def __init__(self, config: _AppConfig, scope: WebSocketScope) -> None:
        self._config = config
        self._scope = scope
        self._to_app: asyncio.Queue[WebSocketReceiveMessage] = asyncio.Queue()
        self._from_app: asyncio.Queue[WebSocketSendMessage | None] = asyncio.Queue()  # None: the app returned
        self._task: asyncio.Task[None] | None = None
        self._disconnect: WebSocketReceiveMessage | None = None  # once the client left: what receive() repeats
        self._closed: WebSocketDisconnect | None = None  # once the app closed: what the client sees again
        self._state: Literal["connecting", "connected", "denying", "closed"] = "connecting"
        self._error: Exception | None = None
        self._error_reported = False
        self.hung = False

    # -- the app's side

    async def _run(self) -> None:
        try:
            await self._config.app(self._scope, self._app_receive, self._app_send)
        except Exception as error:
            self._error = error
        finally:
            self._from_app.put_nowait(None)

    async def _app_receive(self) -> WebSocketReceiveMessage:
        if self._disconnect is not None and self._to_app.empty():
            return self._disconnect
        return await self._to_app.get()

    async def _app_send(self, message: SendEvent) -> None:
        kind = message["type"]
        allowed = {
            "connecting": ("websocket.accept", "websocket.close", "websocket.http.response.start"),
            "connected": ("websocket.send", "websocket.close"),
            "denying": ("websocket.http.response.body",),
            "closed": (),
        }[self._state]
        if kind not in allowed:
            raise RuntimeError(f"The app sent {kind!r} while the websocket was {self._state}")
        if self._disconnect is not None and kind == "websocket.send":
            raise _ClientGone("The test client has closed the websocket")
        if kind == "websocket.accept":
            self._state = "connected"
        elif kind == "websocket.close":
            self._state = "closed"
        elif kind == "websocket.http.response.start":
            self._state = "denying"
        elif kind == "websocket.http.response.body" and not message.get("more_body", False):
            self._state = "closed"
        self._from_app.put_nowait(cast(WebSocketSendMessage, message))

    # -- the test's side

    def take_error(self) -> Exception | None:
        """The app's exception, once, when the client re-raises them (a reaction to the client leaving is not one)."""
        error = self._error
        if error is None or self._error_reported or not self._config.raise_server_exceptions:
            return None
        if self._disconnect is not None and isinstance(error, (WebSocketDisconnect, _ClientGone)):
            return None
        self._error_reported = True
        return error

    async def _next(self, what: str) -> WebSocketSendMessage | None:
        return await _within(self._from_app.get(), self._config.timeout, what)

    async def handshake(self) -> WebSocketAcceptEvent:
        self._to_app.put_nowait({"type": "websocket.connect"})
        self._task = asyncio.create_task(self._run())
        message = await self._next("The websocket handshake")
        if message is None:  # the app returned without answering: what a server answers then
            error = self.take_error()
            if error is not None:
                raise error
            raise _denial(500 if self._error is not None else 403, [], b"")
        if message["type"] == "websocket.accept":
            return message
        if message["type"] == "websocket.close":
            await self.finish()
            error = self.take_error()
            if error is not None:
                raise error
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        if message["type"] == "websocket.http.response.start":
            status, headers, body = message["status"], list(message.get("headers", [])), []
            while (part := await self._next("The websocket denial response")) is not None:
                if part["type"] == "websocket.http.response.body":
                    body.append(part.get("body", b""))
                    if not part.get("more_body", False):
                        break
            await self.finish()
            error = self.take_error()
            if error is not None:
                raise error
            raise _denial(status, headers, b"".join(body))
        raise RuntimeError(f"The app sent {message['type']!r} during the websocket handshake")  # pragma: no cover

    async def send(self, message: WebSocketReceiveMessage) -> None:
        if message["type"] == "websocket.disconnect":
            self._disconnect = message
        self._to_app.put_nowait(message)

    async def receive(self) -> WebSocketSendEvent:
        if self._closed is not None:
            raise self._closed
        message = await self._next("The websocket app's next message")
        if message is None:  # the app returned: a server closes the connection for it
            self._from_app.put_nowait(None)  # so the next receive() sees the same
            error = self.take_error()
            if error is not None:
                raise error
            raise WebSocketDisconnect(1011 if self._error is not None else 1000)
        if message["type"] == "websocket.close":
            self._closed = WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            raise self._closed
        if message["type"] == "websocket.send":
            return message
        raise RuntimeError(f"The app sent {message['type']!r} after the handshake")  # pragma: no cover

    async def finish(self) -> None:
        """Tell the app the client left (unless it knows), and give it the timeout to return."""
        task = self._task
        if task is None or task.done():
            return
        if self._disconnect is None:
            await self.send({"type": "websocket.disconnect", "code": 1000, "reason": None})
        await asyncio.wait({task}, timeout=self._config.timeout)
        if not task.done():
            self.hung = True
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)


class WebSocketTestSession:
    """A websocket connection to the app, used as a context manager (``client.websocket_connect(url)``).

    Entering performs the handshake: it raises :class:`WebSocketDisconnect` when the app closes instead
    of accepting, :class:`WebSocketDenialResponse` when it answers with HTTP. ``receive*()`` raise
    :class:`WebSocketDisconnect` (with the app's code and reason) once the app closes. Leaving
    disconnects with code 1000 and waits for the app to return; its exception, if any, is raised then.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, config: _AppConfig, scope: WebSocketScope, loop: _LoopProvider) -> None:
        self.scope = scope
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._config = config
        self._loop = loop  # held: keeps the loop thread alive even if the client is dropped
        self._channel = _WebSocketChannel(config, scope)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.get().run(coroutine)

    def __enter__(self) -> Self:
        accept = self._run(self._channel.handshake())
        self.accepted_subprotocol = accept.get("subprotocol")
        self.extra_headers = list(accept.get("headers", []))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._run(self._channel.finish())
        error = self._channel.take_error()
        if error is not None:
            raise error
        hung, self._channel.hung = self._channel.hung, False
        if hung and exc_type is None:
            raise TestClientTimeout(
                f"The websocket app did not return within {self._config.timeout} s after the client disconnected"
            )

    def send(self, message: WebSocketReceiveMessage) -> None:
        """Send a raw ASGI message to the app."""
        self._run(self._channel.send(message))

    def send_text(self, data: str) -> None:
        # As servers send it: the key that would be None is left out (apps must read with .get).
        self.send(cast(WebSocketReceiveEvent, {"type": "websocket.receive", "text": data}))

    def send_bytes(self, data: bytes) -> None:
        self.send(cast(WebSocketReceiveEvent, {"type": "websocket.receive", "bytes": data}))

    def send_json(self, data: object, mode: Literal["text", "binary"] = "text") -> None:
        encoded = _json_encoder.encode(data)
        if mode == "text":
            self.send_text(encoded.decode())
        elif mode == "binary":
            self.send_bytes(encoded)
        else:
            raise ValueError(f'mode must be "text" or "binary", got {mode!r}')

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close from the client's side: the app receives ``websocket.disconnect`` with ``code``."""
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    def receive(self) -> WebSocketSendEvent:
        """The app's next ``websocket.send`` message; raises WebSocketDisconnect once the app closed."""
        return self._run(self._channel.receive())

    def receive_text(self) -> str:
        text = self.receive()["text"]
        if text is None:
            raise TypeError("Expected a text message, the app sent bytes")
        return text

    def receive_bytes(self) -> bytes:
        data = self.receive()["bytes"]
        if data is None:
            raise TypeError("Expected a bytes message, the app sent text")
        return data

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> object:
        if mode == "text":
            return msgspec.json.decode(self.receive_text())
        if mode == "binary":
            return msgspec.json.decode(self.receive_bytes())
        raise ValueError(f'mode must be "text" or "binary", got {mode!r}')


# ----------------------------------------------------------------------------- the loop thread


class _LoopThread:
    """One asyncio loop in a daemon thread; the test's thread submits coroutines to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="typedasgi-testclient", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.wait(tasks, timeout=DEFAULT_TIMEOUT))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coroutine.close()
            raise RuntimeError("A TestClient cannot be called from inside the app it is testing")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # a KeyboardInterrupt in the test stops the app too
            raise

    @staticmethod
    def stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        """Stop the loop and wait for its thread (static: a finalizer must not hold the client)."""
        if loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # closed meanwhile
            return
        if threading.current_thread() is not thread:
            thread.join(DEFAULT_TIMEOUT + 5)


# ----------------------------------------------------------------------------- sync client


class _TestTransport(httpx2.BaseTransport):
    """Turns each httpx2 request into an ASGI HTTP call run in the client's loop thread."""

    def __init__(self, config: _AppConfig, loop: _LoopProvider) -> None:
        self._config = config
        self._loop = loop

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        stream = request.stream
        if not isinstance(stream, httpx2.SyncByteStream):
            raise TypeError("The TestClient needs a synchronous request body")
        body = list(stream)
        scope = _http_scope(self._config, request)
        timeout = _request_timeout(request, self._config.timeout)
        exchange = self._loop.get().run(_exchange(self._config, scope, body, timeout))
        return exchange.response(request)


class _LoopProvider:
    """Starts the loop thread on first use; stops it on demand or when its owner is collected."""

    def __init__(self) -> None:
        self._thread: _LoopThread | None = None
        self._finalizer: weakref.finalize[[asyncio.AbstractEventLoop, threading.Thread], _LoopProvider] | None = None
        self._lock = threading.Lock()

    def get(self) -> _LoopThread:
        with self._lock:
            if self._thread is None:
                thread = _LoopThread()
                self._thread = thread
                self._finalizer = weakref.finalize(self, _LoopThread.stop, thread.loop, thread.thread)
            return self._thread

    def stop(self) -> None:
        with self._lock:
            finalizer, self._finalizer, self._thread = self._finalizer, None, None
        if finalizer is not None:
            finalizer()


class TestClient(httpx2.Client):
    """A synchronous httpx2 client whose requests go straight to ``app``.

    ``with TestClient(app) as client:`` also runs the app's lifespan (startup before the block,
    shutdown after); a client may be entered again after it left a block.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: AnyASGIApp | ASGI2App,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: CookieTypes | None = None,
        headers: HeaderTypes | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    ) -> None:
        self.app = app
        self._config = _AppConfig.create(app, root_path, client, raise_server_exceptions, timeout)
        self._loop = _LoopProvider()
        self._lifespan: _Lifespan | None = None
        super().__init__(
            base_url=base_url,
            headers=_default_headers(headers),
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=_TestTransport(self._config, self._loop),
        )

    @property
    def app_state(self) -> dict[str, Any]:
        """The lifespan state (values are the app's); each request's scope gets a shallow copy."""
        return self._config.state

    def __enter__(self) -> Self:
        if self._lifespan is not None:
            raise RuntimeError("This TestClient is already running the app's lifespan")
        lifespan = _Lifespan(self._config)
        try:
            self._loop.get().run(lifespan.startup())
        except BaseException:
            self._loop.stop()
            raise
        self._lifespan = lifespan
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                self._loop.get().run(lifespan.shutdown())
        finally:
            self._loop.stop()

    def close(self) -> None:
        super().close()
        self._loop.stop()

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, headers: HeaderTypes | None = None
    ) -> WebSocketTestSession:
        """A websocket session to ``url`` (merged with ``base_url``, headers and cookies as for requests)."""
        request = self.build_request("GET", url, headers=headers)
        scope = _websocket_scope(self._config, request, list(subprotocols or ()))
        return WebSocketTestSession(self._config, scope, self._loop)


# ----------------------------------------------------------------------------- async client


class _AsyncTestTransport(httpx2.AsyncBaseTransport):
    """Runs the app for each request in the caller's own loop."""

    def __init__(self, config: _AppConfig) -> None:
        self._config = config

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        stream = request.stream
        if not isinstance(stream, httpx2.AsyncByteStream):
            raise TypeError("The AsyncTestClient needs an asynchronous request body")
        body = [chunk async for chunk in stream]
        scope = _http_scope(self._config, request)
        timeout = _request_timeout(request, self._config.timeout)
        exchange = await _exchange(self._config, scope, body, timeout)
        return exchange.response(request)


class AsyncTestClient(httpx2.AsyncClient):
    """An async httpx2 client whose requests go straight to ``app``, in the running loop.

    ``async with AsyncTestClient(app) as client:`` runs the app's lifespan around the block.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: AnyASGIApp | ASGI2App,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: CookieTypes | None = None,
        headers: HeaderTypes | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    ) -> None:
        self.app = app
        self._config = _AppConfig.create(app, root_path, client, raise_server_exceptions, timeout)
        self._lifespan: _Lifespan | None = None
        super().__init__(
            base_url=base_url,
            headers=_default_headers(headers),
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=_AsyncTestTransport(self._config),
        )

    @property
    def app_state(self) -> dict[str, Any]:
        """The lifespan state (values are the app's); each request's scope gets a shallow copy."""
        return self._config.state

    async def __aenter__(self) -> Self:
        if self._lifespan is not None:
            raise RuntimeError("This AsyncTestClient is already running the app's lifespan")
        lifespan = _Lifespan(self._config)
        await lifespan.startup()
        self._lifespan = lifespan
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown()

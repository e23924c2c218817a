"""HTTP through the test clients: each httpx2 request becomes one ASGI HTTP call to the app.

The synchronous client streams, as a server does: the response is handed back
as soon as the app sent ``http.response.start``, and each body message waits
until the test reads it (backpressure), so ``client.stream()`` sees chunks as
they are produced and closing a response early cancels the app. Once the body
is complete, closing waits for the app to finish (background tasks included)
and raises its error when ``raise_server_exceptions`` is on. Trailers (the
``http.response.trailers`` extension) land in ``response.extensions``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Literal, cast

try:
    import httpx2
except ImportError as _missing:  # pragma: no cover - exercised only without the extra
    raise ImportError("The TestClient needs httpx2: pip install 'typedasgi[testclient]'") from _missing

from typedasgi.testclient_app import (
    AppConfig,
    AppProtocolError,
    TestClientTimeout,
    app_failure,
    server_address,
    wait_within,
)
from typedasgi.testclient_loop import LoopProvider
from typedasgi.types import ExtensionSendEvent, HTTPReceiveEvent, HTTPScope, SendEvent

__all__ = ["AsyncTestTransport", "TestTransport"]

def _http_scope(config: AppConfig, request: httpx2.Request) -> HTTPScope:
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
        "server": server_address(url),
        "extensions": {"http.response.debug": {}, "http.response.trailers": {}, **config.raise_extension()},
        "state": dict(config.state),
    }


def _request_timeout(request: httpx2.Request, default: float | None) -> float | None:
    timeouts = request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        read = cast("dict[str, object]", timeouts).get("read", default)  # isinstance() leaves the item types unknown
        return read if isinstance(read, (int, float)) or read is None else default
    return default


class _HTTPExchange:
    """One request/response with the app: the ``receive`` and ``send`` it gets, and what it sent."""

    def __init__(self, scope: HTTPScope, body: list[bytes]) -> None:
        self.scope = scope
        self._chunks = [chunk for chunk in body if chunk] or [b""]
        self._sent_chunks = 0
        self._complete = asyncio.Event()
        self._head = scope.get("method") == "HEAD"
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
                raise AppProtocolError("The app sent 'http.response.start' twice")
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            if self.status is None:
                raise AppProtocolError("The app sent 'http.response.body' before 'http.response.start'")
            if self._complete.is_set():
                raise AppProtocolError("The app sent 'http.response.body' after body completed")
            body = message.get("body", b"")
            if body and not self._head:
                self.body.append(body)
            if not message.get("more_body", False):
                self._complete.set()
        elif message["type"] == "http.response.debug":
            self.debug = dict(message["info"])
        elif message["type"] not in ("http.response.trailers", "http.response.push"):
            raise AppProtocolError(f"The app sent {message['type']!r}, which is not an HTTP response message")

    def response(self, request: httpx2.Request) -> httpx2.Response:
        assert self.status is not None
        response = httpx2.Response(
            self.status, headers=self.headers, stream=httpx2.ByteStream(b"".join(self.body)), request=request
        )
        return _with_debug(response, self.debug)


def _with_debug(response: httpx2.Response, debug: dict[str, object] | None) -> httpx2.Response:
    """Expose the app's ``http.response.debug`` info on the response (and Starlette's ``template``/``context``)."""
    if debug is not None:
        response.extensions["http.response.debug"] = debug
        for key in ("template", "context"):  # Starlette-style attributes, for template tests
            if key in debug:
                setattr(response, key, debug[key])
    return response


async def _exchange(config: AppConfig, scope: HTTPScope, body: list[bytes], timeout: float | None) -> _HTTPExchange:
    """Run the app for one request; raise its error or turn it into a 500, as configured."""
    exchange = _HTTPExchange(scope, body)
    target = f"The app's response to {scope['method']} {scope['path']}"
    try:
        await wait_within(config.call(scope, exchange.receive, exchange.send), timeout, target)
    except TestClientTimeout:
        raise
    except BaseException as error:
        if config.raise_server_exceptions or not app_failure(error):
            raise
        if exchange.status is None:  # nothing sent yet: answer as a server would
            exchange.status = 500
            exchange.headers = [(b"content-type", b"text/plain; charset=utf-8")]
            exchange.body = [b"Internal Server Error"]
        return exchange
    if exchange.status is None:
        raise AppProtocolError(
            f"TestClient did not receive any response: {target} returned without sending 'http.response.start'"
        )
    if not exchange.complete:
        raise AppProtocolError(
            f"{target}: the app returned before body completed (the last 'http.response.body' "
            "must have more_body=False)"
        )
    return exchange


_END: Literal["end"] = "end"


class _StreamedExchange(_HTTPExchange):
    """An exchange whose app runs as a task while the test pulls the body, one message at a time."""

    def __init__(self, config: AppConfig, scope: HTTPScope, body: list[bytes], timeout: float | None) -> None:
        super().__init__(scope, body)
        self.config, self.timeout = config, timeout
        self.target = f"The app's response to {scope.get('method', 'GET')} {scope['path']}"
        self.extensions: dict[str, object] = {}
        self._started = asyncio.Event()
        self._handover: asyncio.Queue[tuple[bytes, bool] | Literal["end"]] = asyncio.Queue(maxsize=1)
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        self.body_complete = False  # the test has taken the last body message
        self.trailers: list[tuple[bytes, bytes]] = []
        self.trailers_pending = False  # declared in http.response.start, not all sent yet

    @property
    def response_complete(self) -> bool:
        """The body was read in full and every declared trailer arrived: closing now waits for the app."""
        return self.body_complete and not self.trailers_pending

    async def send(self, message: SendEvent | ExtensionSendEvent) -> None:
        if message["type"] == "http.response.trailers":
            if self.status is None or "http.response.trailers" not in self.extensions:
                raise AppProtocolError("The app sent 'http.response.trailers' without declaring trailers")
            if not self._complete.is_set():
                raise AppProtocolError("The app sent 'http.response.trailers' before body completed")
            if not self.trailers_pending:
                raise AppProtocolError("The app sent 'http.response.trailers' after response completed")
            self.trailers.extend(message.get("headers", []))
            if not message.get("more_trailers", False):
                self.trailers_pending = False
            return
        if message["type"] != "http.response.body":
            await super().send(message)
            if message["type"] == "http.response.start":
                self.trailers_pending = bool(message.get("trailers", False))
                if self.trailers_pending:
                    self.extensions["http.response.trailers"] = self.trailers
                self._started.set()
            return
        if self.status is None:
            raise AppProtocolError("The app sent 'http.response.body' before 'http.response.start'")
        if self._complete.is_set():
            raise AppProtocolError("The app sent 'http.response.body' after body completed")
        final = not message.get("more_body", False)
        chunk = b"" if self._head else bytes(message.get("body", b""))  # a copy: the app may reuse its buffer
        await self._handover.put((chunk, final))
        await self._handover.join()  # wait until the test took it: backpressure
        if final:
            self._complete.set()  # only now does receive() report the client gone, as a server would

    async def _run(self) -> None:
        try:
            await self.config.call(self.scope, self.receive, self.send)
        except BaseException as error:
            if not app_failure(error):
                raise
            self.error = error
        finally:
            self._started.set()
            if not self._complete.is_set():
                self._complete.set()  # the client "disconnects": receive() answers http.disconnect
            await self._handover.put(_END)

    async def start(self) -> None:
        """Run the app until it started the response (or ended), within the timeout."""
        self._task = asyncio.ensure_future(self._run())
        try:
            await wait_within(self._started.wait(), self.timeout, self.target)
        except BaseException:
            await self.cancel()
            raise

    async def next_chunk(self) -> bytes | Literal["end"]:
        item = await wait_within(self._handover.get(), self.timeout, self.target)
        self._handover.task_done()
        if isinstance(item, str):
            return item
        chunk, final = item
        self.body_complete = self.body_complete or final
        return chunk

    async def finish(self) -> None:
        """Wait for the app to return (background tasks run after the body); its error, if raised.

        Raised in the client's loop, an app's SystemExit or CancelledError still reaches the test's
        thread as itself: the loop thread's ``run`` carries it there (``testclient_loop._carried``)."""
        if not await self._drain():
            await self.cancel()
            raise TestClientTimeout(f"{self.target} did not finish within {self.timeout} s")
        if self.error is not None and self.config.raise_server_exceptions:
            error, self.error = self.error, None
            raise error

    async def cancel(self) -> None:
        """The test closed the response early: stop the app, as a server does when the client goes away.

        What the app still sends while it stops (a final body from a ``finally``, even a shielded one)
        is taken and dropped, so its clean-up cannot wait on a reader that has left."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            if not await self._drain():
                raise TestClientTimeout(f"{self.target} did not stop within {self.timeout} s of being cancelled")
        self.error = None

    async def _drain(self) -> bool:
        """Take what the app still sends, without blocking it, until it returns: False if not within the timeout."""
        task = self._task
        if task is None or task.done():  # nothing to drain: and no await, the client's loop may be closed by now
            return True
        while not task.done():
            getter = asyncio.ensure_future(self._handover.get())
            done, _ = await asyncio.wait((getter, task), timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                self._handover.task_done()
            else:
                getter.cancel()
            if not done:
                return False
        await asyncio.gather(task, return_exceptions=True)  # its outcome is kept in self.error, or was a cancel
        return True


class _PulledBody(httpx2.SyncByteStream):
    """The response body, each chunk fetched from the app when the test asks for it."""

    def __init__(self, exchange: _StreamedExchange, loop: LoopProvider) -> None:
        self._exchange = exchange
        self._loop = loop
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        run = self._loop.get().run
        while not self._closed:
            chunk = run(self._exchange.next_chunk())
            if not isinstance(chunk, bytes):  # _END: the app returned
                self.close()
                if not self._exchange.body_complete and self._exchange.error is None:
                    raise AppProtocolError(
                        f"{self._exchange.target}: the app returned before body completed (the last "
                        "'http.response.body' must have more_body=False)"
                    )
                return
            if chunk:
                yield chunk
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        exchange, run = self._exchange, self._loop.get().run
        if exchange.response_complete or exchange.error is not None:
            run(exchange.finish())
        else:
            run(exchange.cancel())


class TestTransport(httpx2.BaseTransport):
    """Turns each httpx2 request into an ASGI HTTP call run in the client's loop thread."""

    def __init__(self, config: AppConfig, loop: LoopProvider) -> None:
        self._config = config
        self._loop = loop

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        stream = request.stream
        if not isinstance(stream, httpx2.SyncByteStream):
            raise TypeError("The TestClient needs a synchronous request body")
        body = list(stream)
        scope = _http_scope(self._config, request)
        timeout = _request_timeout(request, self._config.timeout)
        exchange = _StreamedExchange(self._config, scope, body, timeout)
        run = self._loop.get().run
        run(exchange.start())
        if exchange.status is None:  # the app ended (or failed) without answering
            run(exchange.finish())  # raises the app's error when configured to
            if exchange.error is None:
                raise AppProtocolError(
                    f"TestClient did not receive any response: {exchange.target} returned without sending "
                    "'http.response.start'"
                )
            exchange.status = 500
            exchange.headers = [(b"content-type", b"text/plain; charset=utf-8")]
            return httpx2.Response(500, headers=exchange.headers, content=b"Internal Server Error", request=request)
        response = httpx2.Response(
            exchange.status, headers=exchange.headers, stream=_PulledBody(exchange, self._loop), request=request,
            extensions=exchange.extensions,
        )
        return _with_debug(response, exchange.debug)


class AsyncTestTransport(httpx2.AsyncBaseTransport):
    """Runs the app for each request in the caller's own loop."""

    def __init__(self, config: AppConfig) -> None:
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

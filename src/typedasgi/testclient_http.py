"""HTTP through the test clients: each httpx2 request becomes one ASGI HTTP call to the app."""

from __future__ import annotations

import asyncio
from typing import cast

try:
    import httpx2
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("The TestClient needs httpx2: pip install 'typedasgi[testclient]'") from exc

from typedasgi.testclient_app import AppConfig, TestClientTimeout, server_address, wait_within
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
        "extensions": {"http.response.debug": {}, **config.raise_extension()},
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


async def _exchange(config: AppConfig, scope: HTTPScope, body: list[bytes], timeout: float | None) -> _HTTPExchange:
    """Run the app for one request; raise its error or turn it into a 500, as configured."""
    exchange = _HTTPExchange(scope, body)
    target = f"The app's response to {scope['method']} {scope['path']}"
    try:
        await wait_within(config.app(scope, exchange.receive, exchange.send), timeout, target)
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
        exchange = self._loop.get().run(_exchange(self._config, scope, body, timeout))
        return exchange.response(request)


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

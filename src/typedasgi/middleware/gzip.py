"""``GZipMiddleware``: compress responses for clients that accept gzip, without buffering.

The decision is made on the first body message, which is all the middleware
ever holds back:

* a complete body (one message) under ``minimum_size`` bytes goes out untouched;
* a larger complete body is compressed in one go and keeps an exact ``Content-Length``;
* a streamed body (``more_body``) is compressed chunk by chunk, each chunk flushed
  (``Z_SYNC_FLUSH``) so the client sees it at once - server-sent events and
  long polls keep working - and ``Content-Length`` is dropped.

Responses that already have a ``Content-Encoding``, partial content (206 /
``Content-Range``), excluded media types (``text/event-stream`` by default) and
``http.response.pathsend`` files pass through unchanged. Compressed responses
get ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence
from typing import Protocol

from typedasgi.datastructures import Headers
from typedasgi.middleware.pure import add_vary, start_headers
from typedasgi.types import AnyASGIApp, HTTPResponseStartEvent, Receive, Scope, Send, SendEvent, as_asgi_app

__all__ = ["GZipMiddleware"]

_GZIP_WBITS = 31  # zlib: 16 (gzip container) + 15 (window size)


@functools.lru_cache(maxsize=128)  # a handful of distinct Accept-Encoding values in practice
def accepts_gzip(accept_encoding: str) -> bool:
    """True when ``Accept-Encoding`` allows gzip (``gzip`` or ``*`` with a non-zero ``q``)."""
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    if float(value) <= 0:
                        break
                except ValueError:
                    break  # an unreadable weight: do not guess
        else:
            return True
    return False


class GZipMiddleware:
    def __init__(
        self,
        app: AnyASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 9,
        exclude_media_types: Sequence[str] = ("text/event-stream",),
    ) -> None:
        if not 0 <= compresslevel <= 9:
            raise ValueError(f"compresslevel must be between 0 and 9, got {compresslevel}")
        self.app = as_asgi_app(app)
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.exclude_media_types = frozenset(t.lower() for t in exclude_media_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            accept = Headers(scope=scope).get("accept-encoding")
            if accept and accepts_gzip(accept):
                await self.app(scope, receive, _GZipResponder(self, send).send)
                return
        await self.app(scope, receive, send)

    def should_compress(self, message: HTTPResponseStartEvent) -> bool:
        """Whether a response with this head may be compressed at all."""
        if message["status"] == 206:
            return False
        headers = start_headers(message)
        if "content-encoding" in headers or "content-range" in headers:
            return False
        content_type = headers.get("content-type")
        if content_type is not None:
            media_type = content_type.partition(";")[0].strip().lower()
            if media_type in self.exclude_media_types:
                return False
        return True


class _Compressor(Protocol):
    """What ``zlib.compressobj()`` returns (zlib gives its type no public name)."""

    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


class _GZipResponder:
    """One response's worth of state: the held-back head and, when streaming, the compressor."""

    __slots__ = ("_compressor", "_config", "_send", "_start")

    def __init__(self, config: GZipMiddleware, send: Send) -> None:
        self._config = config
        self._send = send
        self._start: HTTPResponseStartEvent | None = None
        self._compressor: _Compressor | None = None

    async def send(self, message: SendEvent) -> None:
        if self._compressor is not None:
            if message["type"] == "http.response.body":
                body = self._compressor.compress(message.get("body", b""))
                more_body = message.get("more_body", False)
                body += self._compressor.flush(zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH)
                if body or not more_body:
                    await self._send({"type": "http.response.body", "body": body, "more_body": more_body})
                return
        elif message["type"] == "http.response.start":
            if self._config.should_compress(message):
                self._start = message  # decided on the first body message
                return
        elif self._start is not None:
            start, self._start = self._start, None
            if message["type"] == "http.response.body":
                await self._first_body(start, message.get("body", b""), message.get("more_body", False))
                return
            await self._send(start)  # e.g. a pathsend file: the server sends it as it is
        await self._send(message)

    async def _first_body(self, start: HTTPResponseStartEvent, body: bytes, more_body: bool) -> None:
        config = self._config
        if not more_body and (not body or len(body) < config.minimum_size):
            await self._send(start)
            await self._send({"type": "http.response.body", "body": body, "more_body": False})
            return
        compressor = zlib.compressobj(config.compresslevel, zlib.DEFLATED, _GZIP_WBITS)
        headers = start_headers(start)
        headers["content-encoding"] = "gzip"
        add_vary(headers, "Accept-Encoding")
        if more_body:
            del headers["content-length"]
            self._compressor = compressor
            data = compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
        else:
            data = compressor.compress(body) + compressor.flush()
            headers["content-length"] = str(len(data))
        await self._send(start)
        await self._send({"type": "http.response.body", "body": data, "more_body": more_body})

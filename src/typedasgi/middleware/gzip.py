"""``GZipMiddleware``: compress responses for clients that accept gzip, without buffering.

The decision is made on the first body message, which is all the middleware
ever holds back:

* a complete body (one message) under ``minimum_size`` bytes goes out untouched;
* a larger complete body is compressed in one go and keeps an exact ``Content-Length``
  (none when the response announces trailers);
* a streamed body (``more_body``) is compressed chunk by chunk, each chunk flushed
  (``Z_SYNC_FLUSH``) so the client sees it at once - server-sent events and
  long polls keep working - and ``Content-Length`` is dropped.

Chunks of ``thread_minimum_size`` bytes or more are compressed in a worker thread, so
a large body does not stall the event loop. Responses that already have a
``Content-Encoding``, partial content (206 / ``Content-Range``), media types in
``exclude_content_types`` (already-compressed formats and event streams by default;
``type/*`` wildcards allowed) and ``http.response.pathsend`` files pass through unchanged.

Every response that *could* be compressed gets ``Vary: Accept-Encoding`` - also when
this client did not ask for gzip - so a shared cache never hands the compressed body
to a client that cannot read it, or the other way round.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterable
from typing import NoReturn, Protocol

from typedasgi.headers import first_raw_value, remember
from typedasgi.middleware.pure import WrapsApp, add_vary, start_headers
from typedasgi.types import (
    ASGIApp,
    AnyASGIApp,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
    SendEvent,
    as_asgi_app,
)

__all__ = [
    "DEFAULT_EXCLUDED_CONTENT_TYPES",
    "GZipMiddleware",
    "GZipResponder",
    "IdentityResponder",
    "accepts_gzip",
    "unattached_send",
]

DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/grpc",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "audio/*",
    "font/woff",
    "font/woff2",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/event-stream",
    "video/*",
)
"""Compressed already (gzip would only cost time) or streamed events (must not be held back)."""

_GZIP_WBITS = 31  # zlib: 16 (gzip container) + 15 (window size)
_THREAD_MINIMUM_SIZE = 128 * 1024


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


def _normalize(content_types: Iterable[str]) -> frozenset[str]:
    return frozenset(t.partition(";")[0].strip().lower() for t in content_types)


class _Compressor(Protocol):
    """What ``zlib.compressobj()`` returns (zlib gives its type no public name)."""

    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


class IdentityResponder:
    """The responses to one kind of client, as an ASGI app around ``app``: this one leaves bodies as they are.

    It still marks every response that a gzip client would get compressed with ``Vary: Accept-Encoding``.
    """

    content_encoding: str | None = None

    def __init__(
        self,
        app: AnyASGIApp,
        minimum_size: int,
        *,
        exclude_content_types: Iterable[str] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app: ASGIApp = as_asgi_app(app)
        self.minimum_size = minimum_size
        self.exclude_content_types: frozenset[str] = _normalize(exclude_content_types)
        self._excluded: dict[bytes | None, bool] = {}  # is_excluded() by raw content-type value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, _ResponseStream(self, send, scope.get("method") == "HEAD").send)

    def is_excluded(self, content_type: str | None) -> bool:
        if content_type is None:
            return False
        media_type = content_type.partition(";")[0].strip().lower()
        excluded = self.exclude_content_types
        major = media_type.partition("/")[0]
        return (
            media_type in excluded
            or f"{major}/*" in excluded
            or (media_type.startswith("application/grpc+") and "application/grpc" in excluded)
        )

    def may_encode(self, message: HTTPResponseStartEvent) -> bool:
        """Whether a response with this head may be compressed at all.

        Not when it declares a length under ``minimum_size``: its body would go out as it is, so the
        head goes at once and the body after it untouched, with nothing held back (the usual small
        answer of an API pays no more than that).
        """
        if message["status"] == 206:
            return False
        content_type: bytes | None = None
        for name, value in message.get("headers", ()):  # one pass over the raw pairs, nothing copied
            name = name.lower()
            if name == b"content-length":  # first in typedasgi's own responses: often the only line read
                if value.isdigit() and int(value) < self.minimum_size:
                    return False
            elif name == b"content-encoding" or name == b"content-range":
                return False
            elif name == b"content-type" and content_type is None:
                content_type = value
        if content_type is None:
            return True
        excluded = self._excluded.get(content_type)
        if excluded is None:
            excluded = self.is_excluded(content_type.decode("latin-1"))
            remember(self._excluded, content_type, excluded)  # an app may echo a client's content type
        return not excluded

    def compressor(self) -> _Compressor | None:
        return None


class GZipResponder(IdentityResponder):
    """The responses to a client that accepts gzip, as an ASGI app around ``app``."""

    content_encoding: str | None = "gzip"

    def __init__(
        self,
        app: AnyASGIApp,
        minimum_size: int,
        compresslevel: int = 9,
        *,
        thread_minimum_size: int = _THREAD_MINIMUM_SIZE,
        exclude_content_types: Iterable[str] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        if not 0 <= compresslevel <= 9:
            raise ValueError(f"compresslevel must be between 0 and 9, got {compresslevel}")
        super().__init__(app, minimum_size, exclude_content_types=exclude_content_types)
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size

    def compressor(self) -> _Compressor:
        return zlib.compressobj(self.compresslevel, zlib.DEFLATED, _GZIP_WBITS)


class GZipMiddleware(WrapsApp):
    def __init__(
        self,
        app: AnyASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = _THREAD_MINIMUM_SIZE,
        *,
        exclude_content_types: Iterable[str] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app = as_asgi_app(app)
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types: frozenset[str] = _normalize(exclude_content_types)
        # Built once: a request only picks one.
        self._gzip = GZipResponder(
            self.app,
            minimum_size,
            compresslevel,
            thread_minimum_size=thread_minimum_size,
            exclude_content_types=self.exclude_content_types,
        )
        self._identity = IdentityResponder(self.app, minimum_size, exclude_content_types=self.exclude_content_types)
        self._accepts: dict[bytes | None, bool] = {}  # accepts_gzip() by raw Accept-Encoding value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responder = self._identity
        accept = first_raw_value(scope, b"accept-encoding")
        if accept is not None:
            gzip = self._accepts.get(accept)
            if gzip is None:
                gzip = accepts_gzip(accept.decode("latin-1"))
                remember(self._accepts, accept, gzip)
            if gzip:
                responder = self._gzip
        stream = _ResponseStream(responder, send, scope.get("method") == "HEAD")
        await self._call_app(scope, receive, stream.send)  # what responder(...) does, one call less


async def unattached_send(message: SendEvent) -> NoReturn:
    """A placeholder ``send`` for a responder built by hand before it has a connection: sending is a bug.

    Starlette's responders start with it; code written for them may too. typedasgi's take ``send``
    per response instead.
    """
    raise RuntimeError(f"{message['type']!r} sent before the responder was called with a connection's send")


_VARY_ACCEPT_ENCODING = (b"vary", b"Accept-Encoding")


def _compress(compressor: _Compressor, body: bytes, more_body: bool) -> bytes:
    return compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH)


class _ResponseStream:
    """One response's worth of state: the held-back head and, when encoding, the compressor."""

    __slots__ = ("_compressor", "_config", "_head", "_passthrough", "_send", "_start")

    def __init__(self, config: IdentityResponder, send: Send, head: bool = False) -> None:
        self._config = config
        self._send = send
        self._head = head  # a HEAD request: the body is not sent, the head is GET's
        self._start: HTTPResponseStartEvent | None = None
        self._compressor: _Compressor | None = None
        self._passthrough = False

    async def send(self, message: SendEvent) -> None:
        if message["type"] == "http.response.body" and not self._passthrough:
            start, self._start = self._start, None
            body, more_body = message.get("body", b""), message.get("more_body", False)
            if start is not None:
                if self._head and not body and not more_body:  # typedasgi renders no body for HEAD
                    await self._head_answer(start)
                elif not more_body and len(body) < self._config.minimum_size:  # too small to compress: as it is
                    await self._send(start)
                    await self._send({"type": "http.response.body", "body": body, "more_body": False})
                else:
                    await self._first_body(start, body, more_body)
                return
            compressor = self._compressor
            if compressor is not None:
                data = await self._run(compressor, body, more_body)
                if data or not more_body:
                    await self._send({"type": "http.response.body", "body": data, "more_body": more_body})
                return
        elif message["type"] == "http.response.start":
            if self._config.may_encode(message):
                self._start = message  # decided on the first body message
                return
            self._passthrough = True
        elif self._start is not None and message["type"] != "http.response.early_hint":
            start, self._start = self._start, None
            await self._send(start)  # e.g. a pathsend file: the server sends it as it is
        await self._send(message)

    async def _head_answer(self, start: HTTPResponseStartEvent) -> None:
        """The answer to HEAD with GET's head, as far as it is known without the body nobody reads.

        The app sent no body (typedasgi renders none for HEAD), so the head it sent described the
        uncompressed body; GET's is compressed: its encoding and Vary, and no Content-Length, which
        only compressing the body would tell (RFC 9110 lets HEAD leave such a header out).
        """
        config = self._config
        headers = start_headers(start)
        add_vary(headers, "Accept-Encoding")
        if config.content_encoding is not None:
            headers["content-encoding"] = config.content_encoding
            del headers["content-length"]
        self._passthrough = True
        await self._send(start)
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _first_body(self, start: HTTPResponseStartEvent, body: bytes, more_body: bool) -> None:
        """The head and first body of a response that may be compressed: streamed, or of at least minimum_size."""
        config = self._config
        compressor = config.compressor()
        if compressor is None or config.content_encoding is None:
            raw = list(start.get("headers", ()))  # a copy: the app's list may be shared
            if any(name.lower() == b"vary" for name, _ in raw):
                start["headers"] = raw
                add_vary(start_headers(start), "Accept-Encoding")
            else:  # nothing to merge: one constant pair
                raw.append(_VARY_ACCEPT_ENCODING)
                start["headers"] = raw
            self._passthrough = True
            await self._send(start)
            await self._send({"type": "http.response.body", "body": body, "more_body": more_body})
            return
        headers = start_headers(start)
        add_vary(headers, "Accept-Encoding")
        headers["content-encoding"] = config.content_encoding
        data = await self._run(compressor, body, more_body)
        if more_body or start.get("trailers", False):
            del headers["content-length"]
        else:
            headers["content-length"] = str(len(data))
        self._compressor = compressor
        await self._send(start)
        await self._send({"type": "http.response.body", "body": data, "more_body": more_body})

    async def _run(self, compressor: _Compressor, body: bytes, more_body: bool) -> bytes:
        config = self._config
        if isinstance(config, GZipResponder) and len(body) >= config.thread_minimum_size:
            return await asyncio.to_thread(_compress, compressor, body, more_body)  # a big chunk: off the loop
        return _compress(compressor, body, more_body)

"""Response classes: each one is an ASGI app that sends itself.

The common case is on the hot path of every request, so a ``Response`` does its
work once, in ``__init__``: the body is rendered and the raw header list
(content-length, content-type) is built there. ``__call__`` then only sends two
complete messages. Everything that costs more (file stats, range parsing,
disconnect watching) lives in the subclasses that need it. ``FileResponse``'s
304/206/400/416 decisions are in :mod:`typedasgi.ranges`, its body sending in
:mod:`typedasgi.filebody`.
"""

from __future__ import annotations

import email.utils
import mimetypes
import os
import stat
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from datetime import datetime, timezone
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Literal, TypeAlias
from urllib.parse import quote

from typedasgi.jsoncodec import encode_json
from typedasgi.background import BackgroundTask, run_after_response
from typedasgi.concurrency import iterate_in_threadpool, run_in_threadpool
from typedasgi.datastructures import URL, Headers, MutableHeaders
from typedasgi.denial import denial_send
from typedasgi.disconnect import send_until_disconnect
from typedasgi.filebody import send_file
from typedasgi.headers import (
    CONTENT_LENGTHS,
    SMALL_BODY,
    InvalidHeaderError,
    content_length,
    encode_header,
    encode_header_value,
    remember,
)
from typedasgi.ranges import (
    MAX_RANGES,
    MalformedRangeHeader,
    RangedAnswer,
    RangeNotSatisfiable,
    answer_ranges,
    is_not_modified,
)
from typedasgi.types import HTTPResponseStartEvent, Receive, Scope, Send, extension_send

__all__ = [
    "AsyncContentStream",
    "Content",
    "ContentStream",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "MalformedRangeHeader",
    "PlainTextResponse",
    "RangeNotSatisfiable",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "SyncContentStream",
    "is_not_modified",
]

Content: TypeAlias = str | bytes | memoryview
"""One piece of a streamed body."""
SyncContentStream: TypeAlias = Iterable[Content]
AsyncContentStream: TypeAlias = AsyncIterable[Content]
ContentStream: TypeAlias = AsyncContentStream | SyncContentStream
"""What :class:`StreamingResponse` takes: pieces from a sync or an async iterable."""

_content_types: dict[str, dict[str, bytes]] = {"utf-8": {}}
"""Encoded content-type values by charset, then media type (two str lookups: cheaper than a tuple key);
at most 256 short ones a charset, so media types a client made up cannot fill memory."""


def _content_type(media_type: str, charset: str) -> bytes:
    """The encoded content-type value, with a charset for text; cached."""
    by_media_type = _content_types.setdefault(charset, {})
    value = by_media_type.get(media_type)
    if value is None:
        text = media_type
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            text = f"{media_type}; charset={charset}"
        value = text.encode("latin-1")
        remember(by_media_type, media_type, value)  # an app may pass on a client's media type
    return value


def _has_body_length(status_code: int) -> bool:
    """1xx, 204 and 304 answers have no content, so they must not carry content-length."""
    return status_code >= 200 and status_code != 204 and status_code != 304


def _build_raw_headers(
    headers: Mapping[str, str] | None, body: bytes | None, status_code: int, media_type: str | None, charset: str
) -> list[tuple[bytes, bytes]]:
    if headers:
        raw = [encode_header(key, value) for key, value in headers.items()]  # refuses header injection
        given: set[bytes] = {key for key, _ in raw}
    else:
        raw = []
        given = set()
    if body is not None and b"content-length" not in given and _has_body_length(status_code):
        raw.append(content_length(len(body)))
    if media_type is not None and b"content-type" not in given:
        raw.append((b"content-type", _content_type(media_type, charset)))
    return raw


class Response:
    """A complete body, sent in one message."""

    media_type: str | None = None
    charset = "utf-8"
    status_code: int = 200  # class defaults, for subclasses (and responses made without __init__)
    background: BackgroundTask | None = None

    body: bytes
    raw_headers: list[tuple[bytes, bytes]]

    _encoder: Callable[[object], bytes] | None = None  # what render() does, callable without it (JSON)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "render" in cls.__dict__ and "_encoder" not in cls.__dict__:
            cls._encoder = None
        if getattr(cls.__init__, "keeps_response_init", False):  # no __init__ of its own in the class or above
            setattr(cls, "__init__", _init_for(cls))  # noqa: B010  # mypy refuses assigning to a method
        if cls.__call__ is Response.__call__:
            SENT_INLINE.add(cls)
        else:
            SENT_INLINE.discard(cls)

    def __init__(
        self,
        content: str | bytes | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        # Every argument honoured. The common call, content alone, takes the class's own
        # __init__ from _init_for, which then skips this frame.
        self.body = body = self.render(content)
        if background is not None:
            self.background = background
        self.status_code = status_code
        if media_type is None:
            media_type = self.media_type
        else:
            self.media_type = media_type
        if headers or not _has_body_length(status_code):
            self.raw_headers = _build_raw_headers(headers, body, status_code, media_type, self.charset)
        elif media_type is None:
            self.raw_headers = [content_length(len(body))]
        else:
            self.raw_headers = [content_length(len(body)), (b"content-type", _content_type(media_type, self.charset))]

    def render(self, content: str | bytes | None) -> bytes:
        """Turn ``content`` into the body bytes; subclasses override this for other formats."""
        if content is None:
            return b""
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, (bytes, bytearray, memoryview)):  # pyright: ignore[reportUnnecessaryIsInstance]  # untyped callers
            return bytes(content)
        # bytes(3) is three NUL bytes, bytes([104, 105]) is b"hi": neither is what the endpoint meant to send
        raise TypeError(f"{type(self).__name__} content must be str, bytes or memoryview, not {type(content).__name__}")

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """(Re)build ``raw_headers`` from ``headers``, the body (if any) and the media type."""
        body = self.body if hasattr(self, "body") else None
        self.raw_headers = _build_raw_headers(headers, body, self.status_code, self.media_type, self.charset)

    @property
    def headers(self) -> MutableHeaders:
        """A view over ``raw_headers``: changing it changes what is sent."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header. ``expires`` as an int is seconds from now.

        A name that is not a cookie token, or a ``path``, ``domain`` or ``expires``
        text holding ``;`` or a control character (which would add attributes or
        headers of the client's choosing) raises :class:`InvalidHeaderError`.
        """
        for attribute, text in (("path", path), ("domain", domain), ("expires", expires)):
            if isinstance(text, str) and ";" in text:
                raise InvalidHeaderError(f"Invalid cookie {attribute} {text!r}: ';' would start another attribute")
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie[key] = value  # validates the name, quotes the value where needed
        except CookieError as exc:
            raise InvalidHeaderError(f"Invalid cookie name {key!r}: {exc}") from None
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = str(max_age)
        if expires is not None:
            if isinstance(expires, datetime):
                when = expires.replace(tzinfo=timezone.utc) if expires.tzinfo is None else expires
                morsel["expires"] = email.utils.format_datetime(when.astimezone(timezone.utc), usegmt=True)
            else:
                morsel["expires"] = expires  # Morsel formats an int as "now + seconds"
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True
        if httponly:
            morsel["httponly"] = True
        if samesite is not None:
            if samesite.lower() not in ("strict", "lax", "none"):
                raise ValueError(f"samesite must be 'strict', 'lax' or 'none', got {samesite!r}")
            morsel["samesite"] = samesite
        text = morsel.OutputString()
        if partitioned:  # CHIPS; Morsel only knows it from Python 3.14
            text += "; Partitioned"
        self.raw_headers.append((b"set-cookie", encode_header_value("set-cookie", text)))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Tell the client to drop cookie ``key`` (same path, domain and partition as when it was set)."""
        self.set_cookie(
            key, max_age=0, expires=0, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite,
            partitioned=partitioned,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")  # None for WebSocket scopes (and hand-built method-less ones)
        if method is None and scope["type"] == "websocket":
            send = denial_send(send)  # a denial response: no cost on the HTTP path past the None check
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers, "trailers": False}
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else self.body, "more_body": False})
        if self.background is not None:
            await run_after_response(self.background, scope)


SENT_INLINE: set[type[Response]] = {Response}
"""Response classes whose ``__call__`` is Response's: an app may send their two messages itself, as the
app's direct path does; one set lookup answers both "is it a Response" and "does it send plainly"."""


_init_any = Response.__init__
"""Response's __init__ as written: every argument honoured (what _init_for's functions fall back to)."""


def _init_for(cls: type[Response]) -> Callable[..., None]:
    """``cls.__init__``, for a class that keeps Response's: the call with content alone made cheap.

    That call is on the hot path of every response. The function made here has the class's
    encoded content-type pair, its encoder and whether a ``str`` is encoded as UTF-8 bound in,
    where Response's own would look each up on the class per call (CPython 3.11 has no fast
    path for a class attribute read through an instance). Any other call - other arguments,
    class defaults of its own, or an instance of a subclass that reaches it through
    ``super().__init__`` - goes on to :data:`_init_any`.
    """
    type_header = None if cls.media_type is None else (b"content-type", _content_type(cls.media_type, cls.charset))
    encoder = cls._encoder  # pyright: ignore[reportPrivateUsage]  # Response's own, read for the class
    encodes_utf8 = cls.render is Response.render and cls.charset == "utf-8"
    if cls.status_code != 200 or cls.background is not None:
        return _init_any

    def __init__(
        self: Response,
        content: str | bytes | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if (
            status_code != 200 or headers is not None or media_type is not None or background is not None
            or type(self) is not cls
        ):
            _init_any(self, content, status_code, headers, media_type, background)
            return
        if encoder is not None:
            self.body = body = encoder(content)
        elif type(content) is str and encodes_utf8:
            self.body = body = content.encode()
        else:
            self.body = body = self.render(content)
        size = len(body)
        length = (CONTENT_LENGTHS[size] if size < SMALL_BODY else None) or content_length(size)
        self.raw_headers = [length] if type_header is None else [length, type_header]
        # Stored although the class has them: CPython 3.11 reads an instance value fast, a class
        # default through the slow generic lookup, and the app reads both after every request.
        self.status_code = 200
        self.background = None

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = _init_any.__doc__
    __init__.__annotations__ = _init_any.__annotations__  # the same signature, for inspect and get_type_hints
    __init__.keeps_response_init = True  # type: ignore[attr-defined]  # read by __init_subclass__: no __init__ of its own
    return __init__


_init_any.keeps_response_init = True  # type: ignore[attr-defined]  # a class with this one keeps Response's too
setattr(Response, "__init__", _init_for(Response))  # noqa: B010  # mypy refuses assigning to a method


class HTMLResponse(Response):
    media_type: str | None = "text/html"


class PlainTextResponse(Response):
    media_type: str | None = "text/plain"


class JSONResponse(Response):
    """``content`` encoded with msgspec: dicts, lists, dataclasses, Structs, datetimes, UUIDs, Decimals, ..."""

    media_type: str | None = "application/json"

    if TYPE_CHECKING:
        # Only the accepted type of ``content`` differs from Response.__init__, so at run time that
        # one is used as is: one call frame less per JSON response, on the hot path.
        def __init__(
            self,
            content: object,
            status_code: int = 200,
            headers: Mapping[str, str] | None = None,
            media_type: str | None = None,
            background: BackgroundTask | None = None,
        ) -> None: ...

    def render(self, content: object) -> bytes:
        return encode_json(content)

    _encoder = staticmethod(encode_json)  # render() without the call to it (dropped where render is overridden)


_URL_SAFE = ":/?#[]@!$&'()*+,;=%"  # RFC 3986 reserved characters, and '%' so escapes stay as they are


class RedirectResponse(Response):
    """Redirect to ``url`` (307 keeps the method and body; use 303 after a form POST)."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, None, background)
        raw = self.raw_headers
        if headers:  # ``url`` is the location: one given in ``headers`` too is replaced, not sent twice (as Starlette)
            raw[:] = [(name, value) for name, value in raw if name != b"location"]
        raw.append((b"location", quote(str(url), safe=_URL_SAFE).encode("latin-1")))


class StreamingResponse(Response):
    """A body produced piece by piece; stops as soon as the client disconnects.

    A sync iterable is advanced in the thread pool so it cannot block the event
    loop. If the client goes away, iteration is cancelled and the iterator closed
    (a generator's ``finally`` runs now); the background task still runs after
    that, as for FileResponse (it is often the stream's clean-up).
    """

    body_iterator: AsyncContentStream

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, AsyncIterable):
            self.body_iterator = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.status_code = status_code
        if media_type is not None:
            self.media_type: str | None = media_type
        self.background = background
        self.raw_headers: list[tuple[bytes, bytes]] = _build_raw_headers(
            headers, None, status_code, self.media_type, self.charset
        )

    def _start_message(self) -> HTTPResponseStartEvent:
        headers = self.raw_headers
        return {"type": "http.response.start", "status": self.status_code, "headers": headers, "trailers": False}

    async def _close_iterator(self) -> None:
        aclose = getattr(self.body_iterator, "aclose", None)
        if aclose is not None:
            await aclose()

    async def _stream(self, send: Send) -> bool:
        """Send the whole response; False if the server said the client is gone (ASGI 2.4: OSError).

        Only ``send`` is guarded: an OSError from the iterator itself is the app's error and propagates.
        """
        charset = self.charset
        iterated = False
        try:
            try:
                await send(self._start_message())
            except OSError:
                return False
            async for chunk in self.body_iterator:
                body = chunk.encode(charset) if isinstance(chunk, str) else bytes(chunk)
                try:
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                except OSError:
                    return False
            iterated = True
        finally:
            if not iterated:  # the client left, or a cancel or error: close the iterator now, not at garbage collection
                await self._close_iterator()
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            send = denial_send(send)
        if scope.get("method") == "HEAD":
            await self._close_iterator()
            await send(self._start_message())
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:  # a client that went away ends the stream early; the background task still runs (often clean-up)
            await send_until_disconnect(self._stream(send), receive)
        if self.background is not None:
            await run_after_response(self.background, scope)


# ------------------------------------------------------------------------------------------------ files


def _offers_pathsend(scope: Scope) -> bool:
    return scope["type"] != "lifespan" and "http.response.pathsend" in (scope.get("extensions") or {})


class FileResponse(Response):
    """A file from disk, with validators, conditional requests and byte ranges.

    ``Content-Length``, ``Last-Modified``, ``ETag`` and ``Accept-Ranges`` come
    from the file's stat, taken at send time unless ``stat_result`` is given.
    A GET or HEAD for a 200 answers ``If-None-Match``/``If-Modified-Since`` with
    304 and ``Range`` with 206 (one range, or ``multipart/byteranges``), or
    400/416 for a range that cannot be read or lies past the end.
    On servers with the ``http.response.pathsend`` extension, a whole file is
    handed to the server instead of being read here. If the client leaves
    mid-file, reading stops and the file is closed; the background task still
    runs (it may be the file's clean-up).
    """

    chunk_size = 64 * 1024
    max_ranges = MAX_RANGES

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        method: str | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        self.send_header_only: bool = method is not None and method.upper() == "HEAD"
        if media_type is None:
            media_type = mimetypes.guess_type(filename or path)[0] or "application/octet-stream"
        self.media_type: str | None = media_type
        self.background = background
        self.raw_headers: list[tuple[bytes, bytes]] = _build_raw_headers(
            headers, None, status_code, media_type, self.charset
        )
        if filename is not None and not any(name == b"content-disposition" for name, _ in self.raw_headers):
            quoted = quote(filename)  # a Content-Disposition in ``headers`` wins: one is sent, not two (as Starlette)
            if quoted == filename:
                disposition = f'{content_disposition_type}; filename="{filename}"'
            else:  # non-ASCII or special characters: RFC 5987 encoding
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            self.raw_headers.append((b"content-disposition", disposition.encode("latin-1")))
        self.stat_result = stat_result
        if stat_result is not None:
            self._set_stat_headers(stat_result)

    def _set_stat_headers(self, stat_result: os.stat_result) -> None:
        given = {key for key, _ in self.raw_headers}
        values = (
            (b"content-length", str(stat_result.st_size)),
            (b"last-modified", email.utils.formatdate(stat_result.st_mtime, usegmt=True)),
            (b"etag", f'"{stat_result.st_mtime_ns:x}-{stat_result.st_size:x}"'),
            (b"accept-ranges", "bytes"),
        )
        self.raw_headers.extend((key, value.encode("latin-1")) for key, value in values if key not in given)

    async def _stat(self) -> os.stat_result:
        try:
            stat_result = await run_in_threadpool(os.stat, self.path)
        except FileNotFoundError as exc:
            raise RuntimeError(f"File at path {self.path} does not exist.") from exc
        if not stat.S_ISREG(stat_result.st_mode):
            raise RuntimeError(f"File at path {self.path} is not a file.")
        return stat_result

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stat_result = self.stat_result
        if stat_result is None:
            self.stat_result = stat_result = await self._stat()
            self._set_stat_headers(stat_result)
        # Servers send the method upper-case; hand-built scopes may not, or leave it out.
        method = scope["method"].upper() if scope["type"] == "http" and "method" in scope else "GET"
        if scope["type"] == "websocket":
            send = denial_send(send)
        size = stat_result.st_size
        if scope["type"] == "http" and self.status_code == 200 and (method == "GET" or method == "HEAD"):
            answer = answer_ranges(self.raw_headers, Headers(scope=scope), size, self.max_ranges)
        else:
            answer = RangedAnswer(self.status_code, self.raw_headers, [(0, size - 1)], None)
        status, ranges = answer.status, answer.ranges
        start: HTTPResponseStartEvent = {
            "type": "http.response.start", "status": status, "headers": answer.headers, "trailers": False
        }
        if ranges is None or self.send_header_only or method == "HEAD":
            body = answer.body if method != "HEAD" and not self.send_header_only else b""
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})
        elif status != 206 and _offers_pathsend(scope):
            await send(start)
            await extension_send(send)({"type": "http.response.pathsend", "path": os.path.abspath(self.path)})
        else:
            await send_file(send, receive, start, self.path, ranges, answer.framing, self.chunk_size)
        if self.background is not None:  # also when the client left: it may clean up the file
            await run_after_response(self.background, scope)

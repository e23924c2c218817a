"""Response classes: each one is an ASGI app that sends itself.

The common case is on the hot path of every request, so a ``Response`` does its
work once, in ``__init__``: the body is rendered and the raw header list
(content-length, content-type) is built there. ``__call__`` then only sends two
complete messages. Everything that costs more (file stats, range parsing,
disconnect watching) lives in the subclasses that need it.
"""

from __future__ import annotations

import asyncio
import email.utils
import mimetypes
import os
import secrets
import stat
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from datetime import datetime, timezone
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, BinaryIO, Literal, TypeAlias
from urllib.parse import quote


from typedasgi.jsoncodec import encode_json
from typedasgi.background import BackgroundTask
from typedasgi.concurrency import iterate_in_threadpool, run_in_threadpool
from typedasgi.datastructures import URL, Headers, MutableHeaders
from typedasgi.denial import denial_send
from typedasgi.headers import InvalidHeaderError, encode_header, encode_header_value
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
"""Encoded content-type values by charset, then media type (two str lookups: cheaper than a tuple key)."""


def _content_type(media_type: str, charset: str) -> bytes:
    """The encoded content-type value, with a charset for text; cached."""
    by_media_type = _content_types.setdefault(charset, {})
    value = by_media_type.get(media_type)
    if value is None:
        text = media_type
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            text = f"{media_type}; charset={charset}"
        value = by_media_type[media_type] = text.encode("latin-1")
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
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
    if media_type is not None and b"content-type" not in given:
        raw.append((b"content-type", _content_type(media_type, charset)))
    return raw


class Response:
    """A complete body, sent in one message."""

    media_type: str | None = None
    charset = "utf-8"
    status_code: int = 200  # class defaults: the common response stores only its body and headers
    background: BackgroundTask | None = None

    body: bytes
    raw_headers: list[tuple[bytes, bytes]]

    # Set per class by __init_subclass__ from the class's own media type, charset and methods.
    _type_header: tuple[bytes, bytes] | None = None  # the content-type pair, encoded once
    _defaults_fast = True  # __init__ is Response's: the class defaults are all that can apply
    _encodes_str = True  # render() is Response's: a str is encoded right in __init__
    _encoder: Callable[[object], bytes] | None = None  # what render() does, callable without it

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._type_header = None if cls.media_type is None else (b"content-type", _content_type(cls.media_type, cls.charset))
        cls._defaults_fast = cls.__init__ is Response.__init__ and cls.status_code == 200 and cls.background is None
        cls._encodes_str = cls.render is Response.render
        if "render" in cls.__dict__ and "_encoder" not in cls.__dict__:
            cls._encoder = None

    def __init__(
        self,
        content: str | bytes | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        # The hot path of every response: inline, no helper calls in the common case.
        if background is not None:
            self.background = background
        if type(content) is str and self._encodes_str:
            self.body = body = content.encode(self.charset)
        else:
            encoder = self._encoder
            self.body = body = self.render(content) if encoder is None else encoder(content)
        if status_code == 200 and headers is None and media_type is None and self._defaults_fast:
            content_type = self._type_header
            length = (b"content-length", str(len(body)).encode())
            self.raw_headers = [length] if content_type is None else [length, content_type]
            return
        self.status_code = status_code
        if media_type is None:
            media_type = self.media_type
        else:
            self.media_type = media_type
        if headers or not _has_body_length(status_code):
            self.raw_headers = _build_raw_headers(headers, body, status_code, media_type, self.charset)
        elif media_type is None:
            self.raw_headers = [(b"content-length", str(len(body)).encode())]
        else:
            self.raw_headers = [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", _content_type(media_type, self.charset)),
            ]

    def render(self, content: str | bytes | None) -> bytes:
        """Turn ``content`` into the body bytes; subclasses override this for other formats."""
        if content is None:
            return b""
        if isinstance(content, str):
            return content.encode(self.charset)
        return bytes(content)

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
            await self.background()


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
        self.raw_headers.append((b"location", quote(str(url), safe=_URL_SAFE).encode("latin-1")))


class StreamingResponse(Response):
    """A body produced piece by piece; stops as soon as the client disconnects.

    A sync iterable is advanced in the thread pool so it cannot block the event
    loop. If the client goes away, iteration is cancelled and the background
    task is skipped: the response was never delivered.
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
        try:
            await send(self._start_message())
        except OSError:
            await self._close_iterator()
            return False
        async for chunk in self.body_iterator:
            body = chunk.encode(charset) if isinstance(chunk, str) else bytes(chunk)
            try:
                await send({"type": "http.response.body", "body": body, "more_body": True})
            except OSError:
                await self._close_iterator()
                return False
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            return False
        return True

    async def _wait_for_disconnect(self, receive: Receive) -> None:
        # A denial response (a WebSocket scope) ends on the WebSocket's disconnect instead.
        while (await receive())["type"] not in ("http.disconnect", "websocket.disconnect"):
            pass  # request body the endpoint did not read: drop it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            send = denial_send(send)
        if scope.get("method") == "HEAD":
            await self._close_iterator()
            await send(self._start_message())
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            streamer = asyncio.ensure_future(self._stream(send))
            listener = asyncio.ensure_future(self._wait_for_disconnect(receive))
            try:
                await asyncio.wait((streamer, listener), return_when=asyncio.FIRST_COMPLETED)
                if not streamer.done() and listener.exception() is not None:
                    await streamer  # a failing receive() says nothing about the client: finish the stream
            finally:
                for task in (streamer, listener):
                    if not task.done():
                        task.cancel()
                await asyncio.gather(streamer, listener, return_exceptions=True)
            if streamer.cancelled() or not streamer.result():  # result() raises the stream's own error
                return  # the client went away: nothing more to do, and no background task
        if self.background is not None:
            await self.background()


# ------------------------------------------------------------------------------------------------ files

MAX_RANGES = 16
"""Default cap on the ranges of one ``Range`` header (``FileResponse.max_ranges``)."""

_NOT_MODIFIED_HEADERS = frozenset(
    (b"cache-control", b"content-location", b"date", b"etag", b"expires", b"last-modified", b"vary", b"set-cookie")
)
_BODY_HEADERS = frozenset((b"content-length", b"content-type"))


def _http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _number(text: str) -> int | None:
    if not text or not text.isascii() or not text.isdigit():
        return None
    return int(text) if len(text) < 19 else 1 << 62  # beyond any file size; no huge int parsing


class MalformedRangeHeader(Exception):
    """Starlette's signal for an unreadable ``Range`` value.

    typedasgi's :func:`parse_range_header` never raises it: a malformed range is
    ignored and the whole file is sent, as RFC 9110 says. Kept so imports work.
    """

    def __init__(self, content: str = "Malformed range header.") -> None:
        self.content = content
        super().__init__(content)


class RangeNotSatisfiable(Exception):
    """Starlette's signal for ranges that all lie past the end of a ``max_size``-byte file.

    typedasgi's :func:`parse_range_header` returns ``[]`` instead, and
    :class:`FileResponse` answers 416. Kept so imports work.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        super().__init__(max_size)


def parse_range_header(value: str, size: int, max_ranges: int = MAX_RANGES) -> list[tuple[int, int]] | None:
    """The byte ranges (first, last inclusive) a ``Range`` value asks of a file of ``size`` bytes.

    ``None``: the header is malformed or not about bytes, so it is ignored (RFC
    9110 14.2) and the whole file is sent. ``[]``: nothing can be sent (416),
    because no range is satisfiable, or there are more than ``max_ranges``, or
    they overlap by more than the file's size (a request meant to multiply the
    server's work). Otherwise the satisfiable ranges, sorted, with overlapping
    and adjacent ones merged.
    """
    unit, equals, specs = value.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    wanted: list[tuple[int, int]] = []
    requested = 0
    count = 0
    for raw_spec in specs.split(","):
        spec = raw_spec.strip()
        if not spec:
            continue  # empty list elements are allowed
        count += 1
        if count > max_ranges:
            return []  # checked while parsing, so a hostile header costs at most max_ranges parses
        first_text, dash, last_text = spec.partition("-")
        if not dash:
            return None
        if first_text:
            first = _number(first_text)
            if first is None:
                return None
            if last_text:
                last = _number(last_text)
                if last is None or last < first:
                    return None
            else:
                last = size - 1
        else:
            suffix = _number(last_text)
            if suffix is None:
                return None
            if suffix == 0:
                continue  # unsatisfiable
            first, last = max(size - suffix, 0), size - 1
        if first >= size:
            continue  # unsatisfiable
        last = min(last, size - 1)
        wanted.append((first, last))
        requested += last - first + 1
    if count == 0:
        return None
    if requested > size:
        return []
    wanted.sort()
    merged: list[tuple[int, int]] = []
    for first, last in wanted:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def _header(raw: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in raw:
        if key == name:
            return value.decode("latin-1")
    return None


def _without(raw: list[tuple[bytes, bytes]], names: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
    return [(key, value) for key, value in raw if key not in names]


def _offers_pathsend(scope: Scope) -> bool:
    return scope["type"] != "lifespan" and "http.response.pathsend" in (scope.get("extensions") or {})


def _open_binary(path: str | os.PathLike[str]) -> BinaryIO:
    return open(path, "rb")


def _read_at(file: BinaryIO, offset: int | None, size: int) -> bytes:
    """Seek (when asked) and read, in one trip to the thread pool."""
    if offset is not None:
        file.seek(offset)
    return file.read(size)


def is_not_modified(etag: str | None, last_modified: str | None, request: Mapping[str, str]) -> bool:
    """Whether the request's ``If-None-Match``/``If-Modified-Since`` already hold this version (a 304)."""
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:  # when present, If-Modified-Since is not consulted (RFC 9110 13.2.2)
        if if_none_match.strip() == "*":  # "*" only as the whole field; inside a list it is no tag
            return True
        if etag is None:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag.removeprefix("W/") in tags
    if_modified_since = request.get("if-modified-since")
    if if_modified_since is None or last_modified is None:
        return False
    since, modified = _http_date(if_modified_since), _http_date(last_modified)
    return since is not None and modified is not None and modified <= since


class FileResponse(Response):
    """A file from disk, with validators, conditional requests and byte ranges.

    ``Content-Length``, ``Last-Modified``, ``ETag`` and ``Accept-Ranges`` come
    from the file's stat, taken at send time unless ``stat_result`` is given.
    A GET or HEAD for a 200 answers ``If-None-Match``/``If-Modified-Since`` with
    304 and ``Range`` with 206 (one range, or ``multipart/byteranges``) or 416.
    On servers with the ``http.response.pathsend`` extension, a whole file is
    handed to the server instead of being read here.
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
        if filename is not None:
            quoted = quote(filename)
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

    def _not_modified(self, request: Headers) -> bool:
        return is_not_modified(_header(self.raw_headers, b"etag"), _header(self.raw_headers, b"last-modified"), request)

    def _if_range_holds(self, if_range: str | None) -> bool:
        """Whether the ranges may be sent: no If-Range, or it names the current version (strongly)."""
        if if_range is None:
            return True
        if_range = if_range.strip()
        if if_range.startswith(('"', "W/")):
            etag = _header(self.raw_headers, b"etag")
            return etag is not None and not etag.startswith("W/") and if_range == etag
        last_modified = _header(self.raw_headers, b"last-modified")
        wanted = _http_date(if_range)
        return wanted is not None and last_modified is not None and wanted == _http_date(last_modified)

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
        status, headers = self.status_code, self.raw_headers
        ranges: list[tuple[int, int]] | None = [(0, size - 1)]  # None: no body at all
        multipart: tuple[list[bytes], bytes] | None = None
        if scope["type"] == "http" and status == 200 and (method == "GET" or method == "HEAD"):
            request = Headers(scope=scope)
            range_header = request.get("range")
            if self._not_modified(request):
                status, ranges = 304, None
                headers = [(key, value) for key, value in headers if key in _NOT_MODIFIED_HEADERS]
            elif range_header is not None and self._if_range_holds(request.get("if-range")):
                wanted = parse_range_header(range_header, size, self.max_ranges)
                if wanted == []:
                    status, ranges = 416, None
                    headers = _without(headers, _BODY_HEADERS)
                    headers += [(b"content-range", b"bytes */%d" % size), (b"content-length", b"0")]
                elif wanted is not None and len(wanted) == 1:
                    (first, last), status, ranges = wanted[0], 206, wanted
                    headers = _without(headers, frozenset((b"content-length",)))
                    headers += [
                        (b"content-length", b"%d" % (last - first + 1)),
                        (b"content-range", b"bytes %d-%d/%d" % (first, last, size)),
                    ]
                elif wanted is not None:
                    status, ranges = 206, wanted
                    headers, multipart = self._multipart(wanted, size)
        await send({"type": "http.response.start", "status": status, "headers": headers, "trailers": False})
        if ranges is None or self.send_header_only or method == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif status != 206 and _offers_pathsend(scope):
            await extension_send(send)({"type": "http.response.pathsend", "path": os.path.abspath(self.path)})
        else:
            await self._send_file(send, ranges, multipart)
        if self.background is not None:
            await self.background()

    def _multipart(
        self, ranges: list[tuple[int, int]], size: int
    ) -> tuple[list[tuple[bytes, bytes]], tuple[list[bytes], bytes]]:
        """Headers and framing of a ``multipart/byteranges`` body; its length is known up front."""
        boundary = secrets.token_hex(13).encode("ascii")  # 104 random bits; the length Starlette uses
        content_type = (_header(self.raw_headers, b"content-type") or "application/octet-stream").encode("latin-1")
        part_heads = [
            b"--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
            % (boundary, content_type, first, last, size)
            for first, last in ranges
        ]
        tail = b"--%s--" % boundary  # the close delimiter; RFC 2046 needs no line break after it
        length = sum(len(head) + last - first + 1 + 2 for head, (first, last) in zip(part_heads, ranges)) + len(tail)
        headers = _without(self.raw_headers, _BODY_HEADERS)
        headers += [
            (b"content-type", b"multipart/byteranges; boundary=" + boundary),
            (b"content-length", b"%d" % length),
        ]
        return headers, (part_heads, tail)

    async def _send_file(
        self, send: Send, ranges: list[tuple[int, int]], multipart: tuple[list[bytes], bytes] | None
    ) -> None:
        """Send ``ranges`` of the file in chunks; with ``multipart``, framed as byteranges parts."""
        chunk_size = self.chunk_size
        # Blocking file calls go to the shared thread pool (no aiofiles: a plain install serves files).
        file = await run_in_threadpool(_open_binary, self.path)
        try:
            for index, (first, last) in enumerate(ranges):
                if multipart is not None:
                    prefix = multipart[0][index] if index == 0 else b"\r\n" + multipart[0][index]
                    await send({"type": "http.response.body", "body": prefix, "more_body": True})
                offset: int | None = first if first or index else None
                remaining = last - first + 1
                while remaining > 0:
                    chunk = await run_in_threadpool(_read_at, file, offset, min(chunk_size, remaining))
                    offset = None
                    if not chunk:  # the file shrank since its stat: the promised length cannot be sent
                        raise RuntimeError(f"File at path {self.path} is shorter than expected.")
                    remaining -= len(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            file.close()
        end = b"\r\n" + multipart[1] if multipart is not None else b""
        await send({"type": "http.response.body", "body": end, "more_body": False})

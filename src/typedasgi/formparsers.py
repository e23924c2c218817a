"""Form bodies: url-encoded (built in) and multipart (the ``forms`` extra).

Both parsers stream: the body is consumed chunk by chunk and every limit is
checked as data arrives, so memory stays bounded by the limits whatever the
client sends. A url-encoded body lives in memory, so it is held to the request's
body limit. A multipart body's files go to disk past ``spool_max_size``, so it is
held to its own limits instead (``max_upload_size`` in all, ``max_file_size`` per
file), while its fields and part headers still count against the body limit.
A breach of a count or field limit is a 400, of a size limit a 413, each with a
message naming the limit.

Starlette's parser classes (``FormParser``, ``MultiPartParser``) are here too,
as thin fronts over the same parsers, for code that drives them by hand.
"""

from __future__ import annotations

import codecs
import enum
import errno
import logging
import re
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING, Final, NamedTuple, NoReturn, final
from urllib.parse import unquote_to_bytes

from typing_extensions import deprecated

from typedasgi.concurrency import run_in_threadpool
from typedasgi.datastructures import FormData, Headers, UploadFile
from typedasgi.exceptions import HTTPException, TypedASGIDeprecationWarning

if TYPE_CHECKING:  # the optional dependency, for annotations only; imported for real on first use
    from python_multipart.multipart import MultipartParser

__all__ = [
    "FormLimits",
    "FormMessage",
    "FormParser",
    "MultiPartException",
    "MultiPartParser",
    "MultipartPart",
    "parse_form",
]

_MiB = 1024 * 1024


@dataclass(frozen=True)
class FormLimits:
    """Limits applied while parsing one form; each breach is a 400 with a clear message."""

    max_files: int = 1000
    """Most file parts in a multipart form."""
    max_fields: int = 1000
    """Most non-file fields (url-encoded pairs or multipart text parts)."""
    max_part_size: int = _MiB
    """Largest non-file field value, in bytes."""
    max_file_size: int = 256 * _MiB
    """Largest uploaded file, in bytes (413 past it)."""
    max_upload_size: int = 1024 * _MiB
    """Largest multipart body in all, files included (413 past it); the body limit does not apply to it."""
    max_in_memory_size: int | None = 16 * _MiB
    """What a form may hold in memory: a url-encoded body, a multipart body's fields and part headers
    (413 past it); and, counted apart, its uploaded files before they go to disk (past it, the file being
    written rolls over to disk however small, so 1000 files of 1 MiB hold 16 MiB, not 1 GiB).
    ``Request.form()`` passes the request's body limit; None lifts it."""
    max_part_header_size: int = 16 * 1024
    """Largest total size of one multipart part's header lines (so of any one line too)."""
    max_part_headers: int = 8
    """Most header lines in one multipart part (browsers send two: Content-Disposition, Content-Type)."""
    spool_max_size: int = _MiB
    """Uploaded files stay in memory up to this size, then roll over to a temporary file."""


class MultiPartException(HTTPException):
    """A form that breaks a limit or the multipart syntax: the client's mistake, so a 400.

    ``message`` says which; being an ``HTTPException``, it becomes the 400
    answer wherever the app handles exceptions, and stays catchable by this
    name where code drives a parser by hand.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(400, message)


def _bad_request(message: str) -> MultiPartException:
    return MultiPartException(message)


BodyReader = Callable[[int | None], AsyncIterator[bytes]]
"""``read(limit)``: the request body chunk by chunk, a 413 past ``limit`` bytes (None: no limit)."""


def _too_large(what: str, limit: int) -> HTTPException:
    return HTTPException(413, f"{what} too large: the limit is {limit} bytes")


async def parse_form(headers: Headers, read: BodyReader, limits: FormLimits) -> FormData:
    """Parse the body ``read`` gives by its content type; other content types give an empty form."""
    content_type = headers.get("content-type", "")
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return await _parse_urlencoded(read(limits.max_in_memory_size), _UrlencodedParser(limits))
    if media_type == "multipart/form-data":
        parser = _MultipartParser(_multipart_or_415(), content_type, limits)
        return await parser.parse(read(limits.max_upload_size))
    return FormData()


# ------------------------------------------------------------------ url-encoded


def _decode_pair(piece: bytes) -> tuple[str, str]:
    name, _, value = piece.partition(b"=")
    return (
        unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace"),
        unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8", "replace"),
    )


class _UrlencodedParser:
    """Split on ``&`` as chunks arrive: only the unfinished pair is buffered, and never past ``max_part_size``.

    Limits are checked before bytes are copied or pairs decoded, so one huge chunk
    (a 50 MB body in a single message) costs no more than the limit allows.
    """

    __slots__ = ("fields", "limits", "pairs", "pending")

    def __init__(self, limits: FormLimits) -> None:
        self.limits = limits
        self.pairs: list[tuple[str, str]] = []
        self.pending = bytearray()  # the pair whose end has not arrived yet
        self.fields = 0  # fields seen, the one over the limit included

    def feed(self, chunk: bytes) -> None:
        pending, max_part_size = self.pending, self.limits.max_part_size
        start = 0
        while (end := chunk.find(b"&", start)) != -1:
            if len(pending) + end - start > max_part_size:
                self._too_long()
            if pending:  # the pair began in an earlier chunk
                pending += memoryview(chunk)[start:end]
                self._take(bytes(pending))
                pending.clear()
            elif end > start:  # "a=1&&b=2": empty pieces are not fields
                self._take(chunk[start:end])
            start = end + 1
        if len(pending) + len(chunk) - start > max_part_size:
            self._too_long()
        pending += memoryview(chunk)[start:]

    def finish(self) -> FormData:
        if self.pending:
            self._take(bytes(self.pending))
        return FormData(self.pairs)

    def _take(self, piece: bytes) -> None:
        self.fields += 1
        if self.fields > self.limits.max_fields:
            raise _bad_request(f"Too many fields. Maximum number of fields is {self.limits.max_fields}.")
        self.pairs.append(_decode_pair(piece))

    def _too_long(self) -> NoReturn:
        raise _bad_request(f"Field exceeded maximum size of {self.limits.max_part_size // 1024}KB.")


async def _parse_urlencoded(stream: AsyncIterator[bytes], parser: _UrlencodedParser) -> FormData:
    async for chunk in stream:
        parser.feed(chunk)
    return parser.finish()


# -------------------------------------------------------------------- multipart

logger: logging.Logger = logging.getLogger("typedasgi.formparsers")

_FORMS_MISSING = "Parsing multipart forms needs python-multipart: pip install 'typedasgi[forms]'"


class _Multipart(NamedTuple):
    """What is used from python-multipart."""

    parser: type[MultipartParser]
    parse_options_header: Callable[[str | bytes | None], tuple[bytes, dict[bytes, bytes]]]


_multipart: _Multipart | None = None


def require_multipart() -> None:
    """Raise ``RuntimeError`` naming the ``forms`` extra when python-multipart is missing (checked at start-up)."""
    _multipart_module()


def _multipart_or_415() -> _Multipart:
    """python-multipart for a multipart body; without the extra, a 415 for the client and an error log naming it.

    Handlers that take uploads check the extra when they are registered; a plain ``request.form()``
    cannot be known in advance, so its first multipart body is where the missing extra shows.
    """
    try:
        return _multipart_module()
    except RuntimeError:
        logger.error("%s (a multipart body was answered 415)", _FORMS_MISSING)
        raise HTTPException(415, "multipart/form-data is not supported by this server") from None


def _multipart_module() -> _Multipart:
    """python-multipart, imported on first use (the ``forms`` extra is optional)."""
    global _multipart
    if _multipart is None:
        try:
            from python_multipart import multipart
        except ImportError as exc:
            # A server misconfiguration, not the client's fault: a RuntimeError (500) naming the extra.
            raise RuntimeError(_FORMS_MISSING) from exc
        _multipart = _Multipart(multipart.MultipartParser, multipart.parse_options_header)
    return _multipart


_MAX_BOUNDARY = 200  # RFC 2046 says 70; some clients go a little beyond


@final
class _MultipartParser:
    """Drive python-multipart's callback parser and turn its events into a :class:`FormData`.

    Callbacks run synchronously inside ``parser.write(chunk)``; file data they
    see is queued and written (possibly through the thread pool) after each
    chunk, so at most one chunk of file data is held at a time.
    """

    def __init__(self, module: _Multipart, content_type: str, limits: FormLimits) -> None:
        self.limits = limits
        _, options = module.parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise _bad_request("Missing boundary in multipart.")
        if len(boundary) > _MAX_BOUNDARY:
            raise _bad_request("Invalid multipart data.")
        self._parse_options_header = module.parse_options_header
        # The form's charset, looked up once: it decodes every text part that names none of its own.
        self._form_charset = _resolve_charset(options.get(b"charset"), "utf-8")
        try:
            self.parser = module.parser(
                boundary,
                {
                    "on_part_begin": self._on_part_begin,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                    "on_end": self._on_end,
                },
                max_header_count=limits.max_part_headers,
                max_header_size=limits.max_part_header_size,  # per line; _count_header bounds the sum
            )
        except ValueError as exc:
            raise _bad_request(f"Invalid multipart boundary: {exc}") from None
        self.items: list[tuple[str, UploadFile | str]] = []
        self.fields = 0
        self.files = 0
        self.finished = False
        self.in_memory = 0  # field values and part headers held, across the whole form
        self.spooled = 0  # bytes of uploaded files still in memory (not yet rolled over to disk)
        # The part being parsed.
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._header_size = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._name = ""
        self._charset = self._form_charset
        self._value = bytearray()
        self._file: UploadFile | None = None
        self._file_size = 0
        self._pending: list[tuple[UploadFile, bytes]] = []

    # -- callbacks (synchronous, inside parser.write)

    def _on_part_begin(self) -> None:
        self._headers = []
        self._header_size = 0
        self._value = bytearray()
        self._file = None
        self._file_size = 0

    def _hold(self, size: int) -> None:
        """Count ``size`` more bytes kept in memory against the form's in-memory limit."""
        self.in_memory += size
        limit = self.limits.max_in_memory_size
        if limit is not None and self.in_memory > limit:
            raise _too_large("Form fields and part headers", limit)

    def _count_header(self, size: int) -> None:
        self._hold(size)
        self._header_size += size
        if self._header_size > self.limits.max_part_header_size:
            raise _bad_request("Invalid multipart data.")  # Starlette's words for every header limit

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers.append((bytes(self._header_field).strip().lower(), bytes(self._header_value).strip()))
        self._header_field = bytearray()
        self._header_value = bytearray()

    def _on_headers_finished(self) -> None:
        disposition = next((value for key, value in self._headers if key == b"content-disposition"), None)
        if disposition is None:
            raise _bad_request("Multipart part without a Content-Disposition header")
        kind, options = self._parse_options_header(disposition)
        name = options.get(b"name")
        if kind != b"form-data" or name is None:
            raise _bad_request('The Content-Disposition header field "name" must be provided.')
        self._name = _header_text(name)
        filename = options.get(b"filename")
        if filename is None:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise _bad_request(f"Too many fields. Maximum number of fields is {self.limits.max_fields}.")
            content_type = next((value for key, value in self._headers if key == b"content-type"), b"")
            part_charset = self._parse_options_header(content_type)[1].get(b"charset")
            self._charset = (
                self._form_charset if part_charset is None else _resolve_charset(part_charset, self._form_charset)
            )
            return
        self.files += 1
        if self.files > self.limits.max_files:
            raise _bad_request(f"Too many files. Maximum number of files is {self.limits.max_files}.")
        spooled = SpooledTemporaryFile(max_size=self.limits.spool_max_size)  # found by name: tests swap it
        self._file = UploadFile(
            spooled,
            size=0,
            filename=_header_text(filename),
            headers=Headers(raw=self._headers),
        )
        self.items.append((self._name, self._file))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file_size += end - start
            if self._file_size > self.limits.max_file_size:
                raise _too_large(f"Uploaded file {self._file.filename!r}", self.limits.max_file_size)
            self._pending.append((self._file, data[start:end]))
            return
        self._hold(end - start)
        if len(self._value) + (end - start) > self.limits.max_part_size:
            raise _bad_request(f"Part exceeded maximum size of {self.limits.max_part_size // 1024}KB.")
        self._value += data[start:end]

    def _on_part_end(self) -> None:
        if self._file is None:
            self.items.append((self._name, _decode_text(bytes(self._value), self._charset)))
            self._value = bytearray()

    def _on_end(self) -> None:
        self.finished = True

    # -- the driver

    async def parse(self, stream: AsyncIterator[bytes]) -> FormData:
        received = 0
        try:
            async for chunk in stream:
                received += len(chunk)
                try:
                    _ = self.parser.write(chunk)
                except ValueError:  # python-multipart's FormParserError is a ValueError (its header limits are ours)
                    raise _bad_request("Invalid multipart data.") from None
                await self._flush()
            if received and not self.finished:
                raise _bad_request("Malformed multipart body: it ended before the closing boundary")
            for _, value in self.items:
                if isinstance(value, UploadFile):
                    await value.seek(0)
        except BaseException:
            # Bad input, too large, a disconnect, a cancellation: don't leak the temporary files.
            self._pending.clear()
            for _, value in self.items:
                if isinstance(value, UploadFile):
                    await value.close()
            raise
        return FormData(self.items)

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        budget = self.limits.max_in_memory_size
        for upload, data in pending:
            in_memory = upload._in_memory  # pyright: ignore[reportPrivateUsage]  # same package
            held = upload.size or 0  # the parser's uploads count their bytes from 0
            try:
                if in_memory and budget is not None and self.spooled + len(data) > budget:
                    await _roll_over(upload)  # the form's files hold their share of memory: this one goes to disk now
                await upload.write(data)
            except OSError as exc:
                refusal = _out_of_room(exc)
                if refusal is None:
                    raise
                raise refusal from None
            if in_memory:
                if upload._in_memory:  # pyright: ignore[reportPrivateUsage]
                    self.spooled += len(data)
                else:  # rolled over (by its own size or the form's budget): its bytes left memory
                    self.spooled -= held


async def _roll_over(upload: UploadFile) -> None:
    """Move an in-memory upload to its temporary file now (from the thread pool: it writes to disk)."""
    rollover: Callable[[], None] | None = getattr(upload.file, "rollover", None)  # a SpooledTemporaryFile's
    if rollover is not None:
        await run_in_threadpool(rollover)


_OUT_OF_FILES: Final = frozenset({errno.EMFILE, errno.ENFILE})


def _out_of_room(exc: OSError) -> HTTPException | None:
    """The answer to an upload the server has no room for: 503 out of file descriptors, 507 out of disk.

    Each file on disk holds a descriptor until the request ends; many at once can exhaust the
    process's limit (1024 is a common default; ``typedasgi run`` lifts it to the hard limit).
    """
    if exc.errno in _OUT_OF_FILES:
        logger.warning("Upload answered 503: out of file descriptors for its temporary files (%s)", exc)
        return HTTPException(503, "The server cannot store this upload now", headers={"Retry-After": "5"})
    if exc.errno == errno.ENOSPC:
        logger.warning("Upload answered 507: no space left for its temporary files (%s)", exc)
        return HTTPException(507, "The server has no room to store this upload")
    return None  # any other error is the server's own: a 500, as it is


def _header_text(value: bytes) -> str:
    """Header parameters as browsers send them: UTF-8, or latin-1 from older clients."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


_QUADRATIC_CODECS: Final = frozenset({"punycode"})
"""Codecs whose decoder takes time quadratic in its input: a 1 MiB field would hold the event loop for minutes."""


def _resolve_charset(name: bytes | None, default: str) -> str:
    """The codec a client's charset parameter names; latin-1 (which decodes any bytes) for unknown names.

    Latin-1 too for ``punycode``: it decodes in quadratic time, on the event loop, so a client
    naming it for a 200 KB field would stall every other request for seconds."""
    if name is None:
        return default
    try:
        codec = codecs.lookup(name.decode("latin-1")).name
    except (LookupError, ValueError):  # ValueError: a name with a NUL in it
        return "latin-1"
    return "latin-1" if codec in _QUADRATIC_CODECS else codec


_SURROGATE = re.compile("[\ud800-\udfff]")


def _decode_text(value: bytes, charset: str) -> str:
    """Text in its declared charset; bytes that are not (old clients send latin-1) read as latin-1, not as U+FFFD.

    A client may name any codec: one that is not a text encoding (base64, zlib: LookupError) or
    one that refuses everything (undefined: UnicodeError) is read as latin-1 too, not a 500; so is
    one that yields lone surrogates (utf-7, unicode_escape), which no UTF-8 response or JSON can
    carry: an app writing the value back out would fail.
    """
    try:
        text = value.decode(charset)
    except (UnicodeError, LookupError):
        return value.decode("latin-1")
    if charset != "utf-8" and not text.isascii() and _SURROGATE.search(text):
        return value.decode("latin-1")  # utf-7, unicode_escape: a lone surrogate no response could carry
    return text


# ------------------------------------------------------------ Starlette's fronts


def _limit(value: int | float) -> int:
    """Starlette takes ``float("inf")`` for "no limit"."""
    return sys.maxsize if value == float("inf") else int(value)


class FormParser:
    """Parse an ``application/x-www-form-urlencoded`` body from ``stream``: ``await FormParser(...).parse()``."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncIterator[bytes],
        *,
        max_fields: int | float = 1000,
        max_part_size: int = _MiB,
    ) -> None:
        self.headers = headers
        self.stream = stream
        self.limits: FormLimits = FormLimits(max_fields=_limit(max_fields), max_part_size=max_part_size)
        self._parser = _UrlencodedParser(self.limits)

    async def parse(self) -> FormData:
        self._parser = _UrlencodedParser(self.limits)
        return await _parse_urlencoded(self.stream, self._parser)

    # Starlette's parser state under its names, which code and tests written against it read after a limit hit.
    @property
    def _current_fields(self) -> int:
        return self._parser.fields

    @property
    def _field_value(self) -> bytearray:
        return self._parser.pending


class MultiPartParser:
    """Parse a ``multipart/form-data`` body from ``stream``: ``await MultiPartParser(...).parse()``.

    The class attributes are the defaults of every parser, as in Starlette.
    """

    spool_max_size = _MiB
    """Uploaded files stay in memory up to this size, then roll over to a temporary file."""
    max_part_size: int = _MiB
    """Largest non-file field value, in bytes."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncIterator[bytes],
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = _MiB,
    ) -> None:
        self.headers = headers
        self.stream = stream
        self.max_files = max_files
        self.max_fields = max_fields
        self.max_part_size = max_part_size

    async def parse(self) -> FormData:
        limits = FormLimits(
            max_files=_limit(self.max_files),
            max_fields=_limit(self.max_fields),
            max_part_size=self.max_part_size,
            spool_max_size=self.spool_max_size,
        )
        content_type = self.headers.get("content-type", "")
        return await _MultipartParser(_multipart_module(), content_type, limits).parse(self.stream)


@dataclass
class MultipartPart:
    """One part of a multipart body as a parser collects it (Starlette's record; typedasgi's parser keeps its own)."""

    content_disposition: bytes | None = None
    field_name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: UploadFile | None = None
    item_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@deprecated("`FormMessage` is deprecated: no parser uses it any more", category=TypedASGIDeprecationWarning)
class FormMessage(enum.Enum):
    """The events of Starlette's old url-encoded parser; nothing uses them."""

    FIELD_START = 1
    FIELD_NAME = 2
    FIELD_DATA = 3
    FIELD_END = 4
    END = 5

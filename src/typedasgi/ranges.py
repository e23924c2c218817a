"""Conditional and range requests for a file: which status, headers and bytes a GET gets.

Pure functions over the response's headers, the request's headers and the
file's size (RFC 9110 sections 13 and 14); no I/O. :class:`FileResponse` asks
:func:`answer_ranges` once per request, then sends what it says.

A malformed ``Range`` is ignored (the whole file, 200), as the RFC says. A
hostile one, with many ranges or ranges that overlap beyond the file's size,
gets a 416 after at most ``max_ranges`` parsed parts, so one header cannot
multiply the server's work.
"""

from __future__ import annotations

import email.utils
import secrets
from collections.abc import Mapping
from typing import NamedTuple, TypeAlias

from typedasgi.headers import RawHeaders

__all__ = [
    "MAX_RANGES",
    "ByteRange",
    "ByteRangesFraming",
    "MalformedRangeHeader",
    "RangeNotSatisfiable",
    "RangedAnswer",
    "answer_ranges",
    "header_value",
    "is_not_modified",
    "parse_range_header",
]

MAX_RANGES = 16
"""Default cap on the ranges of one ``Range`` header (``FileResponse.max_ranges``)."""

ByteRange: TypeAlias = tuple[int, int]
"""The first and last byte (inclusive) of one range."""

_NOT_MODIFIED_HEADERS = frozenset(
    (b"cache-control", b"content-location", b"date", b"etag", b"expires", b"last-modified", b"vary", b"set-cookie")
)
_BODY_HEADERS = frozenset((b"content-length", b"content-type"))
_LENGTH_HEADER = frozenset((b"content-length",))


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


class ByteRangesFraming(NamedTuple):
    """The delimiters of a ``multipart/byteranges`` body: one head per part, then the close delimiter."""

    part_heads: list[bytes]
    tail: bytes


class RangedAnswer(NamedTuple):
    """What to send: ``ranges`` of the file (``None``: no body), framed as byteranges parts with ``framing``."""

    status: int
    headers: RawHeaders
    ranges: list[ByteRange] | None
    framing: ByteRangesFraming | None


def _http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _number(text: str) -> int | None:
    if not text or not text.isascii() or not text.isdigit():
        return None
    return int(text) if len(text) < 19 else 1 << 62  # beyond any file size; no huge int parsing


def header_value(raw: RawHeaders, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case) in a raw header list."""
    for key, value in raw:
        if key == name:
            return value.decode("latin-1")
    return None


def _without(raw: RawHeaders, names: frozenset[bytes]) -> RawHeaders:
    return [(key, value) for key, value in raw if key not in names]


def parse_range_header(value: str, size: int, max_ranges: int = MAX_RANGES) -> list[ByteRange] | None:
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
    wanted: list[ByteRange] = []
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
    merged: list[ByteRange] = []
    for first, last in wanted:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


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


def _if_range_holds(headers: RawHeaders, if_range: str | None) -> bool:
    """Whether the ranges may be sent: no If-Range, or it names the current version (strongly)."""
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        etag = header_value(headers, b"etag")
        return etag is not None and not etag.startswith("W/") and if_range == etag
    last_modified = header_value(headers, b"last-modified")
    wanted = _http_date(if_range)
    return wanted is not None and last_modified is not None and wanted == _http_date(last_modified)


def _byteranges(headers: RawHeaders, ranges: list[ByteRange], size: int) -> tuple[RawHeaders, ByteRangesFraming]:
    """Headers and framing of a ``multipart/byteranges`` body; its length is known up front."""
    boundary = secrets.token_hex(13).encode("ascii")  # 104 random bits; the length Starlette uses
    content_type = (header_value(headers, b"content-type") or "application/octet-stream").encode("latin-1")
    part_heads = [
        b"--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
        % (boundary, content_type, first, last, size)
        for first, last in ranges
    ]
    tail = b"--%s--" % boundary  # the close delimiter; RFC 2046 needs no line break after it
    length = sum(len(head) + last - first + 1 + 2 for head, (first, last) in zip(part_heads, ranges)) + len(tail)
    framed = _without(headers, _BODY_HEADERS)
    framed += [
        (b"content-type", b"multipart/byteranges; boundary=" + boundary),
        (b"content-length", b"%d" % length),
    ]
    return framed, ByteRangesFraming(part_heads, tail)


def answer_ranges(headers: RawHeaders, request: Mapping[str, str], size: int, max_ranges: int) -> RangedAnswer:
    """The answer to a GET or HEAD for a 200 file of ``size`` bytes with these response ``headers``.

    304 when the client's copy is current, 416 when no range can be sent, 206
    with one range or ``multipart/byteranges``, else 200 with the whole file.
    """
    if is_not_modified(header_value(headers, b"etag"), header_value(headers, b"last-modified"), request):
        return RangedAnswer(304, [(key, value) for key, value in headers if key in _NOT_MODIFIED_HEADERS], None, None)
    range_header = request.get("range")
    wanted = None
    if range_header is not None and _if_range_holds(headers, request.get("if-range")):
        wanted = parse_range_header(range_header, size, max_ranges)
    if wanted is None:
        return RangedAnswer(200, headers, [(0, size - 1)], None)
    if not wanted:
        unsatisfiable = _without(headers, _BODY_HEADERS)
        unsatisfiable += [(b"content-range", b"bytes */%d" % size), (b"content-length", b"0")]
        return RangedAnswer(416, unsatisfiable, None, None)
    if len(wanted) == 1:
        first, last = wanted[0]
        partial = _without(headers, _LENGTH_HEADER)
        partial += [
            (b"content-length", b"%d" % (last - first + 1)),
            (b"content-range", b"bytes %d-%d/%d" % (first, last, size)),
        ]
        return RangedAnswer(206, partial, wanted, None)
    framed, framing = _byteranges(headers, wanted, size)
    return RangedAnswer(206, framed, wanted, framing)

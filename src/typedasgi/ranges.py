"""Conditional and range requests for a file: which status, headers and bytes a GET gets.

Pure functions over the response's headers, the request's headers and the
file's size (RFC 9110 sections 13 and 14); no I/O. :class:`FileResponse` asks
:func:`answer_ranges` once per request, then sends what it says.

``Range`` is read as Starlette reads it: a header that is not ``bytes=...`` or
names no usable range is a 400 with a short reason; parts of a list that are
not ranges are skipped; a start past the end is a 416; overlapping and adjacent
ranges are merged; a list of more than ``max_ranges`` elements is ignored (the
whole file, 200). The work one header can buy stays bounded: its commas are
counted before any part is read, and a number's digits are never converted to
an integer longer than a file size can be.
"""

from __future__ import annotations

import email.utils
import secrets
import sys
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

MAX_RANGES = 100
"""Default cap on the elements of one ``Range`` list (``FileResponse.max_ranges``); more: the whole file."""

ByteRange: TypeAlias = tuple[int, int]
"""The first and last byte (inclusive) of one range."""

_NOT_MODIFIED_HEADERS = frozenset(
    (b"cache-control", b"content-location", b"date", b"etag", b"expires", b"last-modified", b"vary", b"set-cookie")
)
_PLAIN_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_SHORT_NUMBER = 32
"""Up to this many characters, ``int()`` reads a number outright; longer ones are checked first."""
_BEYOND_ANY_FILE = 1 << 62
_BEYOND_ANY_FILE_DIGITS = 18


class MalformedRangeHeader(Exception):
    """A ``Range`` value that cannot be read: answered 400 with ``content`` as the body."""

    def __init__(self, content: str = "Malformed range header.") -> None:
        self.content = content
        super().__init__(content)


class RangeNotSatisfiable(Exception):
    """A ``Range`` that starts at or past the end of a ``max_size``-byte file: answered 416."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        super().__init__(max_size)


class ByteRangesFraming(NamedTuple):
    """The delimiters of a ``multipart/byteranges`` body: one head per part, then the close delimiter."""

    part_heads: list[bytes]
    tail: bytes


class RangedAnswer(NamedTuple):
    """What to send: ``ranges`` of the file, framed as byteranges parts with ``framing``, or (no ranges) ``body``."""

    status: int
    headers: RawHeaders
    ranges: list[ByteRange] | None
    framing: ByteRangesFraming | None
    body: bytes = b""


def _http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _integer(text: str) -> int | None:
    """``int(text)``, or None where it raises; a long number costs one scan, not a conversion.

    Every number with more digits than a file size can have gives the same
    answer, so such a number is read as one far beyond any file (keeping its
    sign); one over Python's digit limit is refused, as ``int()`` refuses it.
    """
    if len(text) <= _SHORT_NUMBER:
        try:
            return int(text)
        except ValueError:
            return None
    unsigned = text[1:] if text[0] in "+-" else text
    digits = unsigned.replace("_", "")  # int() takes single underscores between digits
    if not (digits.isascii() and digits.isdigit()) or unsigned[0] == "_" or unsigned[-1] == "_" or "__" in unsigned:
        return None
    limit = sys.get_int_max_str_digits()
    if limit and len(digits) > limit:
        return None
    significant = digits.lstrip("0")
    if len(significant) <= _BEYOND_ANY_FILE_DIGITS:
        value = int(significant or "0")
    else:
        value = _BEYOND_ANY_FILE
    return -value if text.startswith("-") else value


def header_value(raw: RawHeaders, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case) in a raw header list."""
    for key, value in raw:
        if key == name:
            return value.decode("latin-1")
    return None


def _replaced(raw: RawHeaders, values: tuple[tuple[bytes, bytes], ...]) -> RawHeaders:
    """``raw`` with each of ``values`` in place of its header's first line (others dropped), or added at the end."""
    result = list(raw)
    for name, value in values:
        lines = [index for index, (key, _) in enumerate(result) if key == name]
        if lines:
            result[lines[0]] = (name, value)
            for index in reversed(lines[1:]):
                del result[index]
        else:
            result.append((name, value))
    return result


def _listed_ranges(specs: str, size: int) -> list[tuple[int, int]]:
    """The list's elements that are ranges, as (start, end exclusive): not yet checked against the file."""
    found: list[tuple[int, int]] = []
    for raw_spec in specs.split(","):
        spec = raw_spec.strip()
        first_text, dash, last_text = spec.partition("-")
        if not dash or spec == "-":
            continue
        first_text, last_text = first_text.strip(), last_text.strip()
        if first_text:
            start = _integer(first_text)
            last = _integer(last_text) if last_text else size
            if start is None or last is None:
                continue
            found.append((start, last + 1 if last < size else size))
        else:
            suffix = _integer(last_text)
            if suffix is None:
                continue
            found.append((max(size - suffix, 0), size))
    return found


def parse_range_header(value: str, size: int, max_ranges: int = MAX_RANGES) -> list[ByteRange]:
    """The byte ranges (first, last inclusive) a ``Range`` value asks of a file of ``size`` bytes.

    ``[]``: the list has more than ``max_ranges`` elements and is ignored (the
    whole file is sent). Otherwise the ranges, sorted, overlapping and adjacent
    ones merged. Raises :class:`MalformedRangeHeader` (a 400) when the value is
    not ``bytes=`` and a list with a range in it, or a range ends before it
    starts; :class:`RangeNotSatisfiable` (a 416) when one starts past the end.
    """
    unit, equals, specs = value.partition("=")
    if not equals:
        raise MalformedRangeHeader()
    if unit.strip().lower() != "bytes":
        raise MalformedRangeHeader("Only support bytes range")
    if specs.count(",") >= max_ranges:  # counted before any part is read: a long list costs one scan
        return []
    found = _listed_ranges(specs, size)
    if not found:
        raise MalformedRangeHeader("Range header: range must be requested")
    if any(not 0 <= start < size for start, _ in found):
        raise RangeNotSatisfiable(size)
    if any(start >= end for start, end in found):
        raise MalformedRangeHeader("Range header: start must be less than end")
    found.sort()
    merged = [found[0]]
    for start, end in found[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [(start, end - 1) for start, end in merged]


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
    """Whether the ranges may be sent: no If-Range, or exactly the current ETag or Last-Modified.

    An exact match, as RFC 9110 13.1.5 asks and Starlette compares; a weak tag never holds.
    """
    if if_range is None:
        return True
    if if_range.startswith("W/"):
        return False
    return if_range == header_value(headers, b"etag") or if_range == header_value(headers, b"last-modified")


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
    framed = _replaced(
        headers, ((b"content-type", b"multipart/byteranges; boundary=" + boundary), (b"content-length", b"%d" % length))
    )
    return framed, ByteRangesFraming(part_heads, tail)


def _plain_text(status: int, text: str, *headers: tuple[bytes, bytes]) -> RangedAnswer:
    """A short text answer of its own, as Starlette's ``PlainTextResponse``: not the file's headers."""
    body = text.encode("utf-8")
    return RangedAnswer(status, [*headers, (b"content-length", b"%d" % len(body)), _PLAIN_TEXT], None, None, body)


def answer_ranges(headers: RawHeaders, request: Mapping[str, str], size: int, max_ranges: int) -> RangedAnswer:
    """The answer to a GET or HEAD for a 200 file of ``size`` bytes with these response ``headers``.

    304 when the client's copy is current; 206 with one range or
    ``multipart/byteranges``; 400 (with the reason) for a ``Range`` that cannot
    be read, 416 for one past the end; else 200 with the whole file.
    """
    if is_not_modified(header_value(headers, b"etag"), header_value(headers, b"last-modified"), request):
        return RangedAnswer(304, [(key, value) for key, value in headers if key in _NOT_MODIFIED_HEADERS], None, None)
    range_header = request.get("range")
    wanted: list[ByteRange] = []
    if range_header is not None and _if_range_holds(headers, request.get("if-range")):
        try:
            wanted = parse_range_header(range_header, size, max_ranges)
        except MalformedRangeHeader as malformed:
            return _plain_text(400, malformed.content)
        except RangeNotSatisfiable:
            return _plain_text(416, "", (b"content-range", b"bytes */%d" % size))
    if not wanted:
        return RangedAnswer(200, headers, [(0, size - 1)], None)
    if len(wanted) == 1:
        first, last = wanted[0]
        partial = _replaced(
            headers,
            ((b"content-range", b"bytes %d-%d/%d" % (first, last, size)), (b"content-length", b"%d" % (last - first + 1))),
        )
        return RangedAnswer(206, partial, wanted, None)
    framed, framing = _byteranges(headers, wanted, size)
    return RangedAnswer(206, framed, wanted, framing)

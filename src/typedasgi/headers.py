"""HTTP headers: a case-insensitive mapping over the raw ASGI ``[(name, value), ...]`` list.

Built from a scope or message it costs O(1); the lookup table is made on first lookup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, TypeVar, Union, cast, overload

from typing_extensions import Self, TypeAlias

from typedasgi.types import (
    HTTPResponseStartEvent,
    HTTPResponseTrailersEvent,
    WebSocketAcceptEvent,
    WebSocketResponseStartEvent,
    WWWScope,
)

__all__ = [
    "HeaderCarrier",
    "Headers",
    "InvalidHeaderError",
    "is_field_value",
    "remember",
    "MutableHeaders",
    "RawHeaders",
    "CONTENT_LENGTHS",
    "SMALL_BODY",
    "content_length",
    "declared_length",
    "PAST_ANY_LIMIT",
    "encode_header",
    "encode_header_value",
    "first_raw_value",
]

T = TypeVar("T")

RawHeaders: TypeAlias = list[tuple[bytes, bytes]]
HeaderCarrier: TypeAlias = Union[
    WWWScope, HTTPResponseStartEvent, HTTPResponseTrailersEvent, WebSocketAcceptEvent, WebSocketResponseStartEvent
]
"""A scope or message with a ``headers`` list."""


class InvalidHeaderError(ValueError):
    """A header that would let its value rewrite the response (CR, LF, NUL...) or has a name that is no token."""


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""RFC 9110 ``token``: what a header name may be."""
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Control characters a field value must not carry (RFC 9110 5.5; horizontal tab is allowed)."""
_names: dict[str, bytes] = {}
"""Checked names, lower-cased and encoded: names repeat, so each is checked once."""


def _encode_name(name: str) -> bytes:
    encoded = _names.get(name)
    if encoded is None:
        if _TOKEN.fullmatch(name) is None:
            raise InvalidHeaderError(f"Invalid header name {name!r}: a header name is an RFC 9110 token")
        encoded = name.lower().encode("latin-1")
        if len(_names) < 4096:  # bounded: dynamic names must not grow it forever
            _names[name] = encoded
    return encoded


_Key = TypeVar("_Key", bound="str | bytes | None")
_Answer = TypeVar("_Answer")
_REMEMBERED = 256
"""Values a cache keyed by what a client sent keeps, and the longest value it keeps."""


def remember(cache: dict[_Key, _Answer], value: _Key, answer: _Answer) -> None:
    """Keep ``answer`` for a header value (or one derived from a client's): only a short value, 256 at most.

    Clients may send any value, long and new each time; so kept, a cache stays within
    a few dozen kilobytes (the values real clients repeat are short).
    """
    if len(cache) < _REMEMBERED and (value is None or len(value) <= _REMEMBERED):
        cache[value] = answer


def is_field_value(value: str) -> bool:
    """Whether ``value`` may be sent as a header value: no CR, LF, NUL or other control character."""
    return _CONTROL.search(value) is None


def encode_header_value(name: str, value: str) -> bytes:
    """``value`` encoded for the wire; :class:`InvalidHeaderError` when it holds CR, LF, NUL or another control."""
    if not is_field_value(value):
        raise InvalidHeaderError(
            f"Invalid value for header {name!r}: {value!r} contains CR, LF, NUL or another control character"
        )
    return value.encode("latin-1")


def encode_header(name: str, value: str) -> tuple[bytes, bytes]:
    """A response header line, checked: the only way typedasgi turns a ``str`` header into raw bytes.

    Refusing the header where it is set (with :class:`InvalidHeaderError`) makes
    header injection impossible whatever the value came from. Headers the
    framework builds itself are raw bytes already and skip this.
    """
    return _encode_name(name), encode_header_value(name, value)


SMALL_BODY = 4096
CONTENT_LENGTHS: list[tuple[bytes, bytes] | None] = [None] * SMALL_BODY
"""``content-length`` header pairs by length under ``SMALL_BODY``, each made on first use: a list index
(cheaper than a dict lookup) instead of encoding per response."""


PAST_ANY_LIMIT = 10**20
"""What a ``Content-Length`` of more than 20 significant digits stands for: ``int()`` refuses past 4,300."""


def declared_length(value: bytes) -> int | None:
    """A ``Content-Length`` value as a number (None if it is not digits), capped at ``PAST_ANY_LIMIT``."""
    if not value.isdigit():
        return None
    significant = value.lstrip(b"0")
    return int(significant or b"0") if len(significant) <= 20 else PAST_ANY_LIMIT


def content_length(length: int) -> tuple[bytes, bytes]:
    """The ``content-length`` pair for ``length`` (the hottest paths inline the ``CONTENT_LENGTHS`` lookup)."""
    if length >= SMALL_BODY:
        return (b"content-length", b"%d" % length)
    pair = CONTENT_LENGTHS[length]
    if pair is None:
        pair = CONTENT_LENGTHS[length] = (b"content-length", b"%d" % length)
    return pair


def first_raw_value(carrier: HeaderCarrier, name: bytes) -> bytes | None:
    """The first raw value of header ``name`` (lower-case bytes), read without building a Headers index.

    For middleware that needs one header per request; a ``headers`` that is not a
    list is made one first, as ``Headers`` does, so others can still read it.
    """
    raw: Iterable[tuple[bytes, bytes]] = carrier.get("headers", ())
    if not isinstance(raw, (list, tuple)):  # a one-shot iterable: made a list first, as Headers does
        raw = Headers._from_scope(carrier)  # pyright: ignore[reportPrivateUsage]  # the same normalisation
    for key, value in raw:  # servers send lower-case names (the ASGI spec): no lower() call per line
        if key == name:
            return value
    # A hand-made scope may not. A second plain loop: for requests of 3 to 11 lines, timed faster than
    # a C-level scan through map(bytes.lower, ...) (3.11's loop is specialised; map pays per call).
    # Only names of the same length are lowered: the usual miss (no such header) lowers none.
    size = len(name)
    for key, value in raw:
        if len(key) == size and key.lower() == name:
            return value
    return None


class Headers(Mapping[str, str]):
    """Immutable, case-insensitive headers over a raw ``[(name, value), ...]`` list.

    Names are lower-case latin-1, values latin-1. Lookups give the *first* value
    of a repeated header, ``getlist`` all of them; iterating, ``len`` and
    ``items()`` see every raw line, duplicates included. Built from a scope it
    costs O(1): the lookup table is made on the first lookup and kept, so it
    reflects the list as it was then.
    """

    __slots__ = ("_index", "_list")

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: Iterable[tuple[bytes, bytes]] | None = None,  # a scope's or message's "headers" as the spec types it
        scope: HeaderCarrier | None = None,
    ) -> None:
        if (headers is not None) + (raw is not None) + (scope is not None) > 1:
            raise TypeError("Headers() takes only one of 'headers', 'raw' or 'scope'")
        self._index: dict[str, str] | None = None
        if headers is not None:
            self._list = [encode_header(k, v) for k, v in headers.items()]
        elif raw is not None:
            self._list = raw if isinstance(raw, list) else list(raw)  # a list is kept as given: MutableHeaders edits it
        elif scope is not None:
            self._list = self._from_scope(scope)
        else:
            self._list = []

    @staticmethod
    def _from_scope(scope: HeaderCarrier) -> RawHeaders:
        raw = scope.get("headers", [])  # messages may leave it out: the spec's default
        if type(raw) is list:
            return cast(RawHeaders, raw)  # type() narrowing leaves the item type unknown
        scope["headers"] = owned = list(raw)  # a tuple or one-shot iterator: keep it readable for others
        return owned

    @property
    def raw(self) -> RawHeaders:
        """The underlying list of ``(name, value)`` byte pairs."""
        return self._list

    def _first(self, name: str) -> str | None:
        index = self._index
        if index is None:
            index = self._index = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in reversed(self._list)
            }
        return index.get(name)

    def __getitem__(self, key: str) -> str:
        value = self._first(key.lower())
        if value is None:
            raise KeyError(key)
        return value

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, /, default: str) -> str: ...
    @overload
    def get(self, key: str, /, default: T) -> str | T: ...
    def get(self, key: str, /, default: object = None) -> object:  # default by keyword too, as Mapping.get
        value = self._first(key.lower())
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._first(key.lower()) is not None

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key``, in order (``[]`` when absent)."""
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self._list if k.lower() == name]

    def __iter__(self) -> Iterator[str]:
        return (k.decode("latin-1").lower() for k, _ in self._list)

    def __len__(self) -> int:
        return len(self._list)

    # Lists, as in Starlette: every raw line, duplicates included, comparable with ``==`` to a list.
    def keys(self) -> list[str]:  # type: ignore[override]  # Starlette's contract: a list, not a view
        return [k.decode("latin-1").lower() for k, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]  # as keys()
        return [v.decode("latin-1") for _, v in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]  # as keys()
        return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self._list]

    def mutablecopy(self) -> MutableHeaders:
        return MutableHeaders(raw=list(self._list))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return sorted(self.items()) == sorted(other.items())

    def __repr__(self) -> str:
        as_dict = dict(self.items())
        if len(as_dict) == len(self):
            return f"{type(self).__name__}({as_dict!r})"
        return f"{type(self).__name__}(raw={self._list!r})"


class MutableHeaders(Headers):
    """Headers that write through to the raw list they were given.

    ``MutableHeaders(raw=response.raw_headers)`` edits the response;
    ``MutableHeaders(scope=message)`` gives the message its own copy of the
    list first (so a shared list is never edited behind its owner's back) and
    edits that. Lookups read the live list, so no cache can go stale.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # ``raw`` must be the list itself: edits write through to it (no __init__ frame at run time)

        def __init__(
            self,
            headers: Mapping[str, str] | None = None,
            raw: RawHeaders | None = None,
            scope: HeaderCarrier | None = None,
        ) -> None: ...

    @staticmethod
    def _from_scope(scope: HeaderCarrier) -> RawHeaders:
        scope["headers"] = owned = list(scope.get("headers", ()))
        return owned

    def _first(self, name: str) -> str | None:
        key = name.encode("latin-1")
        for k, v in self._list:
            if k.lower() == key:
                return v.decode("latin-1")
        return None

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to one value: the first line is replaced in place, the rest dropped."""
        name, encoded = encode_header(key, value)
        raw = self._list
        found = [i for i, (k, _) in enumerate(raw) if k.lower() == name]
        if not found:
            raw.append((name, encoded))
            return
        raw[found[0]] = (name, encoded)
        for i in reversed(found[1:]):
            del raw[i]

    def __delitem__(self, key: str) -> None:
        """Remove every line of ``key``; a missing key is not an error (middleware relies on that)."""
        name = key.lower().encode("latin-1")
        self._list[:] = [(k, v) for k, v in self._list if k.lower() != name]

    def append(self, key: str, value: str) -> None:
        """Add a line, keeping existing ones (``set-cookie``, ``vary``, ...)."""
        self._list.append(encode_header(key, value))

    def setdefault(self, key: str, value: str) -> str:
        existing = self._first(key.lower())
        if existing is not None:
            return existing
        self.append(key, value)
        return value

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value

    def __ior__(self, other: Mapping[str, str]) -> Self:
        if not isinstance(other, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]  # untyped callers
            return NotImplemented  # Python then raises TypeError, as for dict |= set
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]  # untyped callers
            return NotImplemented
        merged = self.mutablecopy()
        merged.update(other)
        return merged

    def add_vary_header(self, vary: str) -> None:
        existing = self._first("vary")
        self["vary"] = vary if existing is None else f"{existing}, {vary}"

"""The values a request is made of: URLs, headers, query strings, forms, uploads.

Everything built from a scope is cheap to build and parses on first use, so a
request that never looks at its headers or query string never pays for them.
"""

from __future__ import annotations

import io
import shlex
from collections import Counter
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, MutableMapping, Sequence, ValuesView
from functools import cached_property
from typing import IO, Any, NamedTuple, TypedDict, TypeVar, Union, overload
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from typing_extensions import Self, TypeAlias, Unpack

from typedasgi.concurrency import run_in_threadpool
from typedasgi.types import (
    HTTPResponseStartEvent,
    WebSocketAcceptEvent,
    WebSocketResponseStartEvent,
    WWWScope,
)

__all__ = [
    "URL",
    "Address",
    "CommaSeparatedStrings",
    "FormData",
    "Headers",
    "ImmutableMultiDict",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "Secret",
    "State",
    "URLComponents",
    "URLPath",
    "UploadFile",
]

K = TypeVar("K")
V = TypeVar("V")
V_co = TypeVar("V_co", covariant=True)
T = TypeVar("T")

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# ------------------------------------------------------------------------- URLs


class URLComponents(TypedDict, total=False):
    """What ``URL(**components)`` and ``URL.replace(**components)`` accept."""

    scheme: str
    netloc: str
    path: str
    query: str
    fragment: str
    username: str | None
    password: str | None
    hostname: str | None
    port: int | None


def _scope_path(scope: WWWScope) -> str:
    # ASGI now puts root_path inside path; older servers did not. Prefix only when missing.
    path, root = scope["path"], scope.get("root_path", "")
    if not root or path == root or path.startswith(root.rstrip("/") + "/"):
        return path
    return root + path


def _url_from_scope(scope: WWWScope) -> str:
    scheme = scope.get("scheme", "http")
    path = _scope_path(scope)
    host: str | None = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1")
            break
    if host is None:
        server = scope.get("server")
        if server is None:
            url = path
        else:
            server_host, port = server
            if ":" in server_host and not server_host.startswith("["):
                server_host = f"[{server_host}]"  # IPv6 literal
            if port is None or port == _DEFAULT_PORTS.get(scheme):
                url = f"{scheme}://{server_host}{path}"
            else:
                url = f"{scheme}://{server_host}:{port}{path}"
    else:
        url = f"{scheme}://{host}{path}"
    query = scope.get("query_string", b"")
    if query:
        try:
            url += "?" + query.decode()
        except UnicodeDecodeError:  # a client sent raw non-UTF-8 bytes: keep them, don't fail
            url += "?" + query.decode("latin-1")
    return url


class URL:
    """An immutable URL; its parts are split out once, on first access."""

    __slots__ = ("_components", "_url")

    def __init__(
        self, url: str = "", scope: WWWScope | None = None, **components: Unpack[URLComponents]
    ) -> None:
        if scope is not None:
            if url or components:
                raise TypeError("URL() takes either 'url', 'scope' or components, not several")
            url = _url_from_scope(scope)
        elif components:
            if url:
                raise TypeError("URL() takes either 'url', 'scope' or components, not several")
            url = str(URL().replace(**components))
        self._url = str(url)
        self._components: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        if self._components is None:
            self._components = urlsplit(self._url)
        return self._components

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def username(self) -> str | None:
        return self.components.username

    @property
    def password(self) -> str | None:
        return self.components.password

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **components: Unpack[URLComponents]) -> URL:
        """A copy with some parts changed; ``hostname``/``port``/``username``/``password`` rebuild the netloc."""
        if {"hostname", "port", "username", "password"} & components.keys():
            netloc = self.netloc
            userinfo, _, hostport = netloc.rpartition("@")
            if "hostname" in components:
                host = components.pop("hostname") or ""
            elif hostport.startswith("["):
                host = hostport[: hostport.find("]") + 1]
            else:
                host = hostport.partition(":")[0]
            port = components.pop("port") if "port" in components else self.port
            username = components.pop("username") if "username" in components else self.username
            password = components.pop("password") if "password" in components else self.password
            netloc = host if port is None else f"{host}:{port}"
            if username is not None or password is not None:
                auth = username or ""
                if password is not None:
                    auth += ":" + password
                netloc = f"{auth}@{netloc}"
            components["netloc"] = netloc
        parts = self.components
        return URL(
            urlunsplit(
                (
                    components.get("scheme", parts.scheme),
                    components.get("netloc", parts.netloc),
                    components.get("path", parts.path),
                    components.get("query", parts.query),
                    components.get("fragment", parts.fragment),
                )
            )
        )

    def include_query_params(self, **params: object) -> URL:
        """A copy with ``params`` set (replacing same-named ones), the others kept."""
        query = MultiDict(parse_qsl(self.query, keep_blank_values=True))
        query.update({name: str(value) for name, value in params.items()})
        return self.replace(query=urlencode(query.multi_items()))

    def replace_query_params(self, **params: object) -> URL:
        """A copy whose query string is exactly ``params``."""
        return self.replace(query=urlencode([(name, str(value)) for name, value in params.items()]))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        """A copy without the named query parameters."""
        drop = {keys} if isinstance(keys, str) else set(keys)
        pairs = [pair for pair in parse_qsl(self.query, keep_blank_values=True) if pair[0] not in drop]
        return self.replace(query=urlencode(pairs))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (str, URL)):
            return self._url == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._url)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        url = self if self.password is None else self.replace(password="********")
        return f"{type(self).__name__}({str(url)!r})"


class URLPath(str):
    """A path produced by ``url_path_for``, remembering its protocol and host for absolute URLs."""

    protocol: str
    host: str

    def __new__(cls, path: str, protocol: str = "", host: str = "") -> Self:
        if protocol not in ("http", "websocket", ""):
            raise ValueError(f"URLPath protocol must be 'http', 'websocket' or '', got {protocol!r}")
        return str.__new__(cls, path)

    def __init__(self, path: str, protocol: str = "", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def make_absolute_url(self, base_url: str | URL) -> URL:
        """Join onto ``base_url``, picking ws/wss or http/https by the base's security."""
        base = URL(base_url) if isinstance(base_url, str) else base_url
        if self.protocol == "http":
            scheme = "https" if base.is_secure else "http"
        elif self.protocol == "websocket":
            scheme = "wss" if base.is_secure else "ws"
        else:
            scheme = base.scheme
        netloc = self.host or base.netloc
        return URL(scheme=scheme, netloc=netloc, path=base.path.rstrip("/") + str(self))


class Address(NamedTuple):
    host: str
    port: int


# ---------------------------------------------------------------------- headers

RawHeaders: TypeAlias = list[tuple[bytes, bytes]]
HeaderCarrier: TypeAlias = Union[
    WWWScope, HTTPResponseStartEvent, WebSocketAcceptEvent, WebSocketResponseStartEvent
]
"""A scope or message with a ``headers`` list."""


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
        raw: RawHeaders | None = None,
        scope: HeaderCarrier | None = None,
    ) -> None:
        if (headers is not None) + (raw is not None) + (scope is not None) > 1:
            raise TypeError("Headers() takes only one of 'headers', 'raw' or 'scope'")
        self._index: dict[str, str] | None = None
        if headers is not None:
            self._list = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        elif raw is not None:
            self._list = raw
        elif scope is not None:
            self._list = self._from_scope(scope)
        else:
            self._list = []

    @staticmethod
    def _from_scope(scope: HeaderCarrier) -> RawHeaders:
        raw = scope["headers"]
        if type(raw) is list:
            return raw
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
    def get(self, key: str, default: str, /) -> str: ...
    @overload
    def get(self, key: str, default: T, /) -> str | T: ...
    def get(self, key: str, default: object = None, /) -> object:
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

    def keys(self) -> KeysView[str]:
        return KeysView(self)

    def values(self) -> ValuesView[str]:
        return _HeaderValues(self)

    def items(self) -> ItemsView[str, str]:
        return _HeaderItems(self)

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


class _HeaderValues(ValuesView[str]):
    def __init__(self, headers: Headers) -> None:
        super().__init__(headers)
        self._headers = headers

    def __iter__(self) -> Iterator[str]:
        return (v.decode("latin-1") for _, v in self._headers.raw)


class _HeaderItems(ItemsView[str, str]):
    def __init__(self, headers: Headers) -> None:
        super().__init__(headers)
        self._headers = headers

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self._headers.raw)

    def __contains__(self, item: object) -> bool:
        return item in list(self)


class MutableHeaders(Headers):
    """Headers that write through to the raw list they were given.

    ``MutableHeaders(raw=response.raw_headers)`` edits the response;
    ``MutableHeaders(scope=message)`` gives the message its own copy of the
    list first (so a shared list is never edited behind its owner's back) and
    edits that. Lookups read the live list, so no cache can go stale.
    """

    __slots__ = ()

    @staticmethod
    def _from_scope(scope: HeaderCarrier) -> RawHeaders:
        scope["headers"] = owned = list(scope["headers"])
        return owned

    def _first(self, name: str) -> str | None:
        key = name.encode("latin-1")
        for k, v in self._list:
            if k.lower() == key:
                return v.decode("latin-1")
        return None

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to one value: the first line is replaced in place, the rest dropped."""
        name, encoded = key.lower().encode("latin-1"), value.encode("latin-1")
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
        self._list.append((key.lower().encode("latin-1"), value.encode("latin-1")))

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
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        merged = self.mutablecopy()
        merged.update(other)
        return merged

    def add_vary_header(self, vary: str) -> None:
        existing = self._first("vary")
        self["vary"] = vary if existing is None else f"{existing}, {vary}"


# ------------------------------------------------------------------ multi-dicts

_Pairs: TypeAlias = Union["ImmutableMultiDict[K, V]", Mapping[K, V], Iterable[tuple[K, V]]]


def _pairs(arg: _Pairs[K, V]) -> list[tuple[K, V]]:
    if isinstance(arg, ImmutableMultiDict):
        return arg.multi_items()
    if isinstance(arg, Mapping):
        return list(arg.items())
    return list(arg)


def _grouped(pairs: list[tuple[object, object]]) -> dict[object, list[object]]:
    groups: dict[object, list[object]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return groups


class ImmutableMultiDict(Mapping[K, V_co]):
    """A mapping where a key may repeat: ``d[k]`` is the last value, ``getlist(k)`` all of them."""

    _list: list[tuple[K, V_co]]
    _dict: dict[K, V_co]

    @overload
    def __init__(self, arg: _Pairs[K, V_co] = ..., /) -> None: ...
    @overload
    def __init__(self: ImmutableMultiDict[str, V_co], arg: _Pairs[str, V_co] = ..., /, **kwargs: V_co) -> None: ...
    def __init__(self, arg: _Pairs[Any, V_co] = (), /, **kwargs: V_co) -> None:
        items = _pairs(arg)
        if kwargs:
            items += kwargs.items()
        self._list = items
        self._dict = dict(items)

    def getlist(self, key: K) -> list[V_co]:
        """Every value of ``key`` in order (``[]`` when absent)."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[K, V_co]]:
        """Every ``(key, value)`` pair in order, repeats included."""
        return list(self._list)

    def keys(self) -> KeysView[K]:
        return self._dict.keys()

    def values(self) -> ValuesView[V_co]:
        return self._dict.values()

    def items(self) -> ItemsView[K, V_co]:
        return self._dict.items()

    def __getitem__(self, key: K) -> V_co:
        return self._dict[key]

    @overload
    def get(self, key: K, /) -> V_co | None: ...
    @overload
    def get(self, key: K, default: T, /) -> V_co | T: ...
    def get(self, key: K, default: object = None, /) -> object:
        return self._dict.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[K]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        """Equal when both hold the same pairs, in any order."""
        if not isinstance(other, ImmutableMultiDict):
            return NotImplemented
        mine: list[tuple[object, object]] = list(self._list)
        theirs: list[tuple[object, object]] = list(other._list)
        try:
            return Counter(mine) == Counter(theirs)
        except TypeError:  # unhashable values: compare the values of each key in order
            return _grouped(mine) == _grouped(theirs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


class MultiDict(ImmutableMultiDict[K, V]):
    """The mutable multi-dict."""

    def __setitem__(self, key: K, value: V) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: K) -> None:
        del self._dict[key]
        self._list = [(k, v) for k, v in self._list if k != key]

    @overload
    def pop(self, key: K, /) -> V: ...
    @overload
    def pop(self, key: K, default: V | T, /) -> V | T: ...
    def pop(self, key: K, *default: object) -> object:
        value = self._dict.pop(key, *default)
        self._list = [(k, v) for k, v in self._list if k != key]
        return value

    def popitem(self) -> tuple[K, V]:
        key, value = self._dict.popitem()
        self._list = [(k, v) for k, v in self._list if k != key]
        return key, value

    def poplist(self, key: K) -> list[V]:
        values = self.getlist(key)
        if values:
            del self[key]
        return values

    def clear(self) -> None:
        self._dict.clear()
        self._list.clear()

    def setdefault(self, key: K, default: V) -> V:
        if key not in self._dict:
            self.append(key, default)
            return default
        return self._dict[key]

    def setlist(self, key: K, values: list[V]) -> None:
        """Replace all values of ``key`` with ``values`` (an empty list removes the key)."""
        if not values:
            self.pop(key, None)
            return
        self._list = [(k, v) for k, v in self._list if k != key]
        self._list += [(key, v) for v in values]
        self._dict[key] = values[-1]

    def append(self, key: K, value: V) -> None:
        self._list.append((key, value))
        self._dict[key] = value

    @overload
    def update(self, arg: _Pairs[K, V] = ..., /) -> None: ...
    @overload
    def update(self: MultiDict[str, V], arg: _Pairs[str, V] = ..., /, **kwargs: V) -> None: ...
    def update(self, arg: _Pairs[Any, V] = (), /, **kwargs: V) -> None:
        """Replace the keys present in the arguments (keeping their repeats), leave the others."""
        new = _pairs(arg)
        if kwargs:
            new += kwargs.items()
        replaced = {k for k, _ in new}
        self._list = [(k, v) for k, v in self._list if k not in replaced] + new
        self._dict.update(new)


class QueryParams(ImmutableMultiDict[str, str]):
    """Query-string parameters, parsed on first access.

    ``QueryParams(scope["query_string"])`` only stores the bytes. Parsing is
    linear in the length of the string and keeps every parameter, so a hostile
    query with thousands of parameters costs time in proportion to its size,
    never more; the server's own request-line limit bounds that size.
    """

    def __init__(
        self,
        arg: ImmutableMultiDict[str, str] | Mapping[str, str] | Iterable[tuple[str, str]] | str | bytes = "",
        /,
        **kwargs: str,
    ) -> None:
        if isinstance(arg, (str, bytes)):
            self._raw = arg
            if kwargs:  # rare: parse now and append
                super().__init__(self._list, **kwargs)
        else:
            super().__init__([(str(k), str(v)) for k, v in _pairs(arg)], **kwargs)

    @cached_property
    def _list(self) -> list[tuple[str, str]]:  # type: ignore[override]  # a non-data descriptor: the base's assignment still lands in __dict__
        raw = self._raw
        return parse_qsl(raw.decode("latin-1") if isinstance(raw, bytes) else raw, keep_blank_values=True)

    @cached_property
    def _dict(self) -> dict[str, str]:  # type: ignore[override]  # same: computed once, then a plain attribute
        return dict(self._list)

    def __str__(self) -> str:
        return urlencode(self._list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


# ------------------------------------------------------------------ forms, files


class UploadFile:
    """An uploaded file with async methods; blocking disk I/O runs in the thread pool.

    ``size`` counts bytes written through :meth:`write` when it started as an int.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file = file
        self.size = size
        self.filename = filename
        self.headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def _in_memory(self) -> bool:
        # A SpooledTemporaryFile stays in memory until it rolls over to disk.
        file = self.file
        return isinstance(file, io.BytesIO) or getattr(file, "_rolled", True) is False

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)
        if self._in_memory:
            self.file.write(data)
        else:
            await run_in_threadpool(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        if self._in_memory:
            self.file.seek(offset)
        else:
            await run_in_threadpool(self.file.seek, offset)

    async def close(self) -> None:
        if self._in_memory:
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"


class FormData(ImmutableMultiDict[str, Union[UploadFile, str]]):
    """Parsed form fields; file fields are :class:`UploadFile`."""

    def __init__(
        self,
        arg: _Pairs[str, UploadFile | str] = (),
        /,
        **kwargs: UploadFile | str,
    ) -> None:
        super().__init__(arg, **kwargs)

    async def close(self) -> None:
        """Close every uploaded file (their temporary files go away)."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()


# --------------------------------------------------------------------- odds, ends


class State(MutableMapping[str, Any]):
    """An attribute bag over a dict: ``state.db = ...``, ``state.db``; also a mapping, ``state["db"]``.

    Being both lets a typed app describe its state either as a class of
    attributes or as a ``TypedDict`` (``Request[MyState]``); at run time it is
    this one object over the lifespan's state dict. Values are whatever the
    application stores, hence ``Any``.
    """

    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __setattr__(self, name: str, value: Any) -> None:
        self._state[name] = value

    def __getattr__(self, name: str) -> Any:
        try:
            # Through __dict__: copy/pickle probe attributes before __init__ has run.
            return self.__dict__["_state"][name]
        except KeyError:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '{name}' (nothing stored it yet)"
            ) from None

    def __delattr__(self, name: str) -> None:
        try:
            del self._state[name]
        except KeyError:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'") from None

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        del self._state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._state!r})"


class CommaSeparatedStrings(Sequence[str]):
    """``"a, b, 'c d'"`` as a sequence of strings (shell-style quotes group)."""

    def __init__(self, value: str | Sequence[str]) -> None:
        if isinstance(value, str):
            lexer = shlex.shlex(value, posix=True)
            lexer.whitespace = ","
            lexer.whitespace_split = True
            self._items = [item.strip() for item in lexer]
        else:
            self._items = list(value)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"

    def __str__(self) -> str:
        return ", ".join(repr(item) for item in self._items)


class Secret:
    """A string that keeps out of reprs and tracebacks; ``str(secret)`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

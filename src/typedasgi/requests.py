"""``HTTPConnection`` and ``Request``: typed, lazy views over one ASGI connection.

Building one costs a few attribute stores; headers, query string, cookies and
URL are parsed the first time they are read and cached on the object.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Generator, Iterator, Mapping
from functools import cached_property
from types import TracebackType
from typing import Any, Final, Generic, Protocol, TypeVar, cast, overload

import msgspec
from typing_extensions import TypeIs, TypeVar as DefaultTypeVar

from typedasgi.jsoncodec import decode_json, decoder_for
from typedasgi.datastructures import URL, Address, FormData, Headers, QueryParams, State, StateKeyError, URLPath
from typedasgi.exceptions import BodyTooLarge, ClientDisconnect, MalformedJSON
from typedasgi.formparsers import FormLimits, parse_form
from typedasgi.headers import declared_length, first_raw_value
from typedasgi.session import Session
from typedasgi.types import (
    HTTPScope,
    Receive,
    ReceiveEvent,
    Send,
    SendEvent,
    WWWScope,
    FrameworkKeys,
    framework_keys,
)

__all__ = [
    "SERVER_PUSH_HEADERS_TO_COPY",
    "ClientDisconnect",
    "AwaitableOrContextManager",
    "HTTPConnection",
    "Request",
    "cookie_parser",
    "empty_receive",
    "empty_send",
    "request_for_handler",
    "read_cookies",
]

T = TypeVar("T")
StateT = DefaultTypeVar("StateT", default=State)
"""What ``request.state`` is typed as: ``State`` unless the app declares its lifespan state."""

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
"""Body size limit for a request whose app or route sets none (413 past it)."""


TOO_DEEP = "Malformed JSON body: nested too deeply"
"""The 400's detail for a document deeper than the decoder's recursion limit."""

_NOT_DECODED: Any = object()  # no ``_json`` yet (None is a JSON value)


class URLResolver(Protocol):
    """What ``scope["router"]`` offers to ``url_for``."""

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath: ...


_COOKIE_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")
"""A backslash escape in a quoted cookie value: an octal byte (``\\012``) or any one character but a newline."""


def _unescape(match: re.Match[str]) -> str:
    octal, char = match.groups()
    return chr(int(octal, 8)) if octal else char


def unquote_cookie_value(value: str) -> str:
    """A value in double quotes without them and with its escapes read, as ``http.cookies`` reads it; else as is.

    One pass over the value: the stdlib's own ``_unquote`` (before Python 3.11.10) searched the rest of
    the value again at every escape, so a 64 KB cookie of ``\\x`` cost seconds of CPU (CVE-2024-7592)."""
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    return _COOKIE_ESCAPE.sub(_unescape, value[1:-1])


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, the way browsers send it (no RFC 2109 quoting rules)."""
    cookies: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        if "=" in chunk:
            key, _, value = chunk.partition("=")
        else:
            key, value = "", chunk  # a bare value: kept under "" as browsers do
        key, value = key.strip(), value.strip()
        if key or value:
            cookies[key] = unquote_cookie_value(value)
    return cookies


def read_cookies(headers: Headers) -> dict[str, str]:
    """Every ``Cookie`` header line parsed (HTTP/2 clients may send one line per cookie); later lines win."""
    lines = headers.getlist("cookie")
    if len(lines) == 1:
        return cookie_parser(lines[0])
    cookies: dict[str, str] = {}
    for line in lines:
        cookies.update(cookie_parser(line))
    return cookies


SERVER_PUSH_HEADERS_TO_COPY: Final = frozenset(
    {"accept", "accept-encoding", "accept-language", "cache-control", "user-agent"}
)
"""Request headers a server push promise repeats, so the pushed response is negotiated like this one."""


async def empty_receive() -> ReceiveEvent:
    """The ``receive`` of a connection built from a scope alone: reading from it is a bug."""
    raise RuntimeError("Receive channel has not been made available")


async def empty_send(message: SendEvent) -> None:
    """The ``send`` of a connection built without one: sending through it is a bug."""
    raise RuntimeError("Send channel has not been made available")


NO_LIFESPAN = (
    "no lifespan ran for this app, so nothing set up {name!r}: the server did not run the ASGI lifespan "
    "(daphne never does; uvicorn and hypercorn with lifespan off neither). Serve it with the lifespan on "
    "(uvicorn, hypercorn, granian), or set the value up outside the lifespan"
)


class RequestState(State):
    """``request.state``: a missing value says whether the lifespan, which fills it, ever ran."""

    def __init__(self, state: dict[str, Any], scope: WWWScope) -> None:
        super().__init__(state)
        object.__setattr__(self, "_scope", scope)

    def _missing(self, name: str) -> Exception:
        scope: WWWScope = self.__dict__["_scope"]
        app = framework_keys(scope).get("app")
        router = getattr(app, "router", None)
        if router is not None and not getattr(router, "lifespan_started", True):
            return StateKeyError(f"request.state has no {name!r}: " + NO_LIFESPAN.format(name=name))
        return super()._missing(name)


class SupportsAsyncClose(Protocol):
    async def close(self) -> None: ...


ClosableT = TypeVar("ClosableT", bound=SupportsAsyncClose)


class AwaitableOrContextManager(Generic[ClosableT]):
    """``await it`` gives the value; ``async with it as value:`` also closes the value when the block ends."""

    __slots__ = ("_awaitable", "_value")

    def __init__(self, awaitable: Awaitable[ClosableT]) -> None:
        self._awaitable = awaitable
        self._value: ClosableT | None = None

    def __await__(self) -> Generator[Any, None, ClosableT]:
        return self._awaitable.__await__()

    async def __aenter__(self) -> ClosableT:
        self._value = await self._awaitable
        return self._value

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._value is not None:
            await self._value.close()


class HTTPConnection(Mapping[str, Any], Generic[StateT]):
    """What HTTP requests and WebSocket sessions share: URL, headers, params, state.

    As in Starlette, a connection is also a read-only mapping over its scope
    (``request["path"]``); two connections are equal only when they are the same object.
    """

    def __init__(self, scope: WWWScope, receive: Receive | None = None) -> None:
        self.scope = scope

    def __getitem__(self, key: str) -> Any:  # a scope value: its type depends on the key
        scope: dict[str, Any] = self.scope  # type: ignore[assignment]  # read by any key, as a mapping
        return scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    def __eq__(self, other: object) -> bool:  # not Mapping's value comparison: one connection is itself only
        return self is other

    def __hash__(self) -> int:
        return object.__hash__(self)

    @property
    def app(self) -> Any:  # the application object; typed by the app that reads it
        return framework_keys(self.scope).get("app")

    @cached_property
    def url(self) -> URL:
        return URL(scope=self.scope)

    @cached_property
    def base_url(self) -> URL:
        scope = self.scope
        root = framework_keys(scope).get("app_root_path", scope.get("root_path", ""))
        base: WWWScope = scope.copy()
        base["path"] = root if root.endswith("/") else root + "/"
        base["root_path"] = root  # inside a Mount root_path grew: the base is the app's, not the mount's
        base["query_string"] = b""
        return URL(scope=base)

    @cached_property
    def headers(self) -> Headers:
        return Headers(scope=self.scope)

    @cached_property
    def query_params(self) -> QueryParams:
        return QueryParams(self.scope.get("query_string") or b"")  # a WebSocket scope's may be None

    @property
    def path_params(self) -> dict[str, Any]:  # values come from the route's convertors
        keys: FrameworkKeys = self.scope  # type: ignore[assignment]  # the same dict, framework view (no call)
        try:
            return keys["path_params"]  # pyright: ignore[reportTypedDictNotRequiredAccess]  # absent: KeyError below; no default dict made per read
        except KeyError:
            return {}

    @cached_property
    def cookies(self) -> dict[str, str]:
        return read_cookies(self.headers)

    @property
    def client(self) -> Address | None:
        client = self.scope.get("client")
        return Address(client[0], client[1]) if client is not None else None

    def _set_by(self, key: str, middleware: str) -> Any:
        """``scope[key]``, which ``middleware`` puts there; a clear error when it is not installed."""
        keys: dict[str, Any] = self.scope  # type: ignore[assignment]  # framework keys, read by name
        if key not in keys:
            raise AssertionError(f"{middleware} must be installed to access request.{key}")
        return keys[key]

    @property
    def session(self) -> dict[str, Any]:
        session: dict[str, Any] = self._set_by("session", "SessionMiddleware")
        if isinstance(session, Session):
            session.mark_accessed()  # the response then varies by Cookie
        return session

    @property
    def auth(self) -> Any:  # whatever the authentication backend returned
        return self._set_by("auth", "AuthenticationMiddleware")

    @property
    def user(self) -> Any:  # whatever the authentication backend returned
        return self._set_by("user", "AuthenticationMiddleware")

    @cached_property
    def state(self) -> StateT:
        """Per-request state, seeded with a shallow copy of the lifespan state."""
        scope = self.scope
        if "state" not in scope:
            scope["state"] = {}
        return cast(StateT, RequestState(scope["state"], scope))

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        keys = framework_keys(self.scope)
        router = keys.get("router") or keys.get("app")  # the app's middleware runs before its router is recorded
        if router is None:
            raise RuntimeError(
                "The `url_for` method can only be used inside a Starlette application or with a router: "
                "route the connection through TypedASGI (Starlette is its other name) or a Router"
            )
        url_path = cast(URLResolver, router).url_path_for(name, **path_params)
        return url_path.make_absolute_url(base_url=self.base_url)


class Request(HTTPConnection[StateT]):
    """An HTTP request: the connection plus its method and body."""

    # Class defaults, so that a request made without __init__ (the app's dispatch does) is whole.
    # No ``_body`` among them: as in Starlette it exists once the body was read, and code written for
    # Starlette asks ``hasattr(request, "_body")`` (a GzipRequest's body(), error reporters) or sets it.
    _body: bytes
    _json: object  # the untyped json() value, once decoded (Starlette's name; error reporters read it)
    _stream_consumed = False
    _received = 0  # body bytes read so far, across stream() calls
    _is_disconnected = False
    _form: FormData | None = None
    scope: HTTPScope

    def __init__(self, scope: HTTPScope, receive: Receive = empty_receive, send: Send = empty_send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        # Stored as well: CPython (3.11) reads an instance value fast but a class default by the slow generic
        # lookup, and body() reads the last two; dispatch reads ``_form`` after every request.
        self._form = None
        self._received = 0
        self._stream_consumed = False

    @property
    def method(self) -> str:
        return self.scope.get("method", "GET")  # required by the spec; hand-built scopes leave it out

    @property
    def receive(self) -> Receive:
        return self._receive

    def _max_body_size(self) -> int | None:
        return framework_keys(self.scope).get("max_body_size", DEFAULT_MAX_BODY_SIZE)

    def stream(self) -> AsyncIterator[bytes]:
        """The body chunk by chunk, then one empty chunk (as Starlette), enforcing the body size limit (413)."""
        return self._read(self._max_body_size())

    async def _read(self, limit: int | None) -> AsyncIterator[bytes]:
        """The body chunk by chunk and a final ``b""``, refused with a 413 past ``limit`` (declared or as it arrives)."""
        body: bytes | None = getattr(self, "_body", None)  # read already, or set by a subclass or middleware
        if body is not None:
            yield body
            yield b""
            return
        self._start_reading(limit)
        # Consumed once the last message arrived: a stream left part-way may be taken up again (as Starlette).
        while not self._stream_consumed:
            chunk, more = self._chunk(await self._receive())
            if not more:
                self._stream_consumed = True
            if chunk:
                self._received += len(chunk)
                if limit is not None and self._received > limit:
                    raise BodyTooLarge(limit)
                yield chunk
        yield b""  # the end, spelled out: parsers that feed chunks on finish with it

    def _start_reading(self, limit: int | None) -> None:
        """Refuse a read after the last message, and a declared length past ``limit`` (413) on the first read."""
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        if limit is not None and not self._received and declares_more_than(self.scope, limit):
            raise BodyTooLarge(limit)

    def _chunk(self, message: ReceiveEvent) -> tuple[bytes, bool]:
        """One received message: its body chunk and whether more follow; a disconnect raises."""
        if message["type"] == "http.request":
            return message.get("body", b""), message.get("more_body", False)
        if message["type"] == "http.disconnect":
            self._is_disconnected = True
            raise ClientDisconnect()
        return b"", True  # not for this request: keep reading

    async def body(self) -> bytes:
        """The whole body, read once and cached (read here directly: no async generator per request)."""
        body: bytes | None = getattr(self, "_body", None)  # read already, or set by a subclass or middleware (Starlette's name)
        if body is not None:
            return body
        keys: FrameworkKeys = self.scope  # type: ignore[assignment]  # the same dict, framework view (no call)
        limit = keys.get("max_body_size", DEFAULT_MAX_BODY_SIZE)
        if self._received or self._stream_consumed:  # stream() was here first
            self._start_reading(limit)
            body = await self._read_rest(await self._receive(), limit)
        else:
            if limit is not None and declares_more_than(self.scope, limit):  # refused before the first receive()
                raise BodyTooLarge(limit)
            message = await self._receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body = message.get("body", b"")  # the whole body in one message, the usual case: no list, no join
                if limit is not None and len(body) > limit:
                    raise BodyTooLarge(limit)
            else:
                body = await self._read_rest(message, limit)
        self._stream_consumed = True
        self._body = body
        return body

    async def _read_rest(self, message: ReceiveEvent, limit: int | None) -> bytes:
        """The body from ``message`` on, when it comes in more than one message.

        Gathered in one growing buffer, not a list of chunks: a client trickling its body two
        bytes per message would otherwise cost some 60 bytes of memory per byte sent.
        """
        body = bytearray()
        received = self._received
        while True:
            chunk, more = self._chunk(message)
            if chunk:
                received += len(chunk)
                if limit is not None and received > limit:
                    raise BodyTooLarge(limit)
                body += chunk
            if not more:
                return bytes(body)
            message = await self._receive()

    @overload
    async def json(self) -> object: ...
    @overload
    async def json(self, type: type[T]) -> T: ...
    async def json(self, type: Any = object) -> Any:
        """The body decoded as JSON with msgspec, optionally into ``type``.

        Malformed JSON or a value that does not fit ``type`` is the client's mistake:
        :class:`MalformedJSON` (400, and a ``json.JSONDecodeError`` as Starlette raises), never
        a 500. Without ``type`` the value is kept, as Starlette keeps it, in ``_json``.
        """
        if type is object:
            decoded = getattr(self, "_json", _NOT_DECODED)
            if decoded is not _NOT_DECODED:
                return decoded
        body = await self.body()
        try:
            if type is object:
                self._json = decoded = decode_json(body)
                return decoded
            return decoder_for(type).decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MalformedJSON(f"Malformed JSON body: {exc}") from None
        except RecursionError:  # msgspec's depth guard: a hostile document, not a server fault
            raise MalformedJSON(TOO_DEEP) from None

    def form(
        self,
        *,
        max_files: int = FormLimits.max_files,
        max_fields: int = FormLimits.max_fields,
        max_part_size: int = FormLimits.max_part_size,
        max_file_size: int = FormLimits.max_file_size,
        max_upload_size: int = FormLimits.max_upload_size,
        max_part_header_size: int = FormLimits.max_part_header_size,
        max_part_headers: int = FormLimits.max_part_headers,
    ) -> AwaitableOrContextManager[FormData]:
        """Parse an url-encoded or multipart body (multipart needs the ``forms`` extra).

        ``await request.form()``, or ``async with request.form() as form:`` to close its
        uploads when the block ends. Uploaded files go to disk past a small threshold, so a
        multipart body is limited by ``max_upload_size`` (and each file by ``max_file_size``),
        not by the in-memory body limit; what stays in memory (fields, part headers, a
        whole url-encoded body) still counts against that limit. Each breach is a 400 or 413
        (see :class:`~typedasgi.formparsers.FormLimits`).
        """
        limits = FormLimits(
            max_files=max_files,
            max_fields=max_fields,
            max_part_size=max_part_size,
            max_file_size=max_file_size,
            max_upload_size=max_upload_size,
            max_in_memory_size=self._max_body_size(),
            max_part_header_size=max_part_header_size,
            max_part_headers=max_part_headers,
        )
        return AwaitableOrContextManager(self._get_form(limits))

    async def _get_form(self, limits: FormLimits) -> FormData:
        if self._form is None:
            self._form = await parse_form(self.headers, self._read, limits)
        return self._form

    async def close(self) -> None:
        if self._form is not None:
            await self._form.close()

    async def is_disconnected(self) -> bool:
        """True once the client went away; never waits for the client."""
        if not self._is_disconnected:
            # Peek without blocking: a message that is not ready means still connected.
            task = asyncio.ensure_future(self._receive())
            await asyncio.sleep(0)
            if task.done():
                message = task.result()
                if message["type"] == "http.disconnect":
                    self._is_disconnected = True
            else:
                task.cancel()
        return self._is_disconnected

    async def send_push_promise(self, path: str) -> None:
        """HTTP/2 server push, when the server offers the extension; otherwise nothing."""
        extensions = self.scope.get("extensions") or {}
        if "http.response.push" in extensions:
            raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()
                           if k in SERVER_PUSH_HEADERS_TO_COPY]
            await self._send({"type": "http.response.push", "path": path, "headers": raw_headers})

    async def send_early_hints(self, link: str, /, *additional_links: str) -> None:
        """A ``103 Early Hints`` with these ``Link`` values, when the server offers the extension; otherwise nothing.

        ``await request.send_early_hints("</style.css>; rel=preload; as=style")`` lets the
        browser fetch what the page will need while the endpoint is still working.
        """
        extensions = self.scope.get("extensions") or {}
        if "http.response.early_hint" in extensions:
            links = [value.encode("latin-1") for value in (link, *additional_links)]
            await self._send({"type": "http.response.early_hint", "links": links})





_CONTENT_LENGTH = b"content-length"
_POWERS_OF_TEN = tuple(10**digits for digits in range(20))


def declares_more_than(scope: HTTPScope, limit: int) -> bool:
    """True when the request's ``Content-Length`` is past ``limit``: refused before any of the body is read."""
    headers = scope.get("headers", ())
    declared: bytes | None = None
    if isinstance(headers, list):  # what servers give: the line found by a plain scan, no Headers index
        index = len(headers)
        while index:  # from the end: clients send Content-Length late in the head, a step or two
            index -= 1
            key, value = headers[index]
            if key == _CONTENT_LENGTH:
                declared = value
                break
    if declared is None:
        declared = first_raw_value(scope, _CONTENT_LENGTH)  # anything else: normalised, names of any case
        if declared is None:
            return False
    digits = len(declared)
    if digits < 20 and _POWERS_OF_TEN[digits] <= limit:
        return False  # too few digits to reach the limit: no int() parse (the usual answer)
    length = declared_length(declared)
    return length is not None and length > limit


def request_for_handler(scope: HTTPScope, receive: Receive, send: Send) -> Request[Any]:
    """The Request an exception handler gets: the failed endpoint's own (body and form already read), else a new one."""
    kept = framework_keys(scope).get("request")
    return kept if _is_request(kept) else Request(scope, receive, send)


def _is_request(value: object) -> TypeIs[Request[Any]]:
    # isinstance() alone would leave the state type unknown under pyright
    return isinstance(value, Request)

"""The ASGI 3.0 interface, typed.

Every scope and event message of the HTTP, WebSocket and Lifespan specs is a
``TypedDict`` whose ``type`` key is a ``Literal``, so ``if message["type"] ==
"http.request":`` narrows the union for the type checker.

The shapes are deliberately *structurally identical* to the ones uvicorn and
asgiref use (mutable TypedDicts are only compatible when their keys match
exactly). That buys two things, both proven in ``tests/typing``:

* a typedasgi app is an ``asgiref.typing.ASGI3Application`` (uvicorn accepts it), and
* an app written against asgiref/uvicorn types is a typedasgi ``ASGIApp``.

The price is that these types list every key as present even where the spec
makes it optional. So: messages an app *sends* carry every key (``more_body``,
``trailers``, ...), which typedasgi's own components always do; and messages an
app *receives* are read with ``.get(key, default)`` for the keys the spec marks
optional (``body``/``more_body`` of ``http.request``, ``text``/``bytes`` of
``websocket.receive``, ``code``/``reason`` of ``websocket.disconnect``),
because servers do leave them out.

Extension messages the core unions do not carry (``http.response.pathsend``,
``http.response.zerocopysend``, ``http.response.debug``) are typed here too and
sent through :func:`extension_send` once the scope advertises the extension.

Frameworks keep a few keys of their own in the scope (``app``, ``router``,
``endpoint``, ``path_params``, ...). They are typed by :class:`FrameworkKeys`
and reached through :func:`framework_keys`, so reading them is still checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, Protocol, TypedDict, Union, cast

from typing_extensions import NotRequired, ParamSpec, TypeAlias

P = ParamSpec("P")

# --------------------------------------------------------------------------- scopes

Headers: TypeAlias = Iterable[tuple[bytes, bytes]]
"""Raw header pairs, lower-cased names, as servers put them in scopes and messages."""


class ASGIVersions(TypedDict):
    spec_version: str
    version: Literal["2.0"] | Literal["3.0"]


class HTTPScope(TypedDict):
    type: Literal["http"]
    asgi: ASGIVersions
    http_version: str
    method: str
    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    root_path: str
    headers: Headers
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    # The spec leaves the values of ``state`` and ``extensions`` open.
    state: NotRequired[dict[str, Any]]
    extensions: dict[str, dict[object, object]] | None


class WebSocketScope(TypedDict):
    type: Literal["websocket"]
    asgi: ASGIVersions
    http_version: str
    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    root_path: str
    headers: Headers
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    subprotocols: Iterable[str]
    state: NotRequired[dict[str, Any]]
    extensions: dict[str, dict[object, object]] | None


class LifespanScope(TypedDict):
    type: Literal["lifespan"]
    asgi: ASGIVersions
    state: NotRequired[dict[str, Any]]


WWWScope: TypeAlias = Union[HTTPScope, WebSocketScope]
"""A scope that carries a request: HTTP or WebSocket."""
Scope: TypeAlias = Union[HTTPScope, WebSocketScope, LifespanScope]


class TLSExtensionInfo(TypedDict):
    """``scope["extensions"]["tls"]`` (the TLS extension)."""

    server_cert: str | None
    client_cert_chain: Iterable[str]
    client_cert_name: str | None
    client_cert_error: str | None
    tls_version: int | None
    cipher_suite: int | None


# ----------------------------------------------------------------- HTTP messages


class HTTPRequestEvent(TypedDict):
    type: Literal["http.request"]
    body: bytes
    more_body: bool


class HTTPDisconnectEvent(TypedDict):
    type: Literal["http.disconnect"]


class HTTPResponseStartEvent(TypedDict):
    type: Literal["http.response.start"]
    status: int
    headers: Headers
    trailers: bool


class HTTPResponseBodyEvent(TypedDict):
    type: Literal["http.response.body"]
    body: bytes
    more_body: bool


class HTTPResponseTrailersEvent(TypedDict):
    """The trailers extension: sent after the body when ``trailers`` was true."""

    type: Literal["http.response.trailers"]
    headers: Headers
    more_trailers: bool


class HTTPServerPushEvent(TypedDict):
    """The HTTP/2 server push extension."""

    type: Literal["http.response.push"]
    path: str
    headers: Headers


class HTTPResponsePathsendEvent(TypedDict):
    """The path send extension: the server streams the file at ``path`` itself."""

    type: Literal["http.response.pathsend"]
    path: str


class HTTPResponseZeroCopySendEvent(TypedDict):
    """The zero-copy send extension: the server copies from an open file."""

    type: Literal["http.response.zerocopysend"]
    file: object  # a file object with a fileno(); the spec leaves the type open
    offset: NotRequired[int]
    count: NotRequired[int]
    more_body: NotRequired[bool]


class HTTPResponseDebugEvent(TypedDict):
    """The debug extension, used by test clients to see the template and context."""

    type: Literal["http.response.debug"]
    info: dict[str, object]


# ------------------------------------------------------------ WebSocket messages


class WebSocketConnectEvent(TypedDict):
    type: Literal["websocket.connect"]


class WebSocketAcceptEvent(TypedDict):
    type: Literal["websocket.accept"]
    subprotocol: str | None
    headers: Headers


class WebSocketReceiveEvent(TypedDict):
    type: Literal["websocket.receive"]
    bytes: bytes | None
    text: str | None


class WebSocketSendEvent(TypedDict):
    type: Literal["websocket.send"]
    bytes: bytes | None
    text: str | None


class WebSocketResponseStartEvent(TypedDict):
    """The WebSocket denial response extension: answer HTTP instead of accepting."""

    type: Literal["websocket.http.response.start"]
    status: int
    headers: Headers


class WebSocketResponseBodyEvent(TypedDict):
    type: Literal["websocket.http.response.body"]
    body: bytes
    more_body: bool


class WebSocketDisconnectEvent(TypedDict):
    type: Literal["websocket.disconnect"]
    code: int
    reason: str | None


class WebSocketCloseEvent(TypedDict):
    type: Literal["websocket.close"]
    code: int
    reason: str | None


# ------------------------------------------------------------- Lifespan messages


class LifespanStartupEvent(TypedDict):
    type: Literal["lifespan.startup"]


class LifespanShutdownEvent(TypedDict):
    type: Literal["lifespan.shutdown"]


class LifespanStartupCompleteEvent(TypedDict):
    type: Literal["lifespan.startup.complete"]


class LifespanStartupFailedEvent(TypedDict):
    type: Literal["lifespan.startup.failed"]
    message: str


class LifespanShutdownCompleteEvent(TypedDict):
    type: Literal["lifespan.shutdown.complete"]


class LifespanShutdownFailedEvent(TypedDict):
    type: Literal["lifespan.shutdown.failed"]
    message: str


# -------------------------------------------------------- unions per direction

HTTPReceiveEvent: TypeAlias = Union[HTTPRequestEvent, HTTPDisconnectEvent]
HTTPSendEvent: TypeAlias = Union[
    HTTPResponseStartEvent, HTTPResponseBodyEvent, HTTPResponseTrailersEvent, HTTPServerPushEvent
]
WebSocketReceiveMessage: TypeAlias = Union[WebSocketConnectEvent, WebSocketReceiveEvent, WebSocketDisconnectEvent]
WebSocketSendMessage: TypeAlias = Union[
    WebSocketAcceptEvent,
    WebSocketSendEvent,
    WebSocketResponseStartEvent,
    WebSocketResponseBodyEvent,
    WebSocketCloseEvent,
]
LifespanReceiveEvent: TypeAlias = Union[LifespanStartupEvent, LifespanShutdownEvent]
LifespanSendEvent: TypeAlias = Union[
    LifespanStartupCompleteEvent,
    LifespanStartupFailedEvent,
    LifespanShutdownCompleteEvent,
    LifespanShutdownFailedEvent,
]

ReceiveEvent: TypeAlias = Union[HTTPReceiveEvent, WebSocketReceiveMessage, LifespanReceiveEvent]
"""Everything ``receive()`` may return."""
SendEvent: TypeAlias = Union[HTTPSendEvent, HTTPDisconnectEvent, WebSocketSendMessage, LifespanSendEvent]
"""Everything an app may pass to ``send()`` (``http.disconnect`` included, as servers' types allow)."""
ExtensionSendEvent: TypeAlias = Union[
    HTTPResponsePathsendEvent, HTTPResponseZeroCopySendEvent, HTTPResponseDebugEvent
]
"""Messages only sendable when ``scope["extensions"]`` advertises them."""

# ----------------------------------------------------------------- callables


class Receive(Protocol):
    """``receive``: an awaitable that returns the next event from the client."""

    def __call__(self) -> Awaitable[ReceiveEvent]: ...


class Send(Protocol):
    """``send``: an awaitable that passes one event to the client."""

    def __call__(self, message: SendEvent, /) -> Awaitable[None]: ...


class ExtendedSend(Protocol):
    """A ``send`` that also takes the extension messages (see :func:`extension_send`)."""

    def __call__(self, message: SendEvent | ExtensionSendEvent, /) -> Awaitable[None]: ...


def extension_send(send: Send) -> ExtendedSend:
    """View ``send`` as accepting extension messages.

    Only call it after checking ``scope["extensions"]``: the server promised then
    to understand the message, which is what makes this view honest.
    """
    return cast(ExtendedSend, send)


class ASGIApp(Protocol):
    """An ASGI 3 application: ``await app(scope, receive, send)``."""

    def __call__(self, scope: Scope, receive: Receive, send: Send, /) -> Awaitable[None]: ...


class ASGI2Instance(Protocol):
    def __call__(self, receive: Receive, send: Send, /) -> Awaitable[None]: ...


ASGI2App: TypeAlias = Callable[[Scope], ASGI2Instance]
"""An ASGI 2 ("double callable") application: ``await app(scope)(receive, send)``."""


class DictASGIApp(Protocol):
    """An app typed with plain dicts (Starlette, FastAPI, Django, ...).

    The spec says scopes and messages are dicts; frameworks that type them as
    ``MutableMapping[str, Any]`` are accepted wherever typedasgi takes an app.
    """

    def __call__(
        self,
        scope: Any,  # the spec: "a dict"; foreign frameworks type it as MutableMapping[str, Any]
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
        /,
    ) -> Awaitable[None]: ...


AnyASGIApp: TypeAlias = Union[ASGIApp, DictASGIApp]
"""What typedasgi accepts where it takes someone else's app (mounts, middleware, the TestClient)."""


def as_asgi_app(app: AnyASGIApp) -> ASGIApp:
    """View a foreign app as a typed one: at run time both are the same callable."""
    return cast(ASGIApp, app)


class MiddlewareFactory(Protocol[P]):
    """A middleware class (or function): ``factory(app, *args, **kwargs)`` -> a new ASGI app."""

    def __call__(self, app: ASGIApp, /, *args: P.args, **kwargs: P.kwargs) -> ASGIApp: ...


# ------------------------------------------------------------ framework keys


class FrameworkKeys(TypedDict, total=False):
    """Keys typedasgi (like Starlette) keeps in a scope beside the spec's own."""

    app: object  # the TypedASGI instance (object: ``types`` sits below ``applications``)
    router: object
    endpoint: object
    path_params: dict[str, Any]  # values come from the convertors, any type
    app_root_path: str  # root_path as the app saw it, before any Mount extended it
    max_body_size: int | None  # set by the app and by routes; read by Request.stream()
    session: dict[str, Any]
    user: object
    auth: object


def framework_keys(scope: Scope) -> FrameworkKeys:
    """The same scope dict, viewed through :class:`FrameworkKeys` for typed access."""
    return cast(FrameworkKeys, scope)

"""The ASGI 3.0 interface, typed key by key after the spec.

Every scope and event message of the HTTP, WebSocket and Lifespan specs (and
of the extensions typedasgi speaks) is a ``TypedDict`` whose ``type`` key is a
``Literal``, so ``if message["type"] == "http.request":`` narrows the union for
the type checker. A key the spec marks optional is ``NotRequired``, in scopes
and in messages of both directions, so the first lines of every ASGI tutorial
type-check as written::

    await send({"type": "http.response.start", "status": 204})
    await send({"type": "http.response.body"})

and reading an optional key needs ``.get(key, default)`` with the spec's
default (basedpyright/pyright report a bare ``message["more_body"]``).

``Send`` takes a :data:`SendEvent` (alias :data:`Message`, Starlette's name),
extension messages included, so a middleware's send wrapper annotated with
``Message`` fits where a ``Send`` goes, narrows on ``message["type"]`` and
forwards the message unchanged. A misspelt ``type``, a missing ``status``, a
``str`` body or header, a ``str`` close code, a message sent the wrong way are
still errors.

asgiref's and hypercorn's types require keys the spec makes optional, so a
function typed with theirs is not a typedasgi ``ASGIApp``; it is still
accepted wherever typedasgi takes an app (:data:`AnyASGIApp`), and
``TypedASGI`` is accepted by their typed entry points.

Frameworks keep a few keys of their own in the scope (``app``, ``router``,
``endpoint``, ``path_params``, ...). They are typed by :class:`FrameworkKeys`
and reached through :func:`framework_keys`, so reading them is still checked.
"""

# No ``from __future__ import annotations`` here: with real annotations, ``__optional_keys__`` of each
# TypedDict is right at run time (the contract checker and other runtime tools read it).
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol, TypedDict, TypeVar, Union, cast

from typing_extensions import Never, NotRequired, ParamSpec, TypeAlias

P = ParamSpec("P")

# --------------------------------------------------------------------------- scopes

Headers: TypeAlias = Iterable[tuple[bytes, bytes]]
"""Raw header pairs, lower-cased names, as servers put them in scopes and messages."""


class ASGIVersions(TypedDict):
    """``scope["asgi"]``: always present, its keys optional (``version`` defaults to ``"2.0"``)."""

    version: NotRequired[Literal["2.0", "3.0"]]
    spec_version: NotRequired[str]


class HTTPScope(TypedDict):
    type: Literal["http"]
    asgi: ASGIVersions
    http_version: str
    method: str
    scheme: NotRequired[str]  # default "http"
    path: str
    raw_path: NotRequired[bytes]  # missing: the server could not provide it
    query_string: bytes
    root_path: NotRequired[str]  # default ""
    headers: Headers
    client: NotRequired[tuple[str, int] | None]  # default None
    server: NotRequired[tuple[str, int | None] | None]  # default None; (path, None) for a unix socket
    # The spec leaves the values of ``state`` and of each extension open.
    state: NotRequired[dict[str, Any]]
    extensions: NotRequired[dict[str, dict[object, object]]]


class WebSocketScope(TypedDict):
    type: Literal["websocket"]
    asgi: ASGIVersions
    http_version: NotRequired[str]  # default "1.1"
    scheme: NotRequired[str]  # default "ws"
    path: str
    raw_path: NotRequired[bytes]
    query_string: NotRequired[bytes | None]  # missing or None: b"" (the spec's words, for WebSocket scopes only)
    root_path: NotRequired[str]  # default ""
    headers: Headers
    client: NotRequired[tuple[str, int] | None]
    server: NotRequired[tuple[str, int | None] | None]
    subprotocols: NotRequired[Iterable[str]]  # default []
    state: NotRequired[dict[str, Any]]
    extensions: NotRequired[dict[str, dict[object, object]]]


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
    body: NotRequired[bytes]  # default b""
    more_body: NotRequired[bool]  # default False


class HTTPDisconnectEvent(TypedDict):
    type: Literal["http.disconnect"]


class HTTPResponseStartEvent(TypedDict):
    type: Literal["http.response.start"]
    status: int
    headers: NotRequired[Headers]  # default []
    trailers: NotRequired[bool]  # default False


class HTTPResponseBodyEvent(TypedDict):
    type: Literal["http.response.body"]
    body: NotRequired[bytes]  # default b""
    more_body: NotRequired[bool]  # default False


class HTTPResponseTrailersEvent(TypedDict):
    """The trailers extension: sent after the body when ``trailers`` was true."""

    type: Literal["http.response.trailers"]
    headers: Headers
    more_trailers: NotRequired[bool]  # default False


class HTTPServerPushEvent(TypedDict):
    """The HTTP/2 server push extension."""

    type: Literal["http.response.push"]
    path: str
    headers: Headers


class HTTPEarlyHintEvent(TypedDict):
    """The early hints extension: a 103 response carrying ``Link`` values."""

    type: Literal["http.response.early_hint"]
    links: Iterable[bytes]


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
    subprotocol: NotRequired[str | None]  # default None
    headers: NotRequired[Headers]  # default []


class WebSocketReceiveEvent(TypedDict):
    """Exactly one of ``bytes`` and ``text`` is not None (a missing key counts as None)."""

    type: Literal["websocket.receive"]
    bytes: NotRequired[bytes | None]
    text: NotRequired[str | None]


class WebSocketSendEvent(TypedDict):
    """Exactly one of ``bytes`` and ``text`` is not None (a missing key counts as None)."""

    type: Literal["websocket.send"]
    bytes: NotRequired[bytes | None]
    text: NotRequired[str | None]


class WebSocketResponseStartEvent(TypedDict):
    """The WebSocket denial response extension: answer HTTP instead of accepting."""

    type: Literal["websocket.http.response.start"]
    status: int
    headers: NotRequired[Headers]


class WebSocketResponseBodyEvent(TypedDict):
    type: Literal["websocket.http.response.body"]
    body: NotRequired[bytes]
    more_body: NotRequired[bool]


class WebSocketDisconnectEvent(TypedDict):
    type: Literal["websocket.disconnect"]
    code: int  # 1005 when the client's close frame had none
    reason: NotRequired[str | None]  # missing or None: ""


class WebSocketCloseEvent(TypedDict):
    type: Literal["websocket.close"]
    code: NotRequired[int]  # default 1000
    reason: NotRequired[str | None]  # missing or None: ""


# ------------------------------------------------------------- Lifespan messages


class LifespanStartupEvent(TypedDict):
    type: Literal["lifespan.startup"]


class LifespanShutdownEvent(TypedDict):
    type: Literal["lifespan.shutdown"]


class LifespanStartupCompleteEvent(TypedDict):
    type: Literal["lifespan.startup.complete"]


class LifespanStartupFailedEvent(TypedDict):
    type: Literal["lifespan.startup.failed"]
    message: NotRequired[str]  # default ""


class LifespanShutdownCompleteEvent(TypedDict):
    type: Literal["lifespan.shutdown.complete"]


class LifespanShutdownFailedEvent(TypedDict):
    type: Literal["lifespan.shutdown.failed"]
    message: NotRequired[str]  # default ""


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
"""Everything a server's ``receive()`` returns."""
ExtensionSendEvent: TypeAlias = Union[
    HTTPEarlyHintEvent, HTTPResponsePathsendEvent, HTTPResponseZeroCopySendEvent, HTTPResponseDebugEvent
]
"""Messages of extensions: send one only when ``scope["extensions"]`` offers it."""
SendEvent: TypeAlias = Union[HTTPSendEvent, WebSocketSendMessage, LifespanSendEvent, ExtensionSendEvent]
"""Everything an app may pass to ``send()``."""
Message: TypeAlias = SendEvent
"""A message on its way out: what a middleware's send wrapper takes, narrows and forwards.

``async def send_wrapper(message: Message) -> None`` fits where a ``Send`` goes,
so Starlette's middleware idiom type-checks as written, while narrowing on
``message["type"]`` still checks every key. A receive wrapper returns a
:data:`ReceiveEvent` (typedasgi keeps the two directions apart, so sending a
message meant for ``receive`` is an error).
"""

# ----------------------------------------------------------------- callables


class Receive(Protocol):
    """``receive``: an awaitable that returns the next message from the client."""

    def __call__(self) -> Awaitable[ReceiveEvent]: ...


class Send(Protocol):
    """``send``: an awaitable that passes one message to the client."""

    def __call__(self, message: SendEvent, /) -> Awaitable[None]: ...


ExtendedSend: TypeAlias = Send
"""``Send`` takes the extension messages too; the name stays for code that used it."""


def extension_send(send: Send) -> Send:
    """``send`` itself: marks where an extension's message goes out (after checking ``scope["extensions"]``)."""
    return send


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


ServerScope: TypeAlias = Mapping[str, object]
"""A scope as any server's own types describe it (asgiref, hypercorn, uvicorn, Starlette's dicts)."""
ServerReceive: TypeAlias = Callable[[], Awaitable[object]]
"""A ``receive`` as any server's own types describe it."""
ServerSend: TypeAlias = Callable[[Never], Awaitable[None]]
"""A ``send`` as any server's own types describe it.

asgiref's and hypercorn's ``send`` types take only messages with every key
present; the spec makes servers take the short forms too. An app's entry point
that takes ``ServerSend`` is accepted by those servers' typed entry points and
relies on the spec, not on their annotations.
"""


class MiddlewareFactory(Protocol[P]):
    """A middleware class (or function): ``factory(app, *args, **kwargs)`` -> a new ASGI app."""

    def __call__(self, app: ASGIApp, /, *args: P.args, **kwargs: P.kwargs) -> ASGIApp: ...


AnyFrameworksApp: TypeAlias = Callable[[object, object, object], Coroutine[object, object, None]]
"""The next app a middleware is given, as any framework's app type sees it: a callable of three arguments
that returns a coroutine. Starlette's and asgiref's app types accept it; a class (``app: Starlette``) or a
``str`` does not, for the next app is never the framework's application object."""


class ForeignMiddlewareFactory(Protocol[P]):
    """A middleware class typed with another framework's types (Starlette's, asgiref's).

    Its ``app`` parameter is typed with that framework's own app type, which a
    typedasgi app satisfies by the spec, not by annotation: so it is checked only
    as :data:`AnyFrameworksApp`; the other arguments are, as for :class:`MiddlewareFactory`.
    """

    def __call__(self, app: AnyFrameworksApp, /, *args: P.args, **kwargs: P.kwargs) -> AnyASGIApp: ...


# ------------------------------------------------------------ framework keys


class FrameworkKeys(TypedDict, total=False):
    """Keys typedasgi (like Starlette) keeps in a scope beside the spec's own."""

    app: object  # the TypedASGI instance (object: ``types`` sits below ``applications``)
    router: object
    endpoint: object
    path_params: dict[str, Any]  # values come from the convertors, any type
    app_root_path: str  # root_path as the app saw it, before any Mount extended it
    max_body_size: int | None  # set by the app and by routes; read by Request.stream()
    json_errors: bool  # set as an error leaves a typed handler: answer it in JSON (typedasgi.error_responses)
    request: object  # the endpoint's Request, kept only when the endpoint raised: its error handler gets it
    route: object  # the innermost matched Route or Mount (instrumentation reads its path_format)
    session: dict[str, Any]
    user: object
    auth: object


def framework_keys(scope: Scope) -> FrameworkKeys:
    """The same scope dict, viewed through :class:`FrameworkKeys` for typed access."""
    return cast(FrameworkKeys, scope)


# ------------------------------------------------------ Starlette's plain names
# Code written for Starlette types messages and lifespans with these names;
# they keep it importable and checkable unchanged (``Scope``, ``Receive``,
# ``Send`` and ``ASGIApp`` above already accept what such code passes).

AppType = TypeVar("AppType")

StatelessLifespan: TypeAlias = Callable[[AppType], AbstractAsyncContextManager[None]]
StatefulLifespan: TypeAlias = Callable[[AppType], AbstractAsyncContextManager[Mapping[str, Any]]]
Lifespan: TypeAlias = Union[StatelessLifespan[AppType], StatefulLifespan[AppType]]
"""``lifespan=`` of an app: an async context manager factory, yielding nothing or the state."""

# ``types`` sits below ``requests`` and ``responses``, so these cannot name
# Request/WebSocket/Response: they take any connection and return anything,
# which is what lets a Starlette-typed handler table pass where the app takes
# handlers. The checked shape is ``typedasgi.middleware.exceptions.ExceptionHandler``.
HTTPExceptionHandler: TypeAlias = Callable[[Any, Exception], Any]
"""``handler(request, exc)`` -> a response (or an awaitable of one)."""
WebSocketExceptionHandler: TypeAlias = Callable[[Any, Exception], Awaitable[None]]
"""``await handler(websocket, exc)``: closes or answers the WebSocket itself."""
ExceptionHandler: TypeAlias = Union[HTTPExceptionHandler, WebSocketExceptionHandler]

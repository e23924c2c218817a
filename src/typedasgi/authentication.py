"""Authentication: who the user is (a backend decides), and what they may do (``requires``).

:class:`~typedasgi.middleware.authentication.AuthenticationMiddleware` asks an
:class:`AuthenticationBackend` about each connection and stores the answer as
``request.auth`` (an :class:`AuthCredentials`: the granted scopes) and
``request.user`` (a :class:`BaseUser`). Endpoints then guard themselves::

    class TokenBackend(AuthenticationBackend):      # or any class with this method
        async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
            sent = conn.headers.get("authorization", "").encode("latin-1")  # bytes: any header value compares
            if not hmac.compare_digest(sent, b"Bearer s3cret"):  # in constant time: no guessing by timing
                return None                          # anonymous
            return AuthCredentials(["authenticated"]), SimpleUser("alice")

    @requires("authenticated")
    async def dashboard(request: Request) -> Response: ...

``requires`` keeps the endpoint's exact type (a ``ParamSpec``), so decorating
never hides a signature from the type checker.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlencode

from typing_extensions import ParamSpec

from typedasgi import status
from typedasgi.exceptions import HTTPException
from typedasgi.requests import HTTPConnection
from typedasgi.responses import RedirectResponse
from typedasgi.websockets import WebSocket

__all__ = [
    "AuthCredentials",
    "AuthenticationBackend",
    "AuthenticationError",
    "BaseUser",
    "SimpleUser",
    "UnauthenticatedUser",
    "has_required_scope",
    "requires",
]

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C")


class AuthenticationError(Exception):
    """Raised by a backend for credentials that are present but wrong: the client gets a 400."""


class AuthCredentials:
    """What the authenticated connection may do: a list of scope names."""

    def __init__(self, scopes: Sequence[str] = ()) -> None:
        self.scopes: list[str] = list(scopes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.scopes!r})"


class BaseUser:
    """The user interface endpoints rely on; subclass it for your own user model."""

    @property
    def is_authenticated(self) -> bool:
        raise NotImplementedError()

    @property
    def display_name(self) -> str:
        raise NotImplementedError()

    @property
    def identity(self) -> str:
        raise NotImplementedError()


class SimpleUser(BaseUser):
    """An authenticated user known only by name."""

    def __init__(self, username: str) -> None:
        self.username = username

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.username

    @property
    def identity(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.username!r})"


class UnauthenticatedUser(BaseUser):
    """The user of a connection no backend recognised."""

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return ""

    @property
    def identity(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AuthenticationBackend(Protocol):
    """Decides who is on the other end of a connection.

    A ``Protocol``: any object with this method qualifies, no inheritance needed.
    Subclassing it explicitly also works (as in Starlette); forgetting to
    implement ``authenticate`` is then caught by the type checker.
    Return None for an anonymous connection; raise :class:`AuthenticationError`
    for credentials that are present but invalid.
    """

    async def authenticate(self, conn: HTTPConnection[Any], /) -> tuple[AuthCredentials, BaseUser] | None:
        raise NotImplementedError()


def has_required_scope(conn: HTTPConnection[Any], scopes: Sequence[str]) -> bool:
    """True when the connection's credentials grant every scope in ``scopes``."""
    granted = getattr(conn.auth, "scopes", ())
    return all(scope in granted for scope in scopes)


def _connection_parameter(func: Callable[..., object]) -> tuple[str, int]:
    """Which parameter holds the connection ("request" or "websocket") and where: found once, at decoration."""
    for index, parameter in enumerate(inspect.signature(func).parameters.values()):
        if parameter.name in ("request", "websocket"):
            return parameter.name, index
    name = getattr(func, "__qualname__", repr(func))
    raise TypeError(f'@requires needs a "request" or "websocket" parameter on {name}')


def _connection(args: tuple[object, ...], kwargs: dict[str, object], name: str, index: int, kind: type[C]) -> C:
    if name in kwargs:
        found = kwargs[name]
    elif index < len(args):
        found = args[index]
    else:
        raise TypeError(f'@requires: the "{name}" argument is missing from the call')
    if not isinstance(found, kind):
        expected = "a WebSocket" if kind is WebSocket else "a Request"
        raise TypeError(f"@requires: expected {expected}, got {type(found).__name__}")
    return found


def requires(
    scopes: str | Sequence[str], status_code: int = status.HTTP_403_FORBIDDEN, redirect: str | None = None
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Let the decorated endpoint run only for connections granted every one of ``scopes``.

    Otherwise an HTTP endpoint raises ``HTTPException(status_code)`` - or, with
    ``redirect`` (a route name), answers 303 to that route with ``?next=<this URL>``;
    a WebSocket endpoint closes the connection with 1008 (policy violation).
    Works on sync and async functions and on methods; the connection parameter
    must be called ``request`` or ``websocket``.
    """
    required = [scopes] if isinstance(scopes, str) else list(scopes)

    def decorator(func: Callable[P, T]) -> Callable[P, T]:
        name, index = _connection_parameter(func)
        is_async = inspect.iscoroutinefunction(func)

        if name == "websocket":
            if not is_async:
                raise TypeError(f"@requires: the WebSocket endpoint {func.__qualname__} must be async")

            @functools.wraps(func)
            async def websocket_endpoint(*args: P.args, **kwargs: P.kwargs) -> Any:
                websocket = _connection(args, kwargs, name, index, WebSocket)
                if not has_required_scope(websocket, required):
                    await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
                    return None
                return await cast(Awaitable[Any], func(*args, **kwargs))  # async: T is an awaitable

            return cast(Callable[P, T], websocket_endpoint)

        def refuse(request: HTTPConnection[Any]) -> RedirectResponse:
            if redirect is None:
                raise HTTPException(status_code=status_code)
            next_url = f"{request.url_for(redirect)}?{urlencode({'next': str(request.url)})}"
            return RedirectResponse(url=next_url, status_code=status.HTTP_303_SEE_OTHER)

        def check(args: tuple[object, ...], kwargs: dict[str, object]) -> RedirectResponse | None:
            request = _connection(args, kwargs, name, index, HTTPConnection)
            return None if has_required_scope(request, required) else refuse(request)

        if is_async:

            @functools.wraps(func)
            async def async_endpoint(*args: P.args, **kwargs: P.kwargs) -> Any:
                refused = check(args, kwargs)
                if refused is not None:
                    return refused
                return await cast(Awaitable[Any], func(*args, **kwargs))  # async: T is an awaitable

            return cast(Callable[P, T], async_endpoint)

        @functools.wraps(func)
        def sync_endpoint(*args: P.args, **kwargs: P.kwargs) -> T:
            refused = check(args, kwargs)
            if refused is not None:
                return cast(T, refused)  # the endpoint's own result would be a Response too
            return func(*args, **kwargs)

        return sync_endpoint

    return decorator

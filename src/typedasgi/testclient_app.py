"""The app under test as the test clients see it: ASGI 2 adaptation, shared settings, bounded waits."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

try:
    import httpx2
except ImportError as _missing:  # pragma: no cover - exercised only without the extra
    raise ImportError("The TestClient needs httpx2: pip install 'typedasgi[testclient]'") from _missing

from typedasgi.applications import TypedASGI
from typedasgi.background import raise_task_errors
from typedasgi.concurrency import unwrap_partial
from typedasgi.middleware.errors import RAISE_EXCEPTIONS
from typedasgi.routing import Router
from typedasgi.testing import check_asgi
from typedasgi.types import AnyASGIApp, ASGI2App, ASGIApp, Receive, Scope, Send, as_asgi_app

__all__ = [
    "DEFAULT_TIMEOUT",
    "AppConfig",
    "AppProtocolError",
    "CookieTypes",
    "HeaderTypes",
    "QueryParamTypes",
    "TestClientTimeout",
    "TimeoutTypes",
    "default_headers",
    "server_address",
    "wait_within",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
"""Seconds any single wait on the app may take before the test fails (the httpx2 read timeout)."""

CookieTypes = httpx2.Cookies | dict[str, str] | list[tuple[str, str]]
HeaderTypes = Mapping[str, str] | list[tuple[str, str]]
_Primitive = str | int | float | bool | None
QueryParamTypes = httpx2.QueryParams | Mapping[str, _Primitive | Sequence[_Primitive]] | list[tuple[str, _Primitive]] | str
TimeoutTypes = float | httpx2.Timeout | None


class AppProtocolError(AssertionError, RuntimeError):
    """The app under test broke the ASGI message order: a failed assertion about it, and a ``RuntimeError``.

    Raised whatever ``raise_server_exceptions`` says: a server would drop the connection.
    """


class TestClientTimeout(TimeoutError):
    """The app did not answer within the client's timeout (raised whatever ``raise_server_exceptions``)."""

    __test__ = False  # not a pytest test class


def _is_asgi2(app: object) -> bool:
    """Whether ``app`` is a double-callable ASGI 2 app: ``app(scope)`` gives what is awaited with (receive, send).

    Two shapes exist: a class whose instances have an async ``__call__`` (the class is called with the
    scope), and a plain function of the scope alone that returns the coroutine function.
    """
    app = unwrap_partial(app)
    if inspect.isclass(app):
        return inspect.iscoroutinefunction(getattr(app, "__call__", None)) and not hasattr(app, "__await__")
    if not inspect.isfunction(app) or inspect.iscoroutinefunction(app):
        return False
    try:
        return len(inspect.signature(app).parameters) == 1
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


class _ASGI2Adapter:
    """Presents a double-callable ASGI 2 app as an ASGI 3 one."""

    __slots__ = ("_app",)

    def __init__(self, app: ASGI2App) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send, /) -> None:
        await self._app(scope)(receive, send)


def _as_asgi3(app: AnyASGIApp | ASGI2App) -> ASGIApp:
    if _is_asgi2(app):
        return _ASGI2Adapter(cast(ASGI2App, app))
    return as_asgi_app(cast(AnyASGIApp, app))


@dataclass
class AppConfig:
    """What the client, its transport and its websocket sessions share about the app under test."""

    app: ASGIApp
    root_path: str
    client: tuple[str, int]
    raise_server_exceptions: bool
    timeout: float | None
    speaks_lifespan: bool = False  # an app or router of ours: an error on the lifespan scope is a fault
    state: dict[str, Any] = field(default_factory=dict)  # the lifespan state; values are the app's

    @classmethod
    def create(
        cls,
        app: AnyASGIApp | ASGI2App,
        root_path: str,
        client: tuple[str, int],
        raise_server_exceptions: bool,
        timeout: TimeoutTypes,
        check: bool | None = None,
    ) -> AppConfig:
        """``check``: wrap the app in the ASGI contract checker (``None``: as ``TYPEDASGI_CHECK_ASGI`` says)."""
        bound = timeout.read if isinstance(timeout, httpx2.Timeout) else timeout
        asgi3 = _as_asgi3(app)
        if check if check is not None else os.environ.get("TYPEDASGI_CHECK_ASGI", "") not in ("", "0"):
            asgi3 = check_asgi(asgi3)
        speaks_lifespan = isinstance(app, (TypedASGI, Router))
        return cls(asgi3, root_path, client, raise_server_exceptions, bound, speaks_lifespan)

    async def call(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app for one request; with ``raise_server_exceptions``, a failing background task raises too."""
        token = raise_task_errors.set(self.raise_server_exceptions)
        try:
            await self.app(scope, receive, send)
        finally:
            raise_task_errors.reset(token)

    def raise_extension(self) -> dict[str, dict[object, object]]:
        """The scope extension asking the app to hand its errors over after answering them (for the test)."""
        return {RAISE_EXCEPTIONS: {}} if self.raise_server_exceptions else {}


def default_headers(headers: HeaderTypes | None) -> httpx2.Headers:
    merged = httpx2.Headers(headers)
    merged.setdefault("user-agent", "testclient")
    return merged


def app_failure(error: BaseException) -> bool:
    """Whether ``error``, out of the app, is its failure (a server answers 500, as uvicorn does for any exception).

    ``CancelledError`` the app raised itself, ``GeneratorExit`` or ``SystemExit`` count; a cancellation of
    the client's own task (the test closed the response, a timeout) and Ctrl-C do not.
    """
    if isinstance(error, KeyboardInterrupt):
        return False
    if isinstance(error, asyncio.CancelledError):
        task = asyncio.current_task()
        return task is None or not task.cancelling()
    return True


async def wait_within(awaitable: Awaitable[T], timeout: float | None, what: str) -> T:
    """Await with the client's bound; a timeout says what was waited for."""
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError:
        if deadline.expired():
            raise TestClientTimeout(f"{what} did not finish within {timeout} s (the TestClient timeout)") from None
        raise


def server_address(url: httpx2.URL) -> tuple[str, int]:
    port = url.port
    if port is None:
        port = 443 if url.scheme in ("https", "wss") else 80
    return (url.host, port)

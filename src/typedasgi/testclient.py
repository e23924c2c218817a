"""Drive an ASGI app in-process from tests, through the httpx2 client API.

Why a background loop: tests are mostly synchronous functions while the app is a coroutine.
:class:`TestClient` owns one asyncio loop in a daemon thread (started on first use, stopped on
``close()``, on leaving ``with`` or when the client is collected) and hands each request, websocket
message and lifespan step to it with ``asyncio.run_coroutine_threadsafe``. Whatever the app schedules
(tasks, lifespan resources) thus lives in one loop, as under a server. :class:`AsyncTestClient` runs
the app in the caller's own loop instead, for async tests.

Every wait on the app is bounded by the client's read timeout (10 s unless given), so a hung app fails
the test with a clear error instead of hanging it; pass ``timeout=None`` while debugging.

A request URL's path is the full path (ASGI: ``path`` includes ``root_path``); ``root_path`` is only
put in the scope, as a server behind a path-stripping proxy would.

This module holds the two clients; the parts they share live beside it: ``testclient_app`` (settings,
timeouts), ``testclient_loop`` (the loop thread), ``testclient_http``, ``testclient_lifespan`` and
``testclient_websocket`` (one protocol each).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

try:
    import httpx2
except ImportError as _missing:  # pragma: no cover - exercised only without the extra
    raise ImportError("The TestClient needs httpx2: pip install 'typedasgi[testclient]'") from _missing

from typedasgi.testclient_app import (
    DEFAULT_TIMEOUT,
    AppConfig,
    CookieTypes,
    HeaderTypes,
    QueryParamTypes,
    TestClientTimeout,
    TimeoutTypes,
    default_headers,
)
from typedasgi.testclient_http import AsyncTestTransport, TestTransport
from typedasgi.testclient_lifespan import LifespanRunner
from typedasgi.testclient_loop import Backend, LoopProvider, loop_factory
from typedasgi.testclient_websocket import WebSocketDenialResponse, WebSocketTestSession, websocket_scope
from typedasgi.types import AnyASGIApp, ASGI2App, ASGI2Instance, ASGIApp

__all__ = [
    "DEFAULT_TIMEOUT",
    "ASGI2App",
    "ASGI3App",
    "ASGIInstance",
    "AsyncTestClient",
    "CookieTypes",
    "HeaderTypes",
    "QueryParamTypes",
    "TestClient",
    "TestClientTimeout",
    "TimeoutTypes",
    "WebSocketAuth",
    "WebSocketDenialResponse",
    "WebSocketTestSession",
]

ASGIInstance = ASGI2Instance
"""Starlette's name for what an ASGI 2 app returns for a scope."""
ASGI3App = ASGIApp
"""Starlette's name for a single-callable ASGI app."""


class TestClient(httpx2.Client):
    """A synchronous httpx2 client whose requests go straight to ``app``.

    ``with TestClient(app) as client:`` also runs the app's lifespan (startup before the block,
    shutdown after); a client may be entered again after it left a block. ``check_asgi=True``
    holds the app to the ASGI spec (:mod:`typedasgi.testing`); unset, ``TYPEDASGI_CHECK_ASGI`` decides.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: AnyASGIApp | ASGI2App,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: Backend = "asyncio",
        backend_options: Mapping[str, Any] | None = None,
        cookies: CookieTypes | None = None,
        headers: HeaderTypes | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        check_asgi: bool | None = None,
    ) -> None:
        self.app = app
        self._config = AppConfig.create(app, root_path, client, raise_server_exceptions, timeout, check_asgi)
        self._loop = LoopProvider(loop_factory(backend, backend_options))
        self._lifespan: LifespanRunner | None = None
        super().__init__(
            base_url=base_url,
            headers=default_headers(headers),
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=TestTransport(self._config, self._loop),
        )

    @property
    def app_state(self) -> dict[str, Any]:
        """The lifespan state (values are the app's); each request's scope gets a shallow copy."""
        return self._config.state

    def __enter__(self) -> Self:
        if self._lifespan is not None:
            raise RuntimeError("This TestClient is already running the app's lifespan")
        lifespan = LifespanRunner(self._config)
        try:
            self._loop.get().run(lifespan.startup())
        except BaseException:
            self._loop.stop()
            raise
        self._lifespan = lifespan
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                self._loop.get().run(lifespan.shutdown())
        finally:
            self._loop.stop()

    def close(self) -> None:
        super().close()
        self._loop.stop()

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: HeaderTypes | None = None,
        params: QueryParamTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: WebSocketAuth | None = None,
    ) -> WebSocketTestSession:
        """A websocket session to ``url`` (merged with ``base_url``, params, headers and cookies as for requests).

        ``auth`` (or the client's own ``auth``) adds its credentials to the handshake: a ``(user, password)``
        pair is HTTP Basic, as for requests. Only an auth's first request is used: a handshake is one request.
        """
        request = self.build_request("GET", url, headers=headers, params=params, cookies=cookies)
        scheme = auth if auth is not None else self.auth
        if scheme is not None:
            request = _with_credentials(request, scheme)
        scope = websocket_scope(self._config, request, list(subprotocols or ()))
        return WebSocketTestSession(self._config, scope, self._loop)


WebSocketAuth = tuple[str | bytes, str | bytes] | Callable[[httpx2.Request], httpx2.Request] | httpx2.Auth
"""``websocket_connect(auth=)``: what httpx2 takes as a request's ``auth``."""


def _with_credentials(request: httpx2.Request, auth: WebSocketAuth) -> httpx2.Request:
    if isinstance(auth, httpx2.Auth):
        scheme = auth
    elif callable(auth):
        scheme = httpx2.FunctionAuth(auth)
    else:
        scheme = httpx2.BasicAuth(auth[0], auth[1])
    return next(scheme.sync_auth_flow(request))


class AsyncTestClient(httpx2.AsyncClient):
    """An async httpx2 client whose requests go straight to ``app``, in the running loop.

    ``async with AsyncTestClient(app) as client:`` runs the app's lifespan around the block.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: AnyASGIApp | ASGI2App,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: CookieTypes | None = None,
        headers: HeaderTypes | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        check_asgi: bool | None = None,
    ) -> None:
        self.app = app
        self._config = AppConfig.create(app, root_path, client, raise_server_exceptions, timeout, check_asgi)
        self._lifespan: LifespanRunner | None = None
        super().__init__(
            base_url=base_url,
            headers=default_headers(headers),
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=AsyncTestTransport(self._config),
        )

    @property
    def app_state(self) -> dict[str, Any]:
        """The lifespan state (values are the app's); each request's scope gets a shallow copy."""
        return self._config.state

    async def __aenter__(self) -> Self:
        if self._lifespan is not None:
            raise RuntimeError("This AsyncTestClient is already running the app's lifespan")
        lifespan = LifespanRunner(self._config)
        await lifespan.startup()
        self._lifespan = lifespan
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown()

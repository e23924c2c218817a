"""``AuthenticationMiddleware``: run the backend once per connection, store ``auth`` and ``user``.

Every HTTP request and WebSocket handshake gets ``request.auth`` (granted
scopes) and ``request.user``; a connection the backend does not recognise gets
empty credentials and an :class:`~typedasgi.authentication.UnauthenticatedUser`,
so endpoints never need to check whether authentication ran. A backend that
raises :class:`~typedasgi.authentication.AuthenticationError` ends the
connection before the app runs: 400 with the error's text, or whatever
``on_error(conn, exc)`` returns (a WebSocket handshake is refused with it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typedasgi.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    UnauthenticatedUser,
)
from typedasgi.middleware.pure import respond_early
from typedasgi.requests import HTTPConnection
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.types import ASGIApp, AnyASGIApp, Receive, Scope, Send, as_asgi_app, framework_keys

__all__ = ["AuthenticationMiddleware", "AuthErrorHandler"]

AuthErrorHandler = Callable[[HTTPConnection[Any], AuthenticationError], Response]
"""``on_error(conn, exc) -> Response``: the answer to a failed authentication."""


def default_on_error(conn: HTTPConnection[Any], exc: AuthenticationError) -> Response:
    return PlainTextResponse(str(exc), status_code=400)


class AuthenticationMiddleware:
    def __init__(
        self, app: AnyASGIApp, backend: AuthenticationBackend, on_error: AuthErrorHandler | None = None
    ) -> None:
        self.app: ASGIApp = as_asgi_app(app)
        self.backend = backend
        self.on_error: AuthErrorHandler = on_error if on_error is not None else default_on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        conn: HTTPConnection[Any] = HTTPConnection(scope)
        try:
            result = await self.backend.authenticate(conn)
        except AuthenticationError as exc:
            await respond_early(scope, receive, send, self.on_error(conn, exc))
            return
        keys = framework_keys(scope)
        if result is None:
            keys["auth"], keys["user"] = AuthCredentials(), UnauthenticatedUser()
        else:
            keys["auth"], keys["user"] = result
        await self.app(scope, receive, send)

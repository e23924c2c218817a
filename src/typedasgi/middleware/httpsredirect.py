"""``HTTPSRedirectMiddleware``: send ``http``/``ws`` requests to ``https``/``wss``.

HTTP gets a 307 (method and body are kept) to the same URL on the secure scheme;
an explicit default port (``:80``/``:443``) is dropped, any other port is kept.
A ``ws://`` handshake is refused with the same redirect, to ``wss://``, as a
denial response where the server supports it, else closed (HTTP 403 for the
client) - a WebSocket cannot follow a redirect anyway. The redirect's host is the
request's validated ``Host``, or the server's address when it is malformed; with
neither, the answer is a 400, never a ``Location`` pointing elsewhere.

Behind a TLS-terminating proxy the scope's scheme is ``http``: have the server
trust the proxy's ``X-Forwarded-Proto`` (uvicorn ``--proxy-headers``) or every
request will be redirected. The target's scheme follows the protocol spoken (an
HTTP request marked ``ws`` by that header still goes to ``https``).
"""

from __future__ import annotations

from typedasgi.datastructures import URL
from typedasgi.middleware.pure import respond_early
from typedasgi.responses import PlainTextResponse, RedirectResponse
from typedasgi.types import ASGIApp, AnyASGIApp, Receive, Scope, Send, as_asgi_app

__all__ = ["HTTPSRedirectMiddleware"]

_INSECURE = frozenset({"http", "ws"})
_SECURE = {"http": "https", "websocket": "wss"}  # by the protocol spoken: X-Forwarded-Proto may say "ws" for HTTP
_DEFAULT_SCHEME = {"http": "http", "websocket": "ws"}  # the spec's, when the server leaves "scheme" out


class HTTPSRedirectMiddleware:
    def __init__(self, app: AnyASGIApp) -> None:
        self.app: ASGIApp = as_asgi_app(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        scheme = scope.get("scheme", _DEFAULT_SCHEME[scope["type"]])
        if scheme not in _INSECURE:
            await self.app(scope, receive, send)
            return
        url = URL(scope=scope)  # a malformed Host is ignored for the server's address
        if not url.netloc:  # no host at all: "https:" + the path could name any host
            await respond_early(scope, receive, send, PlainTextResponse("Invalid host header", status_code=400))
            return
        netloc, port = url.netloc, url.port
        if port in (80, 443):
            netloc = netloc.rpartition(":")[0]  # drop the default port, keep credentials and IPv6 brackets
        secure = url.replace(scheme=_SECURE[scope["type"]], netloc=netloc)
        await respond_early(scope, receive, send, RedirectResponse(secure, status_code=307))

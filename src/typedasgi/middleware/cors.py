"""``CORSMiddleware``: Cross-Origin Resource Sharing headers, preflights answered here.

Two kinds of requests get an answer (the rest pass through untouched):

* a *preflight* - ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method`` -
  is answered by the middleware itself: 200 "OK" with the allowed methods and
  headers, or 400 naming what was disallowed ("Disallowed CORS origin, method").
* a *simple* (actual) request - any other request with ``Origin`` - goes to the
  app, and its response gets the ``Access-Control-*`` headers.

``Access-Control-Allow-Origin: *`` is only sent when the answer is the same for
every origin; with credentials (or a cookie) the origin is echoed instead, as
browsers require, and ``Vary: Origin`` tells caches the answer depends on it.
Every header set is built once, here in ``__init__``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from typedasgi.datastructures import Headers
from typedasgi.middleware.pure import add_vary, start_headers
from typedasgi.responses import PlainTextResponse
from typedasgi.types import AnyASGIApp, Receive, Scope, Send, SendEvent, as_asgi_app

__all__ = ["ALL_METHODS", "SAFELISTED_HEADERS", "CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
"""What ``allow_methods=["*"]`` stands for."""
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
"""Request headers always allowed (the CORS-safelisted ones)."""


class CORSMiddleware:
    def __init__(
        self,
        app: AnyASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        self.app = as_asgi_app(app)
        self.allow_all_origins = "*" in allow_origins
        self.allow_origins = frozenset(allow_origins)
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex is not None else None
        methods = ALL_METHODS if "*" in allow_methods else tuple(dict.fromkeys(m.upper() for m in allow_methods))
        self.allow_methods = frozenset(methods)
        self.allow_all_headers = "*" in allow_headers
        self.allow_headers = SAFELISTED_HEADERS | {h.lower() for h in allow_headers if h != "*"}
        self.allow_credentials = allow_credentials
        self.allow_private_network = allow_private_network
        # With "*" and no credentials the answer never depends on the origin.
        self.wildcard = self.allow_all_origins and not allow_credentials

        simple: list[tuple[bytes, bytes]] = []
        if allow_credentials:
            simple.append((b"access-control-allow-credentials", b"true"))
        if expose_headers:
            simple.append((b"access-control-expose-headers", ", ".join(expose_headers).encode("latin-1")))
        self.simple_headers = simple

        preflight: dict[str, str] = {
            "access-control-allow-methods": ", ".join(methods),
            "access-control-max-age": str(max_age),
        }
        if not self.allow_all_headers:
            preflight["access-control-allow-headers"] = ", ".join(sorted(self.allow_headers))
        if allow_credentials:
            preflight["access-control-allow-credentials"] = "true"
        self.preflight_headers = preflight

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        return self.allow_origin_regex is not None and self.allow_origin_regex.fullmatch(origin) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            if self.wildcard:
                await self.app(scope, receive, send)
            else:  # a cache must not serve this answer to a cross-origin request
                await self.app(scope, receive, _vary_origin(send))
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self.preflight_response(headers, origin)(scope, receive, send)
            return
        await self.app(scope, receive, self._simple_send(send, origin, "cookie" in headers))

    def preflight_response(self, request_headers: Headers, origin: str) -> PlainTextResponse:
        """The answer to a preflight: 200 "OK", or 400 naming every disallowed part."""
        headers = dict(self.preflight_headers)
        failures: list[str] = []
        if self.is_allowed_origin(origin):
            if self.wildcard:
                headers["access-control-allow-origin"] = "*"
            else:
                headers["access-control-allow-origin"] = origin
                headers["vary"] = "Origin"
        else:
            failures.append("origin")
            headers["vary"] = "Origin"

        if request_headers["access-control-request-method"] not in self.allow_methods:
            failures.append("method")

        requested = request_headers.get("access-control-request-headers")
        if requested:
            names = [name.strip().lower() for name in requested.split(",")]
            if self.allow_all_headers:
                headers["access-control-allow-headers"] = ", ".join(name for name in names if name)
            elif not all(name in self.allow_headers for name in names if name):
                failures.append("headers")

        if request_headers.get("access-control-request-private-network", "").lower() == "true":
            if self.allow_private_network:
                headers["access-control-allow-private-network"] = "true"
            else:
                failures.append("private network access")

        if failures:
            return PlainTextResponse("Disallowed CORS " + ", ".join(failures), status_code=400, headers=headers)
        return PlainTextResponse("OK", status_code=200, headers=headers)

    def _simple_send(self, send: Send, origin: str, has_cookie: bool) -> Send:
        if self.allow_all_origins and not (self.allow_credentials or has_cookie):
            allow_origin: str | None = "*"  # the same for every origin: no Vary
        elif self.is_allowed_origin(origin):
            allow_origin = origin
        else:
            allow_origin = None  # not allowed: no CORS headers, but the answer still depends on Origin
        extra = self.simple_headers

        async def cors_send(message: SendEvent) -> None:
            if message["type"] == "http.response.start":
                response_headers = start_headers(message)
                if allow_origin is None:
                    add_vary(response_headers, "Origin")
                else:
                    response_headers["access-control-allow-origin"] = allow_origin
                    if allow_origin != "*":
                        add_vary(response_headers, "Origin")
                    raw = response_headers.raw
                    for name, value in extra:
                        if not any(k.lower() == name for k, _ in raw):
                            raw.append((name, value))
            await send(message)

        return cors_send


def _vary_origin(send: Send) -> Send:
    async def vary_send(message: SendEvent) -> None:
        if message["type"] == "http.response.start":
            add_vary(start_headers(message), "Origin")
        await send(message)

    return vary_send

"""``CORSMiddleware``: Cross-Origin Resource Sharing headers, preflights answered here.

Two kinds of requests are handled:

* a *preflight* - ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method`` -
  is answered by the middleware itself: 200 "OK" with the allowed methods and
  headers, or 400 naming what was disallowed ("Disallowed CORS origin, method").
* any other request goes to the app; when it has an ``Origin``, the response gets
  :attr:`CORSMiddleware.simple_headers` and, where the answer depends on the origin,
  the origin echoed in ``Access-Control-Allow-Origin``.

Every response gets ``Vary: Origin`` (a cache must not serve one origin's answer to
another); preflights vary by the ``Access-Control-Request-*`` headers too. Header names
are sent as configured (``allow_headers=["X-Token"]`` is answered ``X-Token``); they are
compared case-insensitively. Every header set is built once, here in ``__init__``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Collection

from typedasgi.datastructures import Headers
from typedasgi.headers import encode_header, encode_header_value, first_raw_value, is_field_value, remember
from typedasgi.middleware.pure import WrapsApp, add_vary, start_headers
from typedasgi.responses import PlainTextResponse
from typedasgi.types import AnyASGIApp, HTTPResponseStartEvent, Receive, Scope, Send, SendEvent, as_asgi_app

__all__ = ["ALL_METHODS", "SAFELISTED_HEADERS", "CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
"""What ``allow_methods=["*"]`` stands for."""
SAFELISTED_HEADERS = {"Accept", "Accept-Language", "Content-Language", "Content-Type"}
"""Request headers always allowed (the CORS-safelisted ones)."""

_VARY_ORIGIN = (b"vary", b"Origin")
_SET_BY_CORS = frozenset(
    {b"vary", b"access-control-allow-origin", b"access-control-allow-credentials", b"access-control-expose-headers"}
)
"""Response header names CORS sets: an app's response carrying one is merged line by line instead."""
_PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)


class CORSMiddleware(WrapsApp):
    def __init__(
        self,
        app: AnyASGIApp,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        self.app = as_asgi_app(app)
        methods = ALL_METHODS if "*" in allow_methods else tuple(allow_methods)
        self.allow_methods = methods
        self.allow_origins: frozenset[str] = frozenset(allow_origins)
        self.allow_all_origins: bool = "*" in allow_origins
        self.allow_origin_regex: re.Pattern[str] | None = re.compile(allow_origin_regex) if allow_origin_regex is not None else None
        self.allow_all_headers: bool = "*" in allow_headers
        named_headers = sorted(SAFELISTED_HEADERS | {h for h in allow_headers if h != "*"})
        self.allow_headers: frozenset[str] = frozenset(h.lower() for h in named_headers)
        self.allow_credentials = allow_credentials
        self.allow_private_network = allow_private_network
        # "*" may only be answered when it is the same for every origin and no credentials are involved.
        self.preflight_explicit_allow_origin: bool = not self.allow_all_origins or allow_credentials

        simple: dict[str, str] = {}
        if self.allow_all_origins:
            simple["Access-Control-Allow-Origin"] = "*"
        if allow_credentials:
            simple["Access-Control-Allow-Credentials"] = "true"
        if expose_headers:
            simple["Access-Control-Expose-Headers"] = ", ".join(expose_headers)
        self.simple_headers = simple
        """Headers every response to a request with an ``Origin`` gets (names as sent)."""
        self._simple_raw = [encode_header(name, value) for name, value in simple.items()]
        self._simple_origin_at = next(
            (i for i, (name, _) in enumerate(self._simple_raw) if name == b"access-control-allow-origin"), None
        )
        self._added: dict[bytes | None, tuple[tuple[bytes, bytes], ...]] = {}  # _added_lines() by raw Origin value

        preflight: dict[str, str] = {"Vary": _PREFLIGHT_VARY}
        if not self.preflight_explicit_allow_origin:
            preflight["Access-Control-Allow-Origin"] = "*"
        preflight["Access-Control-Allow-Methods"] = ", ".join(methods)
        preflight["Access-Control-Max-Age"] = str(max_age)
        if not self.allow_all_headers:
            preflight["Access-Control-Allow-Headers"] = ", ".join(named_headers)
        if allow_credentials:
            preflight["Access-Control-Allow-Credentials"] = "true"
        self.preflight_headers = preflight

    def is_allowed_origin(self, origin: str) -> bool:
        if not is_field_value(origin):  # a control character: no browser's origin, and never to be sent back
            return False
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        return self.allow_origin_regex is not None and self.allow_origin_regex.fullmatch(origin) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_origin = first_raw_value(scope, b"origin")
        if raw_origin is not None and scope.get("method") == "OPTIONS":
            headers = Headers(scope=scope)
            if "access-control-request-method" in headers:
                await self.preflight_response(headers)(scope, receive, send)
                return
        added = self._added.get(raw_origin)  # origins repeat: each one's lines are encoded once
        if added is None:
            added = self._added_lines(None if raw_origin is None else raw_origin.decode("latin-1"))
            remember(self._added, raw_origin, added)

        def cors_send(message: SendEvent) -> Awaitable[None]:
            # A plain function handing back send's own awaitable: no coroutine per message.
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", ()))  # a copy: the app's list may be shared
                for name, _ in raw:  # a plain loop: cheaper than any() over a generator
                    if name.lower() in _SET_BY_CORS:  # merge with the app's own lines
                        self._merge(message, raw, None if raw_origin is None else raw_origin.decode("latin-1"))
                        break
                else:  # the common case: nothing to merge, the lines were encoded once
                    raw += added
                    message["headers"] = raw
            return send(message)

        await self._call_app(scope, receive, cors_send)  # built here, not by a helper: one call less per request

    def preflight_response(self, request_headers: Headers) -> PlainTextResponse:
        """The answer to a preflight: 200 "OK", or 400 naming every disallowed part."""
        headers = dict(self.preflight_headers)
        failures: list[str] = []
        origin = request_headers["origin"]
        if not self.is_allowed_origin(origin):
            failures.append("origin")
        elif self.preflight_explicit_allow_origin:
            headers["Access-Control-Allow-Origin"] = origin

        if request_headers["access-control-request-method"] not in self.allow_methods:
            failures.append("method")

        requested = request_headers.get("access-control-request-headers")
        if requested is not None:
            if not is_field_value(requested):  # not a list of names a browser sends; never echoed
                failures.append("headers")
            elif self.allow_all_headers:
                headers["Access-Control-Allow-Headers"] = requested  # echoed as the browser asked
            elif any(name.strip().lower() not in self.allow_headers for name in requested.split(",") if name.strip()):
                failures.append("headers")

        if request_headers.get("access-control-request-private-network") is not None:
            if self.allow_private_network:
                headers["Access-Control-Allow-Private-Network"] = "true"
            else:
                failures.append("private-network")

        if failures:
            return PlainTextResponse("Disallowed CORS " + ", ".join(failures), status_code=400, headers=headers)
        return PlainTextResponse("OK", status_code=200, headers=headers)

    def _added_lines(self, origin: str | None) -> tuple[tuple[bytes, bytes], ...]:
        """The encoded lines a response to a request from ``origin`` gets when the app set none of them."""
        added = list(self._simple_raw) if origin is not None else []
        if origin is not None and self._echoes_origin(origin):
            echoed = (b"access-control-allow-origin", encode_header_value("origin", origin))
            if self._simple_origin_at is None:
                added.append(echoed)
            else:  # replaces the "*" line, where it was
                added[self._simple_origin_at] = echoed
        added.append(_VARY_ORIGIN)
        return tuple(added)

    def _echoes_origin(self, origin: str) -> bool:
        """Whether the answer names ``origin`` itself in Access-Control-Allow-Origin."""
        return (self.allow_credentials or not self.allow_all_origins) and self.is_allowed_origin(origin)

    def _merge(self, message: HTTPResponseStartEvent, raw: list[tuple[bytes, bytes]], origin: str | None) -> None:
        """Add the CORS headers to a response that already carries some of them, line by line."""
        message["headers"] = raw
        headers = start_headers(message)
        if origin is not None:
            for name, value in self.simple_headers.items():
                headers[name] = value
            if self._echoes_origin(origin):
                headers["access-control-allow-origin"] = origin
        add_vary(headers, "Origin")

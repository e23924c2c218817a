"""``OpenTelemetryMiddleware``: one OpenTelemetry server span per HTTP request.

The span follows the HTTP semantic conventions: named ``METHOD /route/{param}``
once routing matched (``http.route`` is the route's path pattern, below any
mounts), else just ``METHOD``; a method that is not a known one is ``_OTHER`` and
its span is named ``HTTP`` (the client's spelling is kept in ``http.request.method_original``
only). It carries the method, URL parts, server and client addresses, user agent
and response status, and is marked an error for 5xx answers and exceptions.
Trace context is taken from the request headers.

Needs ``opentelemetry-api`` (the ``opentelemetry`` extra); without a tracer
provider configured it costs one check per request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

try:
    from opentelemetry import metrics, propagate, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "OpenTelemetryMiddleware needs opentelemetry-api: pip install 'typedasgi[opentelemetry]'"
    ) from None

from typedasgi.datastructures import URL
from typedasgi.routing import Mount
from typedasgi.types import ASGIApp, HTTPScope, Receive, Scope, Send, SendEvent, framework_keys

__all__ = ["OpenTelemetryMiddleware"]

_ACTIVE = "typedasgi.opentelemetry"  # set while a span is open for the scope: nested middleware adds none
_VERSION = "0.1.0"
_KNOWN_METHODS = frozenset(("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"))


def _known_method(scope: HTTPScope) -> str:
    """The request's method upper-cased when it is a known one, else ``_OTHER`` (the HTTP conventions' word):
    a client may send any token as a method, and span names and attributes must not take whatever it chose."""
    method = scope.get("method", "").upper()
    return method if method in _KNOWN_METHODS else "_OTHER"


def _route_path(scope: HTTPScope) -> str | None:
    """The matched route's pattern below the mounts (``/api/users/{name}``), or None when nothing matched."""
    route = framework_keys(scope).get("route")
    root_path = scope.get("root_path", "")
    if isinstance(route, Mount):
        return root_path or "/"
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return None
    return root_path.rstrip("/") + path_format or "/"


def _attributes(scope: HTTPScope, method: str, url: URL, headers: dict[str, list[str]]) -> dict[str, str | int]:
    original_method = scope.get("method", "")
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "url.path": scope.get("path", ""),
        "url.scheme": scope.get("scheme", "http"),
    }
    if original_method != method:
        attributes["http.request.method_original"] = original_method
    if url.query:
        attributes["url.query"] = url.query
    if url.hostname is not None:
        attributes["server.address"] = url.hostname
        server = scope.get("server")
        port = url.port if url.port is not None else server[1] if server is not None else None
        if port is not None:
            attributes["server.port"] = port
    if scope.get("http_version"):
        attributes["network.protocol.version"] = scope["http_version"]
    client = scope.get("client")
    if client is not None:
        attributes["client.address"] = client[0]
    if headers.get("user-agent"):
        attributes["user_agent.original"] = headers["user-agent"][0]
    return attributes


class OpenTelemetryMiddleware:
    """Create OpenTelemetry server spans for incoming HTTP requests.

    ``excluded_urls``: regular expressions searched in the full request URL (a
    sequence, or one comma-separated string); ``tracer_provider`` and
    ``meter_provider`` default to the global ones.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        excluded_urls: str | Sequence[str] = (),
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.app = app
        self._meter_provider = meter_provider
        if isinstance(excluded_urls, str):
            excluded_urls = [pattern.strip() for pattern in excluded_urls.split(",")] if excluded_urls else ()
        self._excluded_urls = tuple(re.compile(pattern) for pattern in excluded_urls)
        self._tracer_provider = tracer_provider or trace.get_tracer_provider()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or isinstance(self._tracer_provider, trace.NoOpTracerProvider):
            await self.app(scope, receive, send)
            return
        marks: dict[str, object] = scope  # type: ignore[assignment]  # the scope dict, for this middleware's own key
        if marks.get(_ACTIVE):
            await self.app(scope, receive, send)
            return
        marks[_ACTIVE] = True
        try:
            await self._traced(scope, receive, send)
        finally:
            del marks[_ACTIVE]

    async def _traced(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        url = URL(scope=scope)
        if any(pattern.search(str(url)) for pattern in self._excluded_urls):
            await self.app(scope, receive, send)
            return
        headers: dict[str, list[str]] = {}
        for name, value in scope.get("headers", ()):
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        method = _known_method(scope)
        span_name = "HTTP" if method == "_OTHER" else method  # the conventions' name for an unknown method
        tracer = self._tracer_provider.get_tracer("typedasgi", _VERSION)
        attributes = _attributes(scope, method, url, headers)
        with tracer.start_as_current_span(
            span_name, context=propagate.extract(headers), kind=SpanKind.SERVER, attributes=attributes
        ) as span:

            async def send_with_status(message: SendEvent) -> None:
                if message["type"] == "http.response.start":
                    status_code = message["status"]
                    span.set_attribute("http.response.status_code", status_code)
                    if status_code >= 500:
                        span.set_attribute("error.type", str(status_code))
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, send_with_status)
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise
            finally:
                route_path = _route_path(scope)
                if route_path is not None:
                    span.update_name(f"{span_name} {route_path}")
                    span.set_attribute("http.route", route_path)

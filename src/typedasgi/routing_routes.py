"""HTTP and WebSocket routes: a path compiled once (or a static one compared as a string) and an endpoint.

A plain function endpoint is wrapped as ``request_response``; one with other
parameters becomes a ``TypedHandler`` compiled from its signature; anything else
is taken as an ASGI app.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Collection, Sequence
from types import EllipsisType
from typing import Any

from typedasgi.apidocs import ResponseDoc, Responses
from typedasgi.concurrency import unwrap_partial
from typedasgi.convertors import Convertor
from typedasgi.datastructures import URLPath
from typedasgi.error_responses import error_response, mark_json_errors
from typedasgi.exceptions import HTTPException, raises_to_app
from typedasgi.handlers import TypedHandler
from typedasgi.markers import Depends
from typedasgi.middleware import Middleware
from typedasgi.params import is_asgi_function, is_plain_endpoint
from typedasgi.paths import compile_path, first_segment, param_as_path
from typedasgi.responses import Response
from typedasgi.routing_base import (
    BaseRoute,
    Conversions,
    Match,
    NoMatchFound,
    conversions_for,
    convert_params,
    serves_own_app,
    store_params,
    wrap_middleware,
)
from typedasgi.routing_endpoints import (
    Endpoint,
    PlainCall,
    PlainEntry,
    WebSocketEndpointFunc,
    get_name,
    plain_call,
    request_response,
    websocket_session,
)
from typedasgi.routing_endpoints import request_response as own_request_response
from typedasgi.types import AnyASGIApp, ASGIApp, Receive, Scope, Send, WWWScope, as_asgi_app, framework_keys

__all__ = ["Route", "WebSocketRoute"]

_FULL, _PARTIAL, _NONE = Match.FULL, Match.PARTIAL, Match.NONE  # module globals: cheaper than enum lookups


class _PathRoute(BaseRoute):
    """Shared by HTTP and WebSocket routes: a compiled path and a static-path shortcut."""

    def __init__(self, path: str, name: str | None) -> None:
        if not path.startswith("/"):
            raise ValueError(f"Routed paths must start with '/': {path!r}")
        self.path = path
        self.name = name
        self.param_convertors: dict[str, Convertor[Any]]
        self.path_format: str
        self.path_regex: re.Pattern[str]
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.conversions: Conversions = conversions_for(self.param_convertors)
        """What a match does to the matched text, per parameter (see ``conversions_for``)."""
        self.is_static: bool = not self.param_convertors
        self.first_segment: str | None = first_segment(path)

    def _match_path(self, route_path: str) -> tuple[bool, dict[str, Any] | None]:
        if self.is_static:
            return route_path == self.path, None
        found = self.path_regex.match(route_path)
        if found is None:
            return False, None
        params = convert_params(found, self.conversions)
        return params is not None, params

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or set(path_params) != set(self.param_convertors):
            raise NoMatchFound(name, path_params)
        path = self.path_format.format(
            **{key: param_as_path(self.param_convertors[key], value) for key, value in path_params.items()}
        )
        return URLPath(path=path, protocol=self._protocol)

    _protocol = "http"


class Route(_PathRoute):
    """An HTTP route: a path, an endpoint (function or ASGI app) and its methods."""

    def __init__(
        self,
        path: str,
        endpoint: Endpoint | AnyASGIApp | Callable[..., Any],
        *,
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None | EllipsisType = ...,
        status_code: int | None = None,
        summary: str | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        deprecated: bool = False,
        response_class: Callable[..., Response] | None = None,
        dependencies: Sequence[Depends] = (),
        responses: Responses | None = None,
    ) -> None:
        super().__init__(path, get_name(endpoint) if name is None else name)
        self.endpoint = endpoint
        self.include_in_schema = include_in_schema
        self.deprecated: bool
        self.description: str | None
        self.summary: str | None
        self.summary, self.description, self.deprecated = summary, description, deprecated
        self.tags: list[str] = list(tags or ())
        self.responses: dict[int, ResponseDoc | type[object]] = dict(responses or {})  # other answers, for OpenAPI
        self.handler: TypedHandler | None = None  # the compiled signature of a typed handler
        plain: PlainCall | None = None
        target = unwrap_partial(endpoint)
        if (inspect.isfunction(target) or inspect.ismethod(target)) and not is_asgi_function(target):
            if status_code is None and response_class is None and not dependencies and is_plain_endpoint(endpoint):
                app = request_response(endpoint)  # type: ignore[arg-type]  # a plain endpoint takes a Request
                # Called inline by the app only when it is typedasgi's own wrapper: instrumentation (Sentry)
                # may swap ``routing.request_response`` for its own, which must see every call.
                if not middleware and request_response is own_request_response:
                    plain = plain_call(endpoint)  # type: ignore[arg-type]  # a plain endpoint takes a Request
            else:  # typed: parameters from the request, compiled now
                self.handler = TypedHandler(
                    endpoint, self.param_convertors, status_code=status_code, response_class=response_class,
                    dependencies=dependencies,
                )
                app = self.handler.app
                if not middleware:
                    plain = self.handler.plain  # shaped like a plain endpoint's call when it needs nothing more
            if methods is None:
                methods = ["GET"]
        else:
            app = as_asgi_app(endpoint)  # type: ignore[arg-type]  # anything else is an ASGI app
        self.app: ASGIApp = wrap_middleware(app, middleware)
        if methods is None:
            self.methods: frozenset[str] | None = None
        else:
            if isinstance(methods, str):  # a Collection[str] too: "GET" would allow G, E and T, and answer GET with 405
                raise TypeError(f"methods must be a collection of method names, like [{methods!r}], not a string")
            upper = {method.upper() for method in methods}
            if "GET" in upper:
                upper.add("HEAD")
            self.methods = frozenset(upper)
        self._allow = ", ".join(sorted(self.methods)) if self.methods else ""
        # What enter() puts in the scope; "route" is what instrumentation reads (the matched route's path_format).
        extra: dict[str, object] | None = None if isinstance(max_body_size, EllipsisType) else {"max_body_size": max_body_size}
        self.entry_keys: dict[str, object] = {"endpoint": endpoint, "route": self, **(extra or {})}
        if plain is not None and type(self).enter is Route.enter and not self.handle_overridden:
            # the app may enter and call it itself (not when a handle() override must see the call)
            self.plain: PlainEntry | None = (plain, endpoint, extra)

    def match(self, scope: WWWScope, route_path: str) -> tuple[Match, dict[str, Any] | None]:
        if scope["type"] != "http":
            return _NONE, None
        if self.is_static:
            if route_path != self.path:
                return _NONE, None
            params = None
        else:
            found = self.path_regex.match(route_path)
            if found is None:
                return _NONE, None
            params = convert_params(found, self.conversions)
            if params is None:  # a value its convertor refuses
                return _NONE, None
        methods = self.methods
        if methods is None:
            return _FULL, params
        try:
            method = scope["method"]
        except KeyError:  # a hand-built scope without one: GET, written back for the layers below
            method = scope["method"] = "GET"
        return (_FULL if method in methods else _PARTIAL), params

    def enter(self, scope: WWWScope, params: dict[str, Any] | None) -> None:
        scope.update(self.entry_keys)  # type: ignore[typeddict-item]  # framework keys (endpoint, max_body_size)
        if params:
            store_params(scope, params)

    @serves_own_app
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the endpoint, or refuse a method it does not take (405), as Starlette's ``Route.handle``.

        The router calls ``app`` itself; this is what an overriding ``handle`` reaches with ``super()``.
        """
        if self.methods is not None and scope["type"] == "http" and scope.get("method", "GET") not in self.methods:
            await self._refuse_method(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def handle_partial(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.handle_overridden:  # an override sees the 405 first, as Starlette's Route.handle answers it
            await self.handle(scope, receive, send)
        else:
            await self._refuse_method(scope, receive, send)

    async def _refuse_method(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {"Allow": self._allow}
        if self.handler is not None and self.handler.json_errors:
            mark_json_errors(scope)
        if raises_to_app(scope):
            raise HTTPException(405, headers=headers)
        await error_response(scope, 405, "Method Not Allowed", headers)(scope, receive, send)

    def __eq__(self, other: object) -> bool:  # Starlette's: same path, endpoint and methods
        return (
            isinstance(other, Route)
            and self.path == other.path
            and self.endpoint == other.endpoint
            and self.methods == other.methods
        )

    def __hash__(self) -> int:
        return hash((Route, self.path))

    def __repr__(self) -> str:
        methods = sorted(self.methods or ())
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r}, methods={methods!r})"


class WebSocketRoute(_PathRoute):
    """A WebSocket route: ``async endpoint(websocket)`` or an ASGI app (e.g. a WebSocketEndpoint)."""

    _protocol = "websocket"

    def __init__(
        self,
        path: str,
        endpoint: WebSocketEndpointFunc | AnyASGIApp | Callable[..., Awaitable[None]],
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
        dependencies: Sequence[Depends] = (),
    ) -> None:
        super().__init__(path, get_name(endpoint) if name is None else name)
        self.endpoint = endpoint
        target = unwrap_partial(endpoint)
        self.handler: TypedHandler | None = None
        if (inspect.isfunction(target) or inspect.ismethod(target)) and not is_asgi_function(target):
            if len(inspect.signature(endpoint).parameters) == 1 and not dependencies:
                app = websocket_session(endpoint)  # type: ignore[arg-type]  # a function endpoint takes a WebSocket
            else:  # typed: path, query, header parameters and dependencies besides the WebSocket
                self.handler = TypedHandler(endpoint, self.param_convertors, websocket=True, dependencies=dependencies)
                app = self.handler.app
        else:
            app = as_asgi_app(endpoint)  # type: ignore[arg-type]  # anything else is an ASGI app
        self.app: ASGIApp = wrap_middleware(app, middleware)

    def match(self, scope: WWWScope, route_path: str) -> tuple[Match, dict[str, Any] | None]:
        if scope["type"] != "websocket":
            return Match.NONE, None
        matched, params = self._match_path(route_path)
        return (Match.FULL, params) if matched else (Match.NONE, None)

    def enter(self, scope: WWWScope, params: dict[str, Any] | None) -> None:
        framework_keys(scope)["endpoint"] = self.endpoint
        if params:
            store_params(scope, params)

    def __eq__(self, other: object) -> bool:  # Starlette's: same path and endpoint
        return isinstance(other, WebSocketRoute) and self.path == other.path and self.endpoint == other.endpoint

    def __hash__(self) -> int:
        return hash((WebSocketRoute, self.path))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r})"

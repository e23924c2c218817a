"""The router, and the routes that nest other apps below it: ``Mount`` (a path prefix) and ``Host``.

They live together because each needs the other: a ``Mount`` of routes is a
``Router``, and the router's tables and lifespans look at its mounts. A static
path, or one whose last segment is a route's only parameter, is one dict lookup
(``routing_tables``); other paths try the routes of their first literal segment,
so finding the route for a request costs about the same with 5 routes as with 500.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeAlias, TypeVar, cast

from typedasgi.convertors import Convertor
from typedasgi.datastructures import URLPath
from typedasgi.error_responses import error_response
from typedasgi.exceptions import HTTPException, raises_to_app
from typedasgi.lifespan import MountedLifespans, failure_message, lifespan_context
from typedasgi.middleware import Middleware
from typedasgi.middleware.body_limit import RequestBodyLimitMiddleware
from typedasgi.middleware.exceptions import ExceptionMiddleware
from typedasgi.paths import compile_path, first_segment, get_route_path, replace_params
from typedasgi.redirects import send_slash_redirect
from typedasgi.routing_base import (
    BaseRoute,
    Match,
    NoMatchFound,
    conversions_for,
    convert_params,
    store_params,
    wrap_middleware,
)
from typedasgi.routing_endpoints import Endpoint, WebSocketEndpointFunc
from typedasgi.routing_routes import Route, WebSocketRoute
from typedasgi.routing_tables import Candidate, RouteList, TailEntry, candidate, static_table, tail_table
from typedasgi.urls import parse_host, single_host
from typedasgi.types import (
    AnyASGIApp,
    ASGIApp,
    LifespanScope,
    Receive,
    Scope,
    Send,
    FrameworkKeys,
    WWWScope,
    as_asgi_app,
    framework_keys,
)
from typedasgi.websockets import WebSocketClose

__all__ = ["Host", "Lifespan", "Mount", "Router"]

_FULL, _PARTIAL, _NONE = Match.FULL, Match.PARTIAL, Match.NONE  # module globals: cheaper than enum lookups
_NO_MATCH: tuple[None, Match, None] = (None, _NONE, None)  # what resolve answers for no match, made once

AppT = TypeVar("AppT")
Lifespan: TypeAlias = Callable[[AppT], AbstractAsyncContextManager[Mapping[str, Any] | None]]
"""``lifespan(app)``: an async context manager; what it yields seeds every request's ``state``."""


class _AnswerErrorsHere(ExceptionMiddleware):
    """Below a Mount's middleware: errors become the app's answers here, so that middleware sees them.

    The handlers are the enclosing typedasgi app's (``ExceptionMiddleware``), as
    Starlette answers at the route; alone or in a foreign app, errors pass on.
    """

    async def handle(self, exc: Exception, scope: Scope, receive: Receive, send: Send, *, started: bool) -> bool:
        exceptions = getattr(framework_keys(scope).get("app"), "exception_middleware", None)
        if not isinstance(exceptions, ExceptionMiddleware):
            return False
        return await exceptions.handle(exc, scope, receive, send, started=started)


class Mount(BaseRoute):
    """Serve an ASGI app (or a list of routes) below a path prefix.

    Inside, ``root_path`` grows by the prefix and ``path`` stays whole, as the
    ASGI spec says; routes inside match the part below the prefix.
    """

    def __init__(
        self,
        path: str,
        app: AnyASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        if path and not path.startswith("/"):
            raise ValueError(f"Routed paths must start with '/': {path!r}")
        if (app is None) == (routes is None):
            raise ValueError("Mount takes either an app or routes, not both and not neither")
        self.path: str = path.rstrip("/")
        self._base_app: ASGIApp = as_asgi_app(app) if app is not None else Router(routes=routes)
        if max_body_size is not None:  # outermost: the limit holds for the mount's middleware too
            middleware = [Middleware(RequestBodyLimitMiddleware, max_body_size=max_body_size), *(middleware or ())]
        self.app: ASGIApp = wrap_middleware(_AnswerErrorsHere(self._base_app), middleware) if middleware else self._base_app
        self.name = name
        self.param_convertors: dict[str, Convertor[Any]]
        self.path_format: str
        self.path_regex: re.Pattern[str]
        self.path_regex, self.path_format, self.param_convertors = compile_path(self.path + "/{path:path}")
        self._conversions = conversions_for(self.param_convertors)
        self.first_segment: str | None = first_segment(self.path) if self.path else None
        self._prefix_format = self.path_format.removesuffix("/{path}")  # the mount's own part, for reverse URLs
        self._own_params = set(self.param_convertors) - {"path"}
        self._literal_below: str | None = None if self._own_params else self.path + "/"
        """A mount without parameters of its own: what every path below it starts with, compared as a string."""

    @property
    def routes(self) -> list[BaseRoute]:
        routes = getattr(self._base_app, "routes", [])
        return list(routes)

    def match(self, scope: WWWScope, route_path: str) -> tuple[Match, dict[str, Any] | None]:
        below = self._literal_below
        if below is not None and "\n" not in route_path:  # a newline is left to the pattern's "$" and "."
            if route_path.startswith(below):
                return _FULL, {"__matched__": self.path}
            return _NONE, None
        found = self.path_regex.match(route_path)
        if found is None:
            return Match.NONE, None
        params = convert_params(found, self._conversions)
        if params is None:
            return Match.NONE, None
        remaining = "/" + params.pop("path")
        params["__matched__"] = route_path[: len(route_path) - len(remaining)]
        return Match.FULL, params

    def enter(self, scope: WWWScope, params: dict[str, Any] | None) -> None:
        assert params is not None
        matched = params.pop("__matched__")
        keys: FrameworkKeys = scope  # type: ignore[assignment]  # the same dict, framework view (no call)
        keys["route"] = self  # the innermost match wins: a route below replaces it
        root_path = scope.get("root_path", "")
        if "app_root_path" not in keys:
            keys["app_root_path"] = root_path
        scope["root_path"] = root_path + matched
        keys["endpoint"] = self._base_app
        if params:  # the mount's own parameters
            store_params(scope, params)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """``name`` with ``path=``: a path into the mounted app; ``name:child``: a route inside.

        The mount's own parameters left out stay as ``{param}`` in the result.
        """
        if self.name is not None and name == self.name and "path" in path_params:
            path_params["path"] = str(path_params["path"]).lstrip("/")
            path, unused = replace_params(self.path_format, self.param_convertors, path_params)
            if not unused:
                return URLPath(path=path, protocol="http")
        elif self.name is None or name.startswith(self.name + ":"):
            child_name = name if self.name is None else name[len(self.name) + 1 :]
            own = {key: value for key, value in path_params.items() if key in self._own_params}
            rest = {key: value for key, value in path_params.items() if key not in own}
            prefix = replace_params(self._prefix_format, self.param_convertors, own)[0]
            for route in self.routes:
                try:
                    child = route.url_path_for(child_name, **rest)
                except NoMatchFound:
                    continue
                return URLPath(path=prefix + str(child), protocol=child.protocol)
        raise NoMatchFound(name, path_params)

    def __eq__(self, other: object) -> bool:  # Starlette's: same path and app
        return isinstance(other, Mount) and self.path == other.path and self._base_app == other._base_app

    def __hash__(self) -> int:
        return hash((Mount, self.path))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name or ''!r}, app={self._base_app!r})"


class Host(BaseRoute):
    """Route by the ``Host`` header (``{subdomain}.example.org``), port ignored."""

    def __init__(self, host: str, app: AnyASGIApp, name: str | None = None) -> None:
        if host.startswith("/"):
            raise ValueError(f"Host patterns must not start with '/': {host!r}")
        self.host = host
        self.app: ASGIApp = as_asgi_app(app)
        self.name = name
        self.param_convertors: dict[str, Convertor[Any]]
        self.host_format: str
        self.host_regex: re.Pattern[str]
        self.host_regex, self.host_format, self.param_convertors = compile_path(host)
        self._conversions = conversions_for(self.param_convertors)

    @property
    def routes(self) -> list[BaseRoute]:
        return list(getattr(self.app, "routes", []))

    def match(self, scope: WWWScope, route_path: str) -> tuple[Match, dict[str, Any] | None]:
        host = single_host(scope)  # two Host lines: which one would a proxy have acted on? Neither matches
        parsed = None if host is None else parse_host(host)
        if parsed is None:  # not a valid Host ("example.org:evil", "[:::]"): matches no pattern; the port is not read
            return Match.NONE, None
        found = self.host_regex.match(parsed[0].lower())  # host names are case-insensitive; params come lower-case
        params = None if found is None else convert_params(found, self._conversions)
        if params is None:
            return Match.NONE, None
        return Match.FULL, params

    def enter(self, scope: WWWScope, params: dict[str, Any] | None) -> None:
        framework_keys(scope)["endpoint"] = self.app
        store_params(scope, params)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """``name`` with ``path=``: that path on this host; ``name:child``: a route inside."""
        own = {key: value for key, value in path_params.items() if key in self.param_convertors}
        rest = {key: value for key, value in path_params.items() if key not in own}
        if set(own) == set(self.param_convertors):
            host = replace_params(self.host_format, self.param_convertors, dict(own))[0]
            if self.name is not None and name == self.name and set(rest) == {"path"}:
                return URLPath(path=str(rest["path"]), host=host)
            if self.name is None or name.startswith(self.name + ":"):
                child_name = name if self.name is None else name[len(self.name) + 1 :]
                for route in self.routes:
                    try:
                        child = route.url_path_for(child_name, **rest)
                    except NoMatchFound:
                        continue
                    return URLPath(path=str(child), protocol=child.protocol, host=host)
        raise NoMatchFound(name, path_params)

    def __eq__(self, other: object) -> bool:  # Starlette's: same host pattern and app
        return isinstance(other, Host) and self.host == other.host and self.app == other.app

    def __hash__(self) -> int:
        return hash((Host, self.host))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, name={self.name or ''!r}, app={self.app!r})"


_THROUGH_MIDDLEWARE: dict[type[Router], type[Router]] = {}


RouterT = TypeVar("RouterT", bound="Router")


def _through_middleware(router_class: type[RouterT]) -> type[RouterT]:
    """``router_class`` whose calls enter the instance's ``middleware_stack``, which ends in the routing.

    Only routers given middleware take this class, so a plain router's ``__call__``
    stays the routing itself: no extra call on the hot path.
    """

    async def call(self: Router, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.middleware_stack is not None
        await self.middleware_stack(scope, receive, send)

    made = _THROUGH_MIDDLEWARE.get(router_class)
    if made is None:
        namespace = {"__call__": call, "__module__": router_class.__module__, "__qualname__": router_class.__qualname__}
        made = _THROUGH_MIDDLEWARE[router_class] = type(router_class.__name__, (router_class,), namespace)
    return cast("type[RouterT]", made)  # made from router_class: a subclass of it


class Router:
    """Dispatch to the first route that matches; 404, 405 or a slash redirect otherwise."""

    def __init__(
        self,
        routes: Sequence[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: AnyASGIApp | None = None,
        lifespan: Lifespan[Router] | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        self.routes = routes or ()
        self.redirect_slashes = redirect_slashes
        self.default: ASGIApp = as_asgi_app(default) if default is not None else self.not_found
        self.lifespan_context: Lifespan[Router] | None = lifespan_context(lifespan)
        self.lifespan_started: bool = False
        self._index: dict[str, list[Candidate]] = {}
        self._wildcard: list[Candidate] = []
        if max_body_size is not None:
            middleware = [Middleware(RequestBodyLimitMiddleware, max_body_size=max_body_size), *(middleware or ())]
        self.middleware_stack: ASGIApp | None = None
        """Given ``middleware``: the stack around the routing, which calls to the router go through."""
        if middleware:
            self.middleware_stack = wrap_middleware(functools.partial(type(self).__call__, self), middleware)
            self.__class__ = _through_middleware(type(self))

    # -- registration -----------------------------------------------------------------

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes in order; change them as any list (the tables follow, see ``RouteList``)."""
        return self._routes

    @routes.setter
    def routes(self, routes: Iterable[BaseRoute]) -> None:  # kept as a copy, as __init__ keeps the routes given
        self._routes = RouteList(routes, self._forget_tables)
        self._forget_tables()

    def _forget_tables(self) -> None:
        """The routes changed other than at the end: no static path is known until the next reindex."""
        self._static: dict[str, Route] = {}
        self._tails: dict[str, TailEntry] = {}
        self._indexed = -1

    def _reindex(self) -> None:
        """Group routes by first literal segment, keeping registration order within each group."""
        index: dict[str, list[Candidate]] = {}
        wildcard: list[Candidate] = []
        for route in self.routes:
            key = route.first_segment
            entry = candidate(route)
            if key is None:
                wildcard.append(entry)
                for bucket in index.values():
                    bucket.append(entry)
            else:
                index.setdefault(key, list(wildcard)).append(entry)
        self._index, self._wildcard, self._static = index, wildcard, static_table(self.routes, Mount)
        self._tails = tail_table(self.routes, self._static, Mount)
        self._indexed = len(self.routes)

    def add_route(
        self,
        path: str,
        endpoint: Endpoint | AnyASGIApp | Callable[..., Any],
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.routes.append(
            Route(path, endpoint, methods=methods, name=name, include_in_schema=include_in_schema)
        )

    def add_websocket_route(
        self, path: str, endpoint: WebSocketEndpointFunc | AnyASGIApp | Callable[..., Awaitable[None]], name: str | None = None
    ) -> None:
        self.routes.append(WebSocketRoute(path, endpoint, name=name))

    def __eq__(self, other: object) -> bool:  # Starlette's: the same routes, so Mounts and Hosts compare too
        return isinstance(other, Router) and self.routes == other.routes

    def __hash__(self) -> int:  # the routes change after creation, so equal routers share one hash
        return hash(Router)

    def mount(self, path: str, app: AnyASGIApp, name: str | None = None) -> None:
        self.routes.append(Mount(path, app=app, name=name))

    def host(self, host: str, app: AnyASGIApp, name: str | None = None) -> None:
        self.routes.append(Host(host, app=app, name=name))

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)

    # -- dispatch ---------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        keys: FrameworkKeys = scope  # type: ignore[assignment]  # the same dict, framework view
        if "router" not in keys:
            keys["router"] = self
        route_path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        route, match, params = self.resolve(scope, route_path)
        if match is _FULL:
            assert route is not None
            route.enter(scope, params)
            if route.handle_overridden:  # a class defining handle(), as Starlette code does: it sees the request
                await route.handle(scope, receive, send)
            else:
                await route.app(scope, receive, send)
        else:
            await self.unmatched(scope, receive, send, route_path, route, params)

    async def unmatched(
        self, scope: WWWScope, receive: Receive, send: Send, route_path: str,
        partial: BaseRoute | None, params: dict[str, Any] | None,
    ) -> None:
        """No full match: 405 for a ``partial`` match, else a slash redirect, else ``default`` (404)."""
        if partial is not None:
            partial.enter(scope, params)
            await partial.handle_partial(scope, receive, send)
            return
        if scope["type"] == "http" and self.redirect_slashes and route_path != "/":
            redirect_path = route_path[:-1] if route_path.endswith("/") else route_path + "/"
            if self.resolve(scope, redirect_path)[1] is not _NONE:  # any route there, even for another method
                await send_slash_redirect(scope, receive, send)
                return
        await self.default(scope, receive, send)

    def resolve(self, scope: WWWScope, route_path: str) -> tuple[BaseRoute | None, Match, dict[str, Any] | None]:
        """The first route matching fully, else the first matching partially (a 405), else none.

        A static path answered by a plain ``Route`` is one dict lookup, and so is a
        ``head/{param}`` route's head; the tables keep registration order (see
        ``routing_tables``). Anything else is the ordered search.
        """
        if self._indexed != len(self._routes):  # routes added at the end (a change elsewhere reset _indexed)
            self._reindex()
        route: Route | None = self._static.get(route_path)
        params: dict[str, Any] | None = None
        if route is None and (tailed := self.tail_match(route_path)) is not None:
            route, params = tailed
        if route is not None and scope["type"] == "http":
            methods = route.methods
            if methods is None:
                return route, _FULL, params
            try:
                method = scope["method"]
            except KeyError:  # a hand-built scope without one: GET, written back for the layers below
                method = scope["method"] = "GET"
            if method in methods:
                return route, _FULL, params
        try:
            segment = route_path.split("/", 2)[1]
        except IndexError:  # no "/" at all: any bucket holds the routes that match anything (Host)
            segment = ""
        http = scope if scope["type"] == "http" else None  # plain routes match HTTP requests only
        partial: BaseRoute | None = None
        partial_params: dict[str, Any] | None = None
        for candidate, plain, match_path, conversions in self._index.get(segment, self._wildcard):
            if plain is None:  # not a plain Route: its own match answers
                match, params = candidate.match(scope, route_path)
                if match is _FULL:
                    return candidate, _FULL, params
                if match is _PARTIAL and partial is None:
                    partial, partial_params = candidate, params
                continue
            if http is None:
                continue
            matched = match_path(route_path)
            if matched is None:
                continue
            groups = matched.groupdict()
            try:
                for key, convert in conversions:
                    groups[key] = convert(groups[key])
            except ValueError:  # a value its convertor refuses: no match (see convert_params)
                continue
            methods = plain.methods
            if methods is not None:
                try:
                    method = http["method"]
                except KeyError:  # a hand-built scope without one: GET, written back for the layers below
                    method = http["method"] = "GET"
                if method not in methods:
                    if partial is None:
                        partial, partial_params = candidate, groups or None
                    continue
            return candidate, _FULL, groups or None  # a static path's: None, as Route.match gives
        if partial is None:
            return _NO_MATCH
        return partial, _PARTIAL, partial_params

    def tail_match(self, route_path: str) -> tuple[Route, dict[str, Any]] | None:
        """A ``head/{param}`` path's route and its parameter, by one dict lookup; None when the table cannot tell.

        The app asks this directly after a static miss; the tables are kept right by ``RouteList``
        (routes appended since the last reindex come later, so a hit here is still the first match).
        """
        head, _, tail = route_path.rpartition("/")
        found = self._tails.get(head)
        if found is None or not tail:
            return None
        route, name, convert, pattern = found
        if convert is None:
            return route, {name: tail}
        if pattern is None:  # an int
            if not (tail.isdigit() and tail.isascii()):  # what [0-9]+ matches ("12\n" is left to the search)
                return None
        elif pattern(tail) is None or tail[-1] == "\n":  # a final newline is left to the search
            return None
        try:
            return route, {name: convert(tail)}
        except ValueError:  # a value its convertor refuses: left to the search, which does not match it either
            return None

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)
            return
        if raises_to_app(scope):
            raise HTTPException(404)  # inside an app: let its exception handlers answer
        await error_response(scope, 404, "Not Found", None)(scope, receive, send)

    def mounted_apps(self) -> list[ASGIApp]:
        """The apps below this router whose lifespans run with its own (see ``typedasgi.lifespan``)."""
        apps: list[ASGIApp] = []
        for route in self.routes:
            if isinstance(route, (Mount, Host)):
                apps.append(route.app)  # through its middleware
        return apps

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run ``lifespan_context``, then the mounted apps' lifespans; report failures to the server."""
        assert scope["type"] == "lifespan"
        lifespan_scope: LifespanScope = scope
        self.lifespan_started = True  # request.state explains a missing value by whether this ran
        await receive()  # lifespan.startup
        started = False
        context = self.lifespan_context
        state: dict[str, Any] = lifespan_scope["state"] if "state" in lifespan_scope else {}
        try:
            async with contextlib.AsyncExitStack() as stack:
                if context is not None:
                    own_state = await stack.enter_async_context(context(self))
                    if own_state is not None:
                        if "state" not in lifespan_scope:
                            raise RuntimeError(
                                'The server does not support "state" in the lifespan scope: '
                                "the state this lifespan yields cannot be kept"
                            )
                        state.update(own_state)
                parent = framework_keys(scope).get("app")  # mounted typedasgi apps learn they are mounted
                await stack.enter_async_context(MountedLifespans(self.mounted_apps(), state, parent=parent))
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException as exc:
            message = failure_message(exc)
            if started:
                await send({"type": "lifespan.shutdown.failed", "message": message})
            else:
                await send({"type": "lifespan.startup.failed", "message": message})
            raise
        await send({"type": "lifespan.shutdown.complete"})

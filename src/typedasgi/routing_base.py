"""What every route is: the ``match``/``enter`` protocol the router asks of it, and its helpers.

``match`` decides (NONE, PARTIAL: path but not method, FULL) and returns the
path parameters; ``enter`` records the match in the scope. Starlette's
``matches`` protocol is built on the pair, and a subclass written against it is
honoured too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from enum import IntEnum
from typing import Any, ClassVar, TypeAlias, cast

from typedasgi.convertors import Convertor, FloatConvertor, IntegerConvertor, PathConvertor, StringConvertor
from typedasgi.datastructures import URLPath
from typedasgi.error_responses import error_response
from typedasgi.middleware import Middleware
from typedasgi.paths import get_route_path
from typedasgi.routing_endpoints import PlainCall
from typedasgi.types import ASGIApp, Receive, Scope, Send, WWWScope, framework_keys
from typedasgi.websockets import WebSocketClose

__all__ = [
    "BaseRoute",
    "Conversions",
    "Match",
    "NoMatchFound",
    "call_through_handle",
    "conversions_for",
    "convert_params",
    "route_app",
    "store_params",
    "wrap_middleware",
]


class NoMatchFound(Exception):
    """``url_path_for`` found no route with that name and those parameters."""

    def __init__(self, name: str, path_params: Mapping[str, Any]) -> None:
        params = ", ".join(sorted(path_params))
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


class Match(IntEnum):
    NONE = 0
    PARTIAL = 1  # the path matched, the method did not: a 405 unless a later route matches fully
    FULL = 2


_FULL, _PARTIAL, _NONE = Match.FULL, Match.PARTIAL, Match.NONE  # module globals: cheaper than enum lookups


def wrap_middleware(app: ASGIApp, middleware: Sequence[Middleware] | None) -> ASGIApp:
    for cls, args, kwargs in reversed(middleware or ()):
        app = cls(app, *args, **kwargs)
    return app


_ABSENT = object()


def _match_through_matches(route: BaseRoute, scope: WWWScope, route_path: str) -> tuple[Match, dict[str, Any] | None]:
    return route.matches(scope)


def _enter_child_scope(route: BaseRoute, scope: WWWScope, params: dict[str, Any] | None) -> None:
    framework_keys(scope)["route"] = route  # as Starlette's router records it; instrumentation reads it
    if params:
        scope.update(params)  # type: ignore[typeddict-item]  # the child scope matches() gave


_handling: ContextVar[tuple[BaseRoute, ASGIApp | None] | None] = ContextVar("typedasgi.route_handling", default=None)


async def call_through_handle(route: BaseRoute, inner: ASGIApp | None, scope: Scope, receive: Receive, send: Send) -> None:
    """Call ``route.handle`` (a class's override); inside it, ``self.app`` (directly, or through
    ``super().handle``) is ``inner``: the route's own app, or for a 405 the route's refusal.
    """
    handling = _handling.get()
    if handling is not None and handling[0] is route:
        if handling[1] is None:
            raise AttributeError(f"{type(route).__name__} defines handle() but sets no app for it to call")
        await handling[1](scope, receive, send)
        return
    token = _handling.set((route, inner))
    try:
        await route.handle(scope, receive, send)
    finally:
        _handling.reset(token)


async def _through_handle(route: BaseRoute, scope: Scope, receive: Receive, send: Send) -> None:
    """What the router calls for a route whose class defines ``handle``: that ``handle``, as Starlette's router."""
    await call_through_handle(route, route.__dict__.get("_handled_app"), scope, receive, send)


def route_app(route: BaseRoute) -> ASGIApp:
    """The app ``route`` serves (what its ``handle`` ends in), also when its class defines ``handle``."""
    app: ASGIApp | None = route.__dict__.get("_handled_app")
    return app if app is not None else route.app


class _ThroughHandle:
    """``app`` of a route class that defines ``handle``: the router's call goes through that method.

    Put only on such classes (a data descriptor): the app the route sets is kept aside for
    ``handle`` to reach; the built-in routes' attribute lookups stay as fast as before.
    """

    def __get__(self, route: BaseRoute | None, owner: type[BaseRoute]) -> ASGIApp:
        if route is None:
            raise AttributeError(f"{owner.__name__}.app is set per instance")
        entry = route.__dict__.get("_handle_entry")
        if entry is None:
            entry = route.__dict__["_handle_entry"] = functools.partial(_through_handle, route)
        return cast(ASGIApp, entry)

    def __set__(self, route: BaseRoute, app: ASGIApp) -> None:
        route.__dict__["_handled_app"] = app


class BaseRoute:
    """What the router asks of every route.

    ``app`` answers a FULL match (the router calls it directly: one call less per
    request). A subclass that defines ``handle``, as code written for Starlette
    does, is called through it instead (its ``super().handle`` and ``self.app``
    reach the route's own app).
    """

    app: ASGIApp
    plain: tuple[PlainCall, Mapping[str, object]] | None = None
    """A plain endpoint and the scope keys ``enter`` sets: the app may do both itself instead of ``app``."""
    name: str | None = None
    first_segment: str | None = None  # see _first_segment; None: try for every path
    handle_overridden: ClassVar[bool] = False
    """The class (or a mixin) defines ``handle``: the router's calls go through it (see ``_ThroughHandle``)."""

    def match(self, scope: WWWScope, route_path: str) -> tuple[Match, dict[str, Any] | None]:
        raise NotImplementedError()

    def enter(self, scope: WWWScope, params: dict[str, Any] | None) -> None:
        """Record the match in the scope before ``handle`` (path params, root path, endpoint)."""

    def matches(self, scope: WWWScope) -> tuple[Match, dict[str, Any]]:
        """Starlette's route protocol: the match and the scope keys it sets (``scope.update(child_scope)``).

        Instrumentation packages walk routes with it; the router itself uses the cheaper
        :meth:`match`/:meth:`enter` pair. A subclass that overrides ``matches`` is honoured
        by the router too.
        """
        match, params = self._own_match(scope, get_route_path(scope))
        if match is _NONE:
            return match, {}
        child: dict[str, Any] = dict(scope)
        self._own_enter(child, params)  # type: ignore[arg-type]  # a copy of the scope, same keys
        original: dict[str, Any] = scope  # type: ignore[assignment]  # read by any key
        changed = {key: value for key, value in child.items() if original.get(key, _ABSENT) is not value}
        changed.pop("route", None)  # the router records the matched route itself, as Starlette's does
        changed.setdefault("path_params", dict(original.get("path_params", {})))  # Starlette always sets them
        return match, changed

    # What matches() builds on; for a subclass that overrides matches(), its parent's match()/enter().
    def _own_match(self, scope: WWWScope, route_path: str) -> tuple[Match, dict[str, Any] | None]:
        return self.match(scope, route_path)

    def _own_enter(self, scope: WWWScope, params: dict[str, Any] | None) -> None:
        self.enter(scope, params)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        through = any(isinstance(vars(k).get("app"), _ThroughHandle) for k in cls.__mro__)
        if cls.handle is not BaseRoute.handle and not through:  # handle() defined here or by a mixin
            cls.app = _ThroughHandle()  # type: ignore[assignment]  # a descriptor: instances read an ASGIApp
            cls.handle_overridden = True
        if "matches" in cls.__dict__ and "match" not in cls.__dict__ and cls.match is not _match_through_matches:
            # Written against Starlette's protocol: route through the override, keep the parent's matching for super().
            # (A subclass of such a class inherits all four: its matches() chains to the parent's by super().)
            parent_match, parent_enter = cls.match, cls.enter
            cls._own_match = parent_match  # type: ignore[method-assign]  # the parent's, bound per instance
            cls._own_enter = parent_enter  # type: ignore[method-assign]
            cls.match = _match_through_matches  # type: ignore[method-assign, assignment]
            cls.enter = _enter_child_scope  # type: ignore[method-assign, assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def handle_partial(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a PARTIAL match (Route: 405 with Allow); others answer it as a full one, through ``handle``."""
        await self.app(scope, receive, send)  # an overridden handle() is called once, as for a FULL match

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A route alone is an ASGI app too: it answers 404 for paths it does not match."""
        if scope["type"] == "lifespan":
            return
        match, params = self.match(scope, get_route_path(scope))
        if match is _NONE:
            if scope["type"] == "http":
                await error_response(scope, 404, "Not Found", None)(scope, receive, send)
            else:
                await WebSocketClose()(scope, receive, send)
            return
        self.enter(scope, params)
        if match is _PARTIAL:
            await self.handle_partial(scope, receive, send)
        else:
            await self.app(scope, receive, send)


Conversions: TypeAlias = tuple[tuple[str, Callable[[str], Any]], ...]


def conversions_for(convertors: Mapping[str, Convertor[Any]]) -> Conversions:
    """The conversions a match needs, decided once: none for plain strings, the builtin for ints and floats."""
    steps: list[tuple[str, Callable[[str], Any]]] = []
    for key, convertor in convertors.items():
        kind = type(convertor)
        if kind is StringConvertor or kind is PathConvertor:
            continue  # the matched text is the value
        steps.append((key, int if kind is IntegerConvertor else float if kind is FloatConvertor else convertor.convert))
    return tuple(steps)


def convert_params(match: re.Match[str], conversions: Conversions) -> dict[str, Any]:
    params = match.groupdict()
    for key, convert in conversions:  # a plain loop: no comprehension frame
        params[key] = convert(params[key])
    return params


def store_params(scope: WWWScope, params: dict[str, Any] | None) -> None:
    if params:
        keys = framework_keys(scope)
        existing = keys.get("path_params")
        keys["path_params"] = {**existing, **params} if existing else params

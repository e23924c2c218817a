"""What every route is: the ``match``/``enter`` protocol the router asks of it, and its helpers.

``match`` decides (NONE, PARTIAL: path but not method, FULL) and returns the
path parameters; ``enter`` records the match in the scope. Starlette's
``matches``/``handle`` protocol is built on the pair and ``app``, and a class
written against it (overriding ``matches`` or ``handle``, at any depth) is
honoured too; the built-in routes pay nothing for that.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import IntEnum
from typing import Any, ClassVar, TypeAlias, TypeVar

from typedasgi.convertors import Convertor, FloatConvertor, IntegerConvertor, PathConvertor, StringConvertor
from typedasgi.datastructures import URLPath
from typedasgi.error_responses import error_response
from typedasgi.middleware import Middleware
from typedasgi.paths import get_route_path
from typedasgi.routing_endpoints import PlainEntry
from typedasgi.types import ASGIApp, FrameworkKeys, Receive, Scope, Send, WWWScope, framework_keys
from typedasgi.websockets import WebSocketClose

__all__ = [
    "BaseRoute",
    "Conversions",
    "Match",
    "NoMatchFound",
    "conversions_for",
    "convert_params",
    "serves_own_app",
    "store_params",
    "wrap_middleware",
]


class NoMatchFound(Exception):
    """``url_path_for`` found no route with that name and those parameters."""

    def __init__(self, name: str, path_params: Mapping[str, Any]) -> None:
        params = ", ".join(path_params)  # in the order given, as Starlette words it
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


class Match(IntEnum):
    NONE = 0
    PARTIAL = 1  # the path matched, the method did not: a 405 unless a later route matches fully
    FULL = 2


_FULL, _PARTIAL, _NONE = Match.FULL, Match.PARTIAL, Match.NONE  # module globals: cheaper than enum lookups
_Handle = TypeVar("_Handle", bound=Callable[..., Awaitable[None]])


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


_SERVES_OWN_APP: set[object] = set()


def serves_own_app(handle: _Handle) -> _Handle:
    """Mark a built-in ``handle`` that only calls the route's ``app`` (or answers its 405).

    The router calls ``app`` directly for a route whose ``handle`` is marked so (one
    call less per request); any other ``handle`` (a subclass's or a mixin's, as
    Starlette code writes for access checks) is called instead of ``app``.
    """
    _SERVES_OWN_APP.add(handle)
    return handle


class BaseRoute:
    """What the router asks of every route.

    ``app`` answers a FULL match (the router calls it directly: one call less per
    request). A class that defines ``handle``, as code written for Starlette
    does, has ``handle_overridden`` set: the router then calls its ``handle``
    (``handle_partial`` for a PARTIAL match), whose ``super().handle`` serves ``app``.
    """

    app: ASGIApp
    plain: PlainEntry | None = None
    """Set when the app may enter the route and call its plain endpoint itself instead of calling ``app``."""
    name: str | None = None
    first_segment: str | None = None  # the router's index key (paths.first_segment); None: try for every path
    handle_overridden: ClassVar[bool] = False
    """The class (or a mixin) defines its own ``handle``: the router calls it instead of ``app``."""

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
        cls.handle_overridden = cls.handle not in _SERVES_OWN_APP
        if "matches" in cls.__dict__ and "match" not in cls.__dict__ and cls.match is not _match_through_matches:
            # Written against Starlette's protocol: route through the override, keep the parent's matching for super().
            # (A subclass of such a class inherits all four: its matches() chains to the parent's by super().)
            parent_match, parent_enter = cls.match, cls.enter
            cls._own_match = parent_match  # type: ignore[method-assign]  # the parent's, bound per instance
            cls._own_enter = parent_enter  # type: ignore[method-assign]
            cls.match = _match_through_matches  # type: ignore[method-assign, assignment]
            cls.enter = _enter_child_scope  # type: ignore[method-assign, assignment]

    @serves_own_app
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def handle_partial(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a PARTIAL match (Route: 405 with Allow); others answer it as a full one."""
        await self.handle(scope, receive, send)

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
        elif self.handle_overridden:
            await self.handle(scope, receive, send)
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


def convert_params(match: re.Match[str], conversions: Conversions) -> dict[str, Any] | None:
    """The match's values converted; None when a convertor refuses its text, and then the route does not match.

    A ``ValueError`` is a refusal: an int past Python's 4,300-digit limit, a date that
    fits a custom pattern but not the calendar. The path names nothing there (a 404, or
    a later route), where Starlette answers 500.
    """
    params = match.groupdict()
    try:
        for key, convert in conversions:  # a plain loop: no comprehension frame
            params[key] = convert(params[key])
    except ValueError:
        return None
    return params


def store_params(scope: WWWScope, params: dict[str, Any] | None) -> None:
    if params:
        keys: FrameworkKeys = scope  # type: ignore[assignment]  # the same dict, framework view (no call per request)
        if "path_params" in keys:  # a mount's above: merged
            keys["path_params"] = {**keys["path_params"], **params}
        else:
            keys["path_params"] = params

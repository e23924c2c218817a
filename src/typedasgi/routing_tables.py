"""The router's lookup tables, rebuilt when its routes change: what makes most requests a dict lookup.

A table answers only what the ordered search over the routes would answer (the
first full match in registration order, else the first partial one), so a
request resolves the same with or without it. The tables stop at the first
route whose answer they cannot know in advance (a ``Host``, any subclass),
since only the built-in routes' answers depend on the path alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, SupportsIndex, TypeAlias, cast, overload

from typing_extensions import Self

from typedasgi.convertors import IntegerConvertor, StringConvertor
from typedasgi.routing_base import BaseRoute, Conversions
from typedasgi.routing_routes import Route, WebSocketRoute

__all__ = ["Candidate", "RouteList", "TailEntry", "candidate", "static_table", "tail_table"]


class _PathPattern(Protocol):
    """A route or mount whose match depends on the path alone."""

    path_format: str
    path_regex: re.Pattern[str]


Candidate: TypeAlias = tuple[BaseRoute, "Route | None", "Callable[[str], re.Match[str] | None]", Conversions]
"""A route in the ordered search; a plain ``Route`` again as such, with its path's match and conversions (the
router matches it inline, as ``Route.match`` would); any other route with None, and its own ``match`` answers."""

TailEntry: TypeAlias = tuple[
    Route, str, "Callable[[str], Any] | None", "Callable[[str], re.Match[str] | None] | None"
]
"""A ``head/{param}`` route: the route, the parameter's name, its conversion (None: the text is the value)
and the pattern the whole segment must match (None with ``int``: ASCII digits, checked without a regex)."""


_ASK_THE_ROUTE = re.compile("(?!)").match  # never called: the route's own match answers


def candidate(route: BaseRoute) -> Candidate:
    if type(route) is not Route:
        return route, None, _ASK_THE_ROUTE, ()
    assert isinstance(route, Route)
    regex = re.compile(re.escape(route.path) + r"\Z") if route.is_static else route.path_regex  # statics: equal
    return route, route, regex.match, route.conversions


def static_table(routes: Sequence[BaseRoute], mount: type[BaseRoute]) -> dict[str, Route]:
    """Static paths -> the plain ``Route`` the ordered search would try first for them.

    A path enters only when no earlier route could match it: earlier routes must be
    plain routes, WebSocket routes or mounts (``mount``: the class, defined with the
    router) and their patterns must not match it.
    """
    table: dict[str, Route] = {}
    earlier: dict[str | None, list[_PathPattern]] = {}  # by first segment, as the router's index
    anywhere = earlier.setdefault(None, [])  # the patterns that may match any first segment
    for route in routes:
        kind = type(route)
        if kind is Route:
            assert isinstance(route, Route)
            path = route.path
            if route.is_static and path not in table:
                rivals = earlier.get(path.split("/", 2)[1], [])
                if not any(other.path_regex.match(path) for other in (*rivals, *anywhere)):
                    table[path] = route
            earlier.setdefault(route.first_segment, []).append(route)
        elif kind is mount:
            earlier.setdefault(route.first_segment, []).append(cast(_PathPattern, route))
        elif kind is not WebSocketRoute:  # a WebSocket route never matches an HTTP request
            break
    return table


def _literal_prefix(route: _PathPattern) -> str:
    """What every path a route or mount matches starts with: its format up to the first parameter."""
    format_ = route.path_format
    brace = format_.find("{")
    return format_ if brace == -1 else format_[:brace]


_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?\(")  # \2, (?(2)...): numbered as part of the whole path's pattern


def _tail_entry(route: Route) -> tuple[str, TailEntry] | None:
    """``/users/{id:int}`` -> (``"/users"``, its entry): a literal head and one parameter, the last segment."""
    if len(route.param_convertors) != 1:
        return None
    ((name, convertor),) = route.param_convertors.items()
    head, slash, param = route.path_format.rpartition("/")
    if not slash or not head or param != "{" + name + "}" or "{" in head or "}" in head:
        return None
    kind = type(convertor)
    if kind is StringConvertor:
        return head, (route, name, None, None)
    if kind is IntegerConvertor:
        return head, (route, name, int, None)
    if _GROUP_REFERENCE.search(convertor.regex) or re.compile(convertor.regex).groupindex:
        return None  # left to the whole path's pattern (its named groups are path parameters too)
    convert = dict(route.conversions).get(name, str)  # str: the text is the value (a path)
    return head, (route, name, convert, re.compile(f"(?:{convertor.regex})\\Z").match)


def tail_table(routes: Sequence[BaseRoute], static: Mapping[str, Route], mount: type[BaseRoute]) -> dict[str, TailEntry]:
    """Heads -> the plain ``head/{param}`` route the ordered search would try first for paths below them.

    A head enters with the first such route when no earlier route or mount could
    match a path below it (their literal prefixes are incompatible with
    ``head/``), except static routes, whose paths the ``static`` table holds: the
    router skips this table for those paths.
    """
    table: dict[str, TailEntry] = {}
    prefixes: dict[str | None, list[str]] = {}  # of the earlier parameterised routes and mounts, by first segment
    anywhere = prefixes.setdefault(None, [])  # the routes that may match any first segment
    shadowed: set[str] = set()  # heads of earlier static paths the static table does not hold
    for route in routes:
        kind = type(route)
        if kind is Route:
            assert isinstance(route, Route)
            if route.is_static:
                if route.path not in static:
                    shadowed.add(route.path.rpartition("/")[0])
                continue
            found = _tail_entry(route)
            if found is not None:
                head, entry = found
                below = head + "/"
                rivals = (*prefixes.get(route.first_segment, ()), *anywhere)
                if head not in shadowed and not any(
                    below.startswith(prefix) or prefix.startswith(below) for prefix in rivals
                ):
                    table[head] = entry
            prefixes.setdefault(route.first_segment, []).append(_literal_prefix(route))
        elif kind is mount:
            prefixes.setdefault(route.first_segment, []).append(_literal_prefix(cast(_PathPattern, route)))
        elif kind is not WebSocketRoute:
            break
    return table


class RouteList(list[BaseRoute]):
    """A router's routes: a plain list that tells the router when a change may alter the tables' answers.

    Adding routes at the end never does (a path's first match stays first), so
    ``append`` and ``extend`` are the list's own, and the router reindexes when
    it sees a path the tables do not know. Any other change (insert, replace,
    remove, reorder) calls ``changed`` at once, so a request never meets a table
    older than the routes, while the hot path asks nothing per request.
    """

    __slots__ = ("changed",)

    def __init__(self, routes: Iterable[BaseRoute], changed: Callable[[], None]) -> None:
        super().__init__(routes)
        self.changed: Callable[[], None] = changed

    @overload
    def __setitem__(self, index: SupportsIndex, value: BaseRoute) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[BaseRoute]) -> None: ...
    def __setitem__(self, index: SupportsIndex | slice, value: BaseRoute | Iterable[BaseRoute]) -> None:
        super().__setitem__(index, value)  # type: ignore[index, assignment]  # the pairs the overloads allow, as list's
        self.changed()

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        super().__delitem__(index)
        self.changed()

    def __imul__(self, times: SupportsIndex) -> Self:
        super().__imul__(times)
        self.changed()
        return self

    def insert(self, index: SupportsIndex, route: BaseRoute) -> None:
        super().insert(index, route)
        self.changed()

    def remove(self, route: BaseRoute) -> None:
        super().remove(route)
        self.changed()

    def pop(self, index: SupportsIndex = -1) -> BaseRoute:
        route = super().pop(index)
        self.changed()
        return route

    def clear(self) -> None:
        super().clear()
        self.changed()

    def sort(self, *, key: Callable[[BaseRoute], Any] | None = None, reverse: bool = False) -> None:
        # Routes have no order of their own: without a key, list's own TypeError (past one route).
        super().sort(key=key, reverse=reverse)  # pyright: ignore[reportArgumentType, reportCallIssue]
        self.changed()

    def reverse(self) -> None:
        super().reverse()
        self.changed()

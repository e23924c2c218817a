"""``APIRouter``: routes declared with decorators in one module, included into an app elsewhere.

A router keeps what was declared (path, handler, options) rather than built
routes, so including it under a prefix, with more tags and dependencies,
builds each route once with its full path: typed handlers compile against
the final path and the OpenAPI document sees plain ``Route`` objects. Include
a router after its routes are declared; later declarations are not seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypedDict, TypeVar

from typing_extensions import Unpack

from typedasgi.apidocs import ResponseDoc, Responses
from typedasgi.markers import Depends
from typedasgi.responses import Response
from typedasgi.routing import BaseRoute, Route, WebSocketRoute

__all__ = ["APIRouter", "MethodDecorators", "RouteOptions"]

F = TypeVar("F", bound=Callable[..., Any])


class RouteOptions(TypedDict, total=False):
    """What ``@app.get(...)``, ``@router.get(...)`` and friends accept besides the path (see ``Route``)."""

    name: str | None
    include_in_schema: bool
    status_code: int | None
    summary: str | None
    description: str | None
    tags: Sequence[str] | None
    deprecated: bool
    response_class: Callable[..., Response] | None
    dependencies: Sequence[Depends]
    responses: Responses | None


@dataclasses.dataclass(frozen=True, slots=True)
class _Declared:
    path: str
    endpoint: Callable[..., Any]
    methods: Collection[str] | None  # None: a WebSocket route
    options: RouteOptions

    def under(self, prefix: str, tags: Sequence[str], dependencies: Sequence[Depends], responses: Responses) -> _Declared:
        """The same route below ``prefix``; the outer tags, dependencies and responses come first."""
        options: RouteOptions = {**self.options}
        if tags or "tags" in options:
            options["tags"] = [*tags, *(tag for tag in options.get("tags") or () if tag not in tags)]
        if dependencies:
            options["dependencies"] = [*dependencies, *options.get("dependencies", ())]
        if responses:
            options["responses"] = {**responses, **(options.get("responses") or {})}
        return dataclasses.replace(self, path=prefix + self.path, options=options)

    def build(self) -> BaseRoute:
        if self.methods is None:
            return WebSocketRoute(
                self.path, self.endpoint, name=self.options.get("name"),
                dependencies=self.options.get("dependencies", ()),
            )
        return Route(self.path, self.endpoint, methods=self.methods, **self.options)


def _check_prefix(prefix: str) -> str:
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"A router prefix starts with '/' and does not end with one: {prefix!r}")
    return prefix


class MethodDecorators:
    """``@get``/``@post``/``@put``/``@patch``/``@delete``: spellings of ``api_route``, which the class supplies."""

    def api_route(self, path: str, methods: Collection[str], **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        raise NotImplementedError

    def get(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.api_route(path, ["GET"], **options)

    def post(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.api_route(path, ["POST"], **options)

    def put(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.api_route(path, ["PUT"], **options)

    def patch(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.api_route(path, ["PATCH"], **options)

    def delete(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.api_route(path, ["DELETE"], **options)


class APIRouter(MethodDecorators):
    """Decorators like the app's, under ``prefix``, adding ``tags``, ``dependencies`` and ``responses``.

    ``dependencies`` (``[Depends(require_user)]``) run before every handler of
    the router, for their effect (an ``HTTPException`` refuses the request);
    their values are not passed. Include it with ``app.include_router(router)``
    or ``other_router.include_router(router)``.
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: Sequence[str] = (),
        dependencies: Sequence[Depends] = (),
        responses: Responses | None = None,
    ) -> None:
        self.prefix: str = _check_prefix(prefix)
        self.tags: list[str] = list(tags)
        self.dependencies: list[Depends] = list(dependencies)
        self.responses: dict[int, ResponseDoc | type[object]] = dict(responses or {})
        self._declared: list[_Declared] = []

    # -- declaring ----------------------------------------------------------------------

    def add_api_route(
        self, path: str, endpoint: Callable[..., Any], methods: Collection[str], **options: Unpack[RouteOptions]
    ) -> None:
        self._declared.append(_Declared(path, endpoint, list(methods), options))

    def api_route(self, path: str, methods: Collection[str], **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Declare the decorated handler (plain or typed) for ``methods``; it is returned unchanged."""

        def decorator(func: F) -> F:
            self.add_api_route(path, func, methods, **options)
            return func

        return decorator

    def websocket(self, path: str, name: str | None = None) -> Callable[[F], F]:
        """Declare a WebSocket handler (plain or typed); the router's dependencies run before it too."""

        def decorator(func: F) -> F:
            self._declared.append(_Declared(path, func, None, {"name": name}))
            return func

        return decorator

    def include_router(
        self,
        router: APIRouter,
        *,
        prefix: str = "",
        tags: Sequence[str] = (),
        dependencies: Sequence[Depends] = (),
        responses: Responses | None = None,
    ) -> None:
        """Take ``router``'s routes, below ``prefix`` and with these tags, dependencies and responses first."""
        outer = dict(responses or {})
        for declared in router.declared():
            self._declared.append(declared.under(_check_prefix(prefix), tags, dependencies, outer))

    # -- building -------------------------------------------------------------------------

    def declared(self) -> list[_Declared]:
        """Every route declared here or included, with this router's prefix, tags, dependencies and responses."""
        return [item.under(self.prefix, self.tags, self.dependencies, self.responses) for item in self._declared]

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes, built (a fresh list each time): for ``Mount("/v1", routes=router.routes)`` too."""
        return [item.build() for item in self.declared()]

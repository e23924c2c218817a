"""The plugin hooks: what a plugin may add to an app, and typed decorators to add it with.

Every hook here is a pluggy hook specification of the project ``typedasgi``.
pluggy matches implementations to specifications by name at run time only, so
typedasgi adds the piece a type checker needs: :data:`hookimpl`, whose
attributes (``@hookimpl.middleware``, ``@hookimpl.routes``, ...) are
decorators typed with the specification's own signature. mypy then checks a
plugin's implementation against the spec: a wrong parameter name or type, or a
wrong return type, is an error in the plugin's code, not a surprise at start-up.

All of typedasgi's hooks take one argument, ``app`` (a :class:`PluginApp`), and
are *collecting* hooks: every plugin's contribution is gathered, in plugin
order (see ``typedasgi.plugins``). When each hook runs:

* ``typedasgi_add_hookspecs`` and ``typedasgi_convertors``: when the app is
  created (``TypedASGI(...)``), right after the plugins are loaded;
* ``typedasgi_middleware``, ``typedasgi_routes``, ``typedasgi_exception_handlers``,
  ``typedasgi_renderers``, ``typedasgi_body_decoders``: once, when the app
  builds its middleware stack (its first ASGI call);
* ``typedasgi_app_configured``: right after that;
* ``typedasgi_lifespan``: at every lifespan start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Literal, Protocol, TypeVar, overload

import pluggy
from typing_extensions import Concatenate, ParamSpec, TypeAlias

from typedasgi.convertors import Convertor
from typedasgi.datastructures import State, URLPath
from typedasgi.middleware import Middleware
from typedasgi.middleware.exceptions import ExceptionHandlerTable
from typedasgi.routing import BaseRoute

__all__ = [
    "PROJECT",
    "BodyDecoder",
    "DecodeBody",
    "HookImplDecorator",
    "HookImpls",
    "PluginApp",
    "PluginHost",
    "PluginMiddleware",
    "ResponseRenderer",
    "hookimpl",
    "hookspec",
]

PROJECT = "typedasgi"
"""The pluggy project name: entry-point group, hook prefix and marker name."""

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")

hookspec: pluggy.HookspecMarker = pluggy.HookspecMarker(PROJECT)
"""pluggy's spec marker for typedasgi; plugins that add hooks of their own mark them with it too."""

_untyped_hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------- what plugins contribute


@dataclass(frozen=True, slots=True)
class PluginMiddleware:
    """A middleware a plugin adds, and where in the stack it goes.

    The stack, outermost first: ``ServerErrorMiddleware`` -> plugin middleware
    with ``position="outer"`` -> the app's own middleware -> plugin middleware
    with ``position="inner"`` -> ``ExceptionMiddleware`` -> router. Within a
    position a lower ``order`` sits further out; equal orders keep plugin order.
    "outer" sees every request first (request ids, tracing); "inner" sees what
    the app's middleware let through, just before the exception handlers.
    """

    middleware: Middleware
    position: Literal["outer", "inner"] = "outer"
    order: int = 0


@dataclass(frozen=True, slots=True)
class ResponseRenderer(Generic[T]):
    """Encodes a typed handler's return value as ``media_type``.

    With ``types``: used for values of those types (subclasses too), whatever
    ``Accept`` says. Without: used for any value when the request's ``Accept``
    ranks ``media_type`` above ``application/json`` (the answer then carries
    ``Vary: Accept``). JSON stays the default and wins ties.
    """

    media_type: str
    render: Callable[[T], bytes]
    types: tuple[type[T], ...] = field(default=())


DecodeBody: TypeAlias = Callable[[bytes, Any], object]
"""``decode(body, annotation)``: the body as the declared type (any type form, hence ``Any``).

Raise ``msgspec.ValidationError`` for a body of the wrong shape (a 422) and
``msgspec.DecodeError`` for a malformed one (a 400).
"""


@dataclass(frozen=True, slots=True)
class BodyDecoder:
    """Decodes request bodies sent as one of ``media_types`` for typed handlers."""

    media_types: tuple[str, ...]
    decode: DecodeBody


class PluginHost(Protocol):
    """An app's plugins, as hooks see them (``app.plugins``)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The loaded plugins' names, in plugin order."""
        ...

    @property
    def pluginmanager(self) -> pluggy.PluginManager:
        """The pluggy manager underneath, for what typedasgi does not wrap."""
        ...

    def call(self, spec: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> list[R]:
        """Call a hook by its spec function; the results are typed by the spec (pass arguments by name)."""
        ...


class PluginApp(Protocol):
    """The app as a hook sees it: read-only, so all changes go through hook results."""

    @property
    def debug(self) -> bool: ...

    @property
    def state(self) -> State: ...

    @property
    def routes(self) -> list[BaseRoute]: ...

    @property
    def plugins(self) -> PluginHost: ...

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath: ...


# --------------------------------------------------------------------------- the specifications
# pluggy never calls a specification: it only reads its name and parameters.


@hookspec
def typedasgi_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Add hook specifications of your own for other plugins: ``pluginmanager.add_hookspecs(ns)``.

    Called once per app right after every plugin is registered, so other
    plugins' implementations of the new hooks are checked against them.
    """
    raise NotImplementedError


@hookspec
def typedasgi_convertors(app: PluginApp) -> Mapping[str, Convertor[Any]]:  # Any: each converts its own type
    """Path convertors by name, for ``{param:name}`` in route paths.

    Registered process-wide when the app is created, so routes added to the
    app afterwards (decorators, ``add_route``, plugin routes) may use them; a
    route built before the app exists cannot. Replacing a convertor that is
    already registered under that name with a different one is an error.
    """
    raise NotImplementedError


@hookspec
def typedasgi_middleware(app: PluginApp) -> Sequence[PluginMiddleware]:
    """Middleware to add to the app's stack; see :class:`PluginMiddleware` for the place and order."""
    raise NotImplementedError


@hookspec
def typedasgi_routes(app: PluginApp) -> Sequence[BaseRoute]:
    """Routes to add: ``Route``, ``WebSocketRoute``, ``Mount`` (a ``Router`` or any ASGI app), ``Host``.

    They come after all of the app's own routes, in plugin order, so the app's
    routes win where paths overlap. Mounted apps' lifespans run with the app's.
    """
    raise NotImplementedError


@hookspec
def typedasgi_exception_handlers(app: PluginApp) -> ExceptionHandlerTable:
    """Exception handlers by status code or exception class.

    The app's own handlers win over any plugin's; between plugins the first in
    plugin order wins. ``500``/``Exception`` handlers serve the outer error layer.
    """
    raise NotImplementedError


@hookspec
def typedasgi_renderers(app: PluginApp) -> Sequence[ResponseRenderer[Any]]:  # Any: each renders its own type
    """Renderers for typed handlers' return values, by value type or negotiated media type.

    A type match wins over ``Accept``; between plugins the first in plugin order wins.
    """
    raise NotImplementedError


@hookspec
def typedasgi_body_decoders(app: PluginApp) -> Sequence[BodyDecoder]:
    """Request-body decoders for typed handlers, by the request's media type (JSON stays built in)."""
    raise NotImplementedError


@hookspec
def typedasgi_lifespan(app: PluginApp) -> AbstractAsyncContextManager[Mapping[str, Any] | None]:
    """Start-up and shut-down work: an async context manager, entered at every lifespan start-up.

    Plugins' contexts are entered in plugin order *before* the app's own
    lifespan (so the app can use what they set up) and exited after it, in
    reverse. A yielded mapping is merged into the lifespan state that every
    request sees as ``request.state``. ``@contextlib.asynccontextmanager`` on
    an ``async def lifespan(app)`` that yields fits this spec.
    """
    raise NotImplementedError


@hookspec
def typedasgi_app_configured(app: PluginApp) -> None:
    """Notification: the app's stack is built, its routes and middleware are final.

    Called once, on the app's first ASGI call (normally the lifespan start-up).
    """
    raise NotImplementedError


# --------------------------------------------------------------------------- typed implementation markers


class HookImplDecorator(Generic[P, R]):
    """Marks a function (or method) as an implementation of one spec, typed by that spec.

    ``HookImplDecorator(spec)`` takes the spec's parameters ``P`` and return
    type ``R``: decorating anything whose signature does not fit is a type
    error. A method's ``self`` is allowed in front. At run time it only sets
    pluggy's marker (with ``specname``), so the function's own name is free.
    """

    def __init__(
        self,
        spec: Callable[P, R],
        *,
        tryfirst: bool = False,
        trylast: bool = False,
        optionalhook: bool = False,
    ) -> None:
        self.spec = spec
        self.specname: str = spec.__name__
        self.tryfirst = tryfirst
        self.trylast = trylast
        self.optionalhook = optionalhook

    @overload
    def __call__(self, func: Callable[P, R], /) -> Callable[P, R]: ...

    @overload
    def __call__(self, func: Callable[Concatenate[S, P], R], /) -> Callable[Concatenate[S, P], R]: ...

    def __call__(self, func: Callable[..., Any], /) -> Callable[..., Any]:
        return _untyped_hookimpl(
            func,
            specname=self.specname,
            tryfirst=self.tryfirst,
            trylast=self.trylast,
            optionalhook=self.optionalhook,
        )

    def options(self, *, tryfirst: bool = False, trylast: bool = False) -> HookImplDecorator[P, R]:
        """The same decorator with pluggy's call-order options (``tryfirst`` runs early, ``trylast`` late)."""
        return HookImplDecorator(self.spec, tryfirst=tryfirst, trylast=trylast, optionalhook=self.optionalhook)


class HookImpls:
    """One typed decorator per typedasgi hook: ``@hookimpl.routes``, ``@hookimpl.middleware``, ...

    ``hookimpl(tryfirst=True)`` gives the same set with pluggy's call-order options.
    """

    def __init__(self, *, tryfirst: bool = False, trylast: bool = False) -> None:
        options = {"tryfirst": tryfirst, "trylast": trylast}
        self.add_hookspecs: Final = HookImplDecorator(typedasgi_add_hookspecs, **options)
        self.convertors: Final = HookImplDecorator(typedasgi_convertors, **options)
        self.middleware: Final = HookImplDecorator(typedasgi_middleware, **options)
        self.routes: Final = HookImplDecorator(typedasgi_routes, **options)
        self.exception_handlers: Final = HookImplDecorator(typedasgi_exception_handlers, **options)
        self.renderers: Final = HookImplDecorator(typedasgi_renderers, **options)
        self.body_decoders: Final = HookImplDecorator(typedasgi_body_decoders, **options)
        self.lifespan: Final = HookImplDecorator(typedasgi_lifespan, **options)
        self.app_configured: Final = HookImplDecorator(typedasgi_app_configured, **options)

    def __call__(self, *, tryfirst: bool = False, trylast: bool = False) -> HookImpls:
        return HookImpls(tryfirst=tryfirst, trylast=trylast)


hookimpl: HookImpls = HookImpls()
"""The typed way to implement typedasgi's hooks: ``@hookimpl.middleware def ...(app: PluginApp)``."""

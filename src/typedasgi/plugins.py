"""An app's plugins: finding them, loading them, and calling their hooks, typed.

Plugin order, which every hook follows: the plugins given to
``TypedASGI(plugins=[...])`` in that order, then the installed ones found in
the entry-point group ``typedasgi``, sorted by entry-point name. pluggy's
``tryfirst``/``trylast`` move one implementation to the front or the back.

Switches, strongest first:

1. ``blocked_plugins=[name, ...]`` and ``TYPEDASGI_BLOCKED_PLUGINS=a,b``: a
   blocked plugin never loads, not even when given explicitly.
2. ``autoload_plugins=True/False``: entry-point discovery on or off for this app.
3. ``TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD=1``: discovery off where the app did not say
   (``autoload_plugins=None``, the default). Unset, empty or ``0``: on.

Plugins given explicitly always load. An explicit plugin replaces an installed
one of the same name (a plugin's name: its ``plugin_name`` attribute, else its
module's name, else its class's qualified name; an entry point's name for
installed ones), so ``plugins=[HealthPlugin(path="/healthz")]`` reconfigures
the installed ``health`` plugin instead of adding a second one.

Hooks are called through :meth:`AppPlugins.call`, typed by the spec function:
typedasgi walks pluggy's implementations itself (in pluggy's call order) so
each result is known by its plugin, an error names the plugin and its
distribution, and the one ``cast`` from pluggy's untyped results sits in
:meth:`AppPlugins._collect`. Hook wrappers are therefore not supported.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import logging
import os
import types
from collections.abc import AsyncGenerator, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, cast

import pluggy
from typing_extensions import ParamSpec

from typedasgi import hooks
from typedasgi.convertors import CONVERTOR_TYPES, Convertor, register_url_convertor
from typedasgi.handlers import Renderer
from typedasgi.hooks import PROJECT, BodyDecoder, DecodeBody, PluginApp, PluginMiddleware, ResponseRenderer
from typedasgi.middleware import Middleware
from typedasgi.middleware.exceptions import ExceptionHandler
from typedasgi.negotiation import RendererTable
from typedasgi.routing import BaseRoute

__all__ = [
    "BLOCKED_ENV",
    "DISABLE_AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "AppPlugins",
    "ConfigurableApp",
    "Contributions",
    "InstalledPlugin",
    "PluginError",
    "PluginInfo",
    "autoload_enabled",
    "find_renderer",
    "installed_plugins",
]

logger: logging.Logger = logging.getLogger("typedasgi.plugins")

ENTRY_POINT_GROUP = PROJECT
DISABLE_AUTOLOAD_ENV = "TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD"
BLOCKED_ENV = "TYPEDASGI_BLOCKED_PLUGINS"
_FALSE = frozenset({"", "0", "false", "no", "off"})

P = ParamSpec("P")
R = TypeVar("R")


# --------------------------------------------------------------------------- who a plugin is


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, the object pluggy registered, and where it came from."""

    name: str
    plugin: object
    source: Literal["explicit", "entry point", "pluginmanager"]
    distribution: str | None = None
    version: str | None = None

    def origin(self) -> tuple[str | None, str | None]:
        """The distribution and version it came from; looked up for explicit plugins (slow: for errors)."""
        if self.distribution is not None:
            return self.distribution, self.version
        return _distribution_of(self.plugin)

    def describe(self) -> str:
        """``'health' (distribution typedasgi-health 0.1.0, entry point)``."""
        dist, version = self.origin()
        origin = f"distribution {dist} {version}" if dist else "no installed distribution"
        return f"{self.name!r} ({origin}, {self.source})"


class PluginError(RuntimeError):
    """A plugin failed to import, to register, or in a hook; the message names it and its distribution."""

    def __init__(self, info: PluginInfo, message: str) -> None:
        super().__init__(f"Plugin {info.describe()} {message}")
        self.plugin: str = info.name
        self.distribution: str | None = info.origin()[0]


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()  # scans every installed distribution: once


def _distribution_of(plugin: object) -> tuple[str | None, str | None]:
    module = plugin.__name__ if isinstance(plugin, types.ModuleType) else type(plugin).__module__
    names = _packages_distributions().get(module.partition(".")[0], [])
    if not names:
        return None, None
    try:
        return names[0], importlib.metadata.version(names[0])
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - metadata vanished meanwhile
        return names[0], None


def plugin_name(plugin: object) -> str:
    """An explicit plugin's name: ``plugin_name`` attribute, module name, or ``module.Class``."""
    declared = getattr(plugin, "plugin_name", None)
    if isinstance(declared, str) and declared:
        return declared
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    cls = type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"


def autoload_enabled(autoload: bool | None = None) -> bool:
    """The app's own choice if it made one, else on unless ``TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD`` is set."""
    if autoload is not None:
        return autoload
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() in _FALSE


def _env_blocked() -> frozenset[str]:
    return frozenset(name.strip() for name in os.environ.get(BLOCKED_ENV, "").split(",") if name.strip())


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return sorted(found, key=lambda ep: (ep.name, _dist_name(ep) or ""))


def _dist_name(ep: importlib.metadata.EntryPoint) -> str | None:
    return ep.dist.name if ep.dist is not None else None


def _entry_point_info(ep: importlib.metadata.EntryPoint, plugin: object) -> PluginInfo:
    version = ep.dist.version if ep.dist is not None else None
    return PluginInfo(ep.name, plugin, "entry point", _dist_name(ep), version)


def _load(ep: importlib.metadata.EntryPoint) -> object:
    try:
        plugin = ep.load()
    except Exception as exc:
        raise PluginError(
            _entry_point_info(ep, None), f"failed to import ({ep.value}): {type(exc).__name__}: {exc}"
        ) from exc
    if isinstance(plugin, type):
        raise PluginError(_entry_point_info(ep, plugin), f"points to a class ({ep.value}): point it to an instance")
    return plugin


def _discover(explicit: Iterable[object], autoload: bool, blocked: frozenset[str]) -> list[PluginInfo]:
    infos: list[PluginInfo] = []
    for plugin in explicit:
        info = PluginInfo(plugin_name(plugin), plugin, "explicit")
        if isinstance(plugin, type):
            raise PluginError(info, "is a class: pass an instance (or a module)")
        if info.name in blocked or any(known.plugin is plugin for known in infos):
            continue
        if any(known.name == info.name for known in infos):
            raise PluginError(info, "is given twice under the same name")
        infos.append(info)
    if not autoload:
        return infos
    for ep in _entry_points():
        if ep.name in blocked or any(known.name == ep.name and known.source == "explicit" for known in infos):
            continue
        twin = next((known for known in infos if known.name == ep.name), None)
        if twin is not None:
            raise PluginError(
                twin, f"is also provided by distribution {_dist_name(ep)}: uninstall one or block the name"
            )
        plugin = _load(ep)
        if not any(known.plugin is plugin for known in infos):
            infos.append(_entry_point_info(ep, plugin))
    return infos


# --------------------------------------------------------------------------- what the plugins add


@dataclass
class Contributions:
    """Everything the plugins add to one app, gathered once when its stack is built."""

    outer_middleware: list[Middleware] = field(default_factory=list)
    inner_middleware: list[Middleware] = field(default_factory=list)
    exception_handlers: dict[int | type[BaseException], ExceptionHandler] = field(default_factory=dict)
    routes: list[BaseRoute] = field(default_factory=list)
    renderer: Renderer | None = None
    body_decoders: dict[str, DecodeBody] = field(default_factory=dict)
    added: dict[str, list[str]] = field(default_factory=dict)
    """What each plugin added, by plugin name, as the start-up log lists it."""

    def middleware_around(self, own: Sequence[Middleware]) -> list[Middleware]:
        """The whole middleware list, outermost first: plugins' outer, the app's own, plugins' inner."""
        return [*self.outer_middleware, *own, *self.inner_middleware]


class ConfigurableApp(PluginApp, Protocol):
    """What :meth:`AppPlugins.configure` changes on the app besides its routes."""

    renderers: list[Renderer]
    body_decoders: dict[str, DecodeBody]


class AppPlugins:
    """The plugins of one app (``app.plugins``): a pluggy manager and the typed way to call it."""

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        autoload: bool | None = None,
        blocked: Collection[str] = (),
    ) -> None:
        self.autoload_chosen: bool = autoload is not None
        autoload = autoload_enabled(autoload)
        blocked = frozenset(blocked) | _env_blocked()
        self._setup(tuple(_discover(plugins, autoload, blocked)), autoload, blocked)

    @classmethod
    def loaded(cls, infos: Sequence[PluginInfo]) -> AppPlugins:
        """Plugins found and loaded already (``typedasgi plugins`` checks each installed one alone)."""
        self = cls.__new__(cls)
        self.autoload_chosen = True
        self._setup(tuple(infos), False, frozenset())
        return self

    def _setup(self, infos: tuple[PluginInfo, ...], autoload: bool, blocked: frozenset[str]) -> None:
        self.autoload = autoload
        self.blocked = blocked
        self.infos = infos
        self._by_name = {info.name: info for info in self.infos}
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(hooks)
        for name in self.blocked:
            self._pm.set_blocked(name)
        for info in reversed(self.infos):  # pluggy calls the last registered first: this makes it plugin order
            try:
                self._pm.register(info.plugin, name=info.name)
            except (pluggy.PluginValidationError, ValueError) as exc:
                raise PluginError(info, f"cannot be registered: {exc}") from exc
        self._collect(hooks.typedasgi_add_hookspecs, pluginmanager=self._pm)
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(self._info_of(exc.plugin), f"implements a hook nobody specified: {exc}") from exc
        self._contributions: Contributions | None = None
        self.renderer_table: RendererTable = RendererTable(())
        logger.debug("Loaded plugins: %s (autoload %s)", ", ".join(map(_short, self.infos)) or "none", self.autoload)

    def leave_installed_to(self, outer: object) -> None:
        """This app is mounted in ``outer``, another typedasgi app: installed plugins apply there, once.

        Plugins given explicitly stay, and so do installed ones when the app
        asked for them (``autoload_plugins=True``). Done before the app's stack
        is built (its first ASGI call), so none of the dropped plugins' hooks ran
        but ``add_hookspecs`` and ``convertors``.
        """
        if self.autoload_chosen or self._contributions is not None:
            return
        installed = [info.name for info in self.infos if info.source == "entry point"]
        if installed:
            kept = tuple(info for info in self.infos if info.source != "entry point")
            self._setup(kept, False, self.blocked)
            logger.debug("Mounted in %r: installed plugins %s apply there, not here", outer, ", ".join(installed))

    # -- who is loaded ------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(info.name for info in self.infos)

    @property
    def pluginmanager(self) -> pluggy.PluginManager:
        return self._pm

    def get(self, name: str) -> object | None:
        """The plugin object loaded under ``name``, if any."""
        info = self._by_name.get(name)
        return info.plugin if info is not None else None

    def __iter__(self) -> Iterator[PluginInfo]:
        return iter(self.infos)

    def __len__(self) -> int:
        return len(self.infos)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def _info_of(self, plugin: object, name: str | None = None) -> PluginInfo:
        for info in self.infos:
            if info.plugin is plugin:
                return info
        return PluginInfo(name or self._pm.get_name(plugin) or repr(plugin), plugin, "pluginmanager")

    # -- calling hooks -----------------------------------------------------------------

    def call(self, spec: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> list[R]:
        """Every plugin's result for the hook ``spec`` names, in plugin order, typed by the spec."""
        return [result for _, result in self._collect(spec, *args, **kwargs)]

    def _collect(self, spec: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> list[tuple[PluginInfo, R]]:
        """Call each implementation of ``spec`` in pluggy's order; results are paired with their plugin."""
        if args:
            raise TypeError("Hooks take their arguments by name")
        name = spec.__name__
        caller: pluggy.HookCaller | None = getattr(self._pm.hook, name, None)
        if caller is None:
            return []
        firstresult = caller.spec is not None and caller.spec.opts.get("firstresult", False)
        results: list[tuple[PluginInfo, R]] = []
        for impl in reversed(caller.get_hookimpls()):
            info = self._info_of(impl.plugin, impl.plugin_name)
            if impl.wrapper or impl.hookwrapper:
                raise PluginError(info, f"wraps hook {name}: typedasgi hooks take no wrappers; use tryfirst/trylast")
            try:
                result = impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception as exc:
                raise PluginError(info, f"failed in hook {name}: {type(exc).__name__}: {exc}") from exc
            if firstresult and result is None:
                continue
            # The one cast from pluggy's untyped world: the spec (and mypy on the
            # plugin, through typedasgi.hooks.hookimpl) says what each returns.
            results.append((info, cast(R, result)))
            if firstresult:
                break
        return results

    # -- the hooks, applied ------------------------------------------------------------

    def register_convertors(self, app: PluginApp) -> None:
        """Register the plugins' path convertors (process-wide, like ``register_url_convertor``)."""
        for info, convertors in self._collect(hooks.typedasgi_convertors, app=app):
            for key, convertor in convertors.items():
                _expect(info, "typedasgi_convertors", convertor, Convertor)
                current = CONVERTOR_TYPES.get(key)
                if current is not None and type(current) is not type(convertor):
                    raise PluginError(info, f"redefines path convertor {key!r}, already {type(current).__name__}")
                register_url_convertor(key, convertor)

    def configure(self, app: ConfigurableApp) -> Contributions:
        """Gather what the plugins add to ``app`` and add their routes, renderers and body decoders to it.

        Done once; later calls return the same contributions. The app puts the
        middleware and exception handlers into the stack it builds.
        """
        if self._contributions is not None:
            return self._contributions
        found = Contributions()
        added = found.added = {info.name: [] for info in self.infos}
        middleware: list[PluginMiddleware] = []
        for info, items in self._collect(hooks.typedasgi_middleware, app=app):
            for item in items:
                _expect(info, "typedasgi_middleware", item, PluginMiddleware)
                if item.position not in ("outer", "inner"):
                    raise PluginError(info, f"gave middleware position {item.position!r}: use 'outer' or 'inner'")
                middleware.append(item)
                added[info.name].append(f"middleware {_name_of(item.middleware.cls)} ({item.position}, order {item.order})")
        middleware.sort(key=lambda item: item.order)  # stable: equal orders keep plugin order
        found.outer_middleware = [item.middleware for item in middleware if item.position == "outer"]
        found.inner_middleware = [item.middleware for item in middleware if item.position == "inner"]
        for info, routes in self._collect(hooks.typedasgi_routes, app=app):
            for route in routes:
                _expect(info, "typedasgi_routes", route, BaseRoute)
                found.routes.append(route)
                added[info.name].append(f"route {_route_label(route)}")
        for info, handlers in self._collect(hooks.typedasgi_exception_handlers, app=app):
            for key, handler in handlers.items():
                found.exception_handlers.setdefault(key, handler)
                added[info.name].append(f"exception handler {key if isinstance(key, int) else key.__name__}")
        renderers: list[tuple[PluginInfo, ResponseRenderer[Any]]] = []
        for info, contributed in self._collect(hooks.typedasgi_renderers, app=app):
            for renderer in contributed:
                _expect(info, "typedasgi_renderers", renderer, ResponseRenderer)
                renderers.append((info, renderer))
                added[info.name].append(f"renderer {renderer.media_type}")
        self.renderer_table = RendererTable([(info.name, renderer) for info, renderer in renderers])
        found.renderer = self.renderer_table if renderers else None
        for info, decoders in self._collect(hooks.typedasgi_body_decoders, app=app):
            for decoder in decoders:
                _expect(info, "typedasgi_body_decoders", decoder, BodyDecoder)
                for media_type in decoder.media_types:
                    found.body_decoders.setdefault(media_type.lower(), decoder.decode)
                added[info.name].append(f"body decoder {', '.join(decoder.media_types)}")
        for info in self.infos:
            if any(caller.name == "typedasgi_lifespan" for caller in self._pm.get_hookcallers(info.plugin) or []):
                added[info.name].append("lifespan")
        self._contributions = found
        self._report(app, added)
        app.routes.extend(found.routes)
        if found.renderer is not None:
            app.renderers.append(found.renderer)
        for media_type, decode in found.body_decoders.items():
            app.body_decoders.setdefault(media_type, decode)
        return found

    def _report(self, app: PluginApp, added: Mapping[str, list[str]]) -> None:
        """Log, once per app, which plugins are active and what each added (INFO, ``typedasgi.plugins``)."""
        label = getattr(app, "title", None) or type(app).__name__
        if not self.infos:
            logger.debug("No plugins active in app %r", label)
            return
        lines = [f"  {_short(info)}: {'; '.join(added[info.name]) or 'nothing'}" for info in self.infos]
        logger.info("Plugins active in app %r:\n%s", label, "\n".join(lines))

    def notify_configured(self, app: PluginApp) -> None:
        self._collect(hooks.typedasgi_app_configured, app=app)

    def lifespan(
        self, app: PluginApp, own: AbstractAsyncContextManager[Mapping[str, Any] | None] | None
    ) -> AbstractAsyncContextManager[Mapping[str, Any] | None]:
        """The plugins' lifespans around the app's own one (``own``), their states merged."""
        return self._lifespan(app, own)

    @contextlib.asynccontextmanager
    async def _lifespan(
        self, app: PluginApp, own: AbstractAsyncContextManager[Mapping[str, Any] | None] | None
    ) -> AsyncGenerator[Mapping[str, Any] | None, None]:
        state: dict[str, Any] = {}
        yielded = False
        async with contextlib.AsyncExitStack() as stack:
            contexts: list[AbstractAsyncContextManager[Mapping[str, Any] | None]] = [
                _PluginLifespan(info, context) for info, context in self._collect(hooks.typedasgi_lifespan, app=app)
            ]
            if own is not None:
                contexts.append(own)
            for context in contexts:
                value = await stack.enter_async_context(context)
                if value is not None:
                    state.update(value)
                    yielded = True
            yield state if yielded else None


def _short(info: PluginInfo) -> str:
    if info.distribution:
        return f"{info.name} ({info.distribution} {info.version})"
    return f"{info.name} ({info.source})"


def _name_of(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__qualname__


def _route_label(route: BaseRoute) -> str:
    where = getattr(route, "path", None) or getattr(route, "host", None)
    return f"{type(route).__name__} {where}" if isinstance(where, str) else type(route).__name__


def _expect(info: PluginInfo, hook: str, value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise PluginError(info, f"returned {value!r} from {hook}, expected a {kind.__name__}")


class _PluginLifespan:
    """One plugin's lifespan context: what fails in it is reported under the plugin's name."""

    def __init__(self, info: PluginInfo, context: AbstractAsyncContextManager[Mapping[str, Any] | None]) -> None:
        self.info = info
        self.context = context

    async def __aenter__(self) -> Mapping[str, Any] | None:
        try:
            return await self.context.__aenter__()
        except Exception as exc:
            raise PluginError(self.info, f"failed to start (lifespan): {type(exc).__name__}: {exc}") from exc

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool | None:
        try:
            return await self.context.__aexit__(exc_type, exc, tb)
        except Exception as error:
            if error is exc:
                raise
            raise PluginError(self.info, f"failed to shut down (lifespan): {type(error).__name__}: {error}") from error


class HasPlugins(Protocol):
    @property
    def plugins(self) -> AppPlugins: ...


def find_renderer(app: HasPlugins, value_type: type, accept: str | None) -> ResponseRenderer[Any] | None:
    """The plugin renderer ``app`` uses for a ``value_type`` value under ``accept``; None means JSON."""
    return app.plugins.renderer_table.find(value_type, accept)


# --------------------------------------------------------------------------- what is installed


@dataclass(frozen=True)
class InstalledPlugin:
    """An installed plugin as ``typedasgi plugins`` lists it."""

    name: str
    distribution: str | None
    version: str | None
    value: str
    hooks: tuple[str, ...] = ()
    adds_hooks: tuple[str, ...] = ()
    error: str | None = None


def installed_plugins() -> list[InstalledPlugin]:
    """Every plugin in the entry-point group, loaded and checked one by one (an error is reported, not raised)."""
    found: list[InstalledPlugin] = []
    for ep in _entry_points():
        dist, version = _dist_name(ep), ep.dist.version if ep.dist is not None else None
        try:
            plugins = AppPlugins.loaded([_entry_point_info(ep, _load(ep))])
        except PluginError as exc:
            found.append(InstalledPlugin(ep.name, dist, version, ep.value, error=str(exc)))
            continue
        manager = plugins.pluginmanager
        callers = manager.get_hookcallers(plugins.infos[0].plugin) if plugins.infos else None
        added = sorted(
            name
            for name, caller in vars(manager.hook).items()
            if isinstance(caller, pluggy.HookCaller) and caller.spec is not None and caller.spec.namespace is not hooks
        )
        implemented = tuple(sorted(caller.name for caller in callers or []))
        found.append(InstalledPlugin(ep.name, dist, version, ep.value, implemented, tuple(added)))
    return found

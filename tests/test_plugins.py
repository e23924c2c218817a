"""Plugins: discovery and switches, every hook's effect on an app, errors that name the plugin, the CLI."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pluggy
import pytest

from typedasgi import hooks
from typedasgi.applications import TypedASGI
from typedasgi.cli import run as cli_run
from typedasgi.convertors import Convertor
from typedasgi.exceptions import HTTPException
from typedasgi.hooks import (
    BodyDecoder,
    HookImplDecorator,
    PluginApp,
    PluginMiddleware,
    ResponseRenderer,
    hookimpl,
    hookspec,
)
from typedasgi.middleware import Middleware
from typedasgi.middleware.exceptions import ExceptionHandler
from typedasgi.plugins import BLOCKED_ENV, DISABLE_AUTOLOAD_ENV, PluginError, autoload_enabled, find_renderer
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import BaseRoute, Mount, Route, Router
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Receive, Scope, Send
from typedasgi_health import HealthPlugin
from tests.support import ServerFactory, http_get

FIRST_PARTY = {"health", "msgpack", "requestid"}


# --------------------------------------------------------------------------- helpers


class Tag:
    """Middleware that records its name when a request passes through it."""

    def __init__(self, app: ASGIApp, name: str, trace: list[str]) -> None:
        self.app, self.name, self.trace = app, name, trace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.trace.append(self.name)
        await self.app(scope, receive, send)


class Broken:
    """Middleware whose every request fails."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raise RuntimeError("middleware broke")
        await self.app(scope, receive, send)


class Contributor:
    """A test plugin implementing every typedasgi hook with whatever it was given."""

    def __init__(
        self,
        plugin_name: str,
        *,
        middleware: Sequence[PluginMiddleware] = (),
        routes: Sequence[BaseRoute] = (),
        handlers: Mapping[int | type[BaseException], ExceptionHandler] | None = None,
        renderers: Sequence[ResponseRenderer[Any]] = (),
        decoders: Sequence[BodyDecoder] = (),
        convertors: Mapping[str, Convertor[Any]] | None = None,
        events: list[str] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        self.plugin_name = plugin_name
        self._middleware, self._routes, self._handlers = middleware, routes, handlers or {}
        self._renderers, self._decoders, self._convertors = renderers, decoders, convertors or {}
        self.events = events if events is not None else []
        self._state = state
        self.configured: list[PluginApp] = []

    @hookimpl.middleware
    def middleware(self, app: PluginApp) -> Sequence[PluginMiddleware]:
        return self._middleware

    @hookimpl.routes
    def routes(self, app: PluginApp) -> Sequence[BaseRoute]:
        return self._routes

    @hookimpl.exception_handlers
    def exception_handlers(self, app: PluginApp) -> Mapping[int | type[BaseException], ExceptionHandler]:
        return self._handlers

    @hookimpl.renderers
    def renderers(self, app: PluginApp) -> Sequence[ResponseRenderer[Any]]:
        return self._renderers

    @hookimpl.body_decoders
    def body_decoders(self, app: PluginApp) -> Sequence[BodyDecoder]:
        return self._decoders

    @hookimpl.convertors
    def convertors(self, app: PluginApp) -> Mapping[str, Convertor[Any]]:
        return self._convertors

    @hookimpl.lifespan
    @contextlib.asynccontextmanager
    async def lifespan(self, app: PluginApp) -> AsyncIterator[Mapping[str, Any] | None]:
        self.events.append(f"{self.plugin_name} start")
        yield self._state
        self.events.append(f"{self.plugin_name} stop")

    @hookimpl.app_configured
    def app_configured(self, app: PluginApp) -> None:
        self.configured.append(app)


def plain(text: str) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        return PlainTextResponse(text)

    return endpoint


def make_app(*plugins: object, **options: Any) -> TypedASGI:
    options.setdefault("autoload_plugins", False)
    return TypedASGI(plugins=list(plugins), **options)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Install a throw-away distribution (metadata + modules) on sys.path; returns the module prefix."""
    prefix = "fakeplugin_" + uuid.uuid4().hex[:8]
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))

    def install(dist: str, version: str, entry_points: Mapping[str, str], modules: Mapping[str, str]) -> str:
        for name, source in modules.items():
            (root / f"{prefix}_{name}.py").write_text(source)
            monkeypatch.delitem(sys.modules, f"{prefix}_{name}", raising=False)
        info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = "".join(f"{name} = {prefix}_{target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text("[typedasgi]\n" + lines)
        return prefix

    return install


# --------------------------------------------------------------------------- discovery and switches


def test_autoload_is_on_by_default_and_finds_the_installed_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    monkeypatch.delenv(BLOCKED_ENV, raising=False)
    app = TypedASGI()
    assert FIRST_PARTY <= set(app.plugins.names)
    info = {plugin.name: plugin for plugin in app.plugins}["health"]
    assert (info.source, info.distribution, info.version) == ("entry point", "typedasgi-health", "0.1.0")
    response = TestClient(app).get("/health/live")
    assert response.status_code == 200
    assert "x-request-id" in response.headers


@pytest.mark.parametrize(
    ("env", "argument", "expected"),
    [
        (None, None, True),
        ("1", None, False),
        ("true", None, False),
        ("0", None, True),
        ("", None, True),
        ("1", True, True),  # the app's own choice wins over the environment
        (None, False, False),
    ],
)
def test_autoload_precedence(monkeypatch: pytest.MonkeyPatch, env: str | None, argument: bool | None, expected: bool) -> None:
    if env is None:
        monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    else:
        monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, env)
    assert autoload_enabled(argument) is expected
    app = TypedASGI(autoload_plugins=argument)
    assert ("health" in app.plugins) is expected
    assert (TestClient(app).get("/health/live").status_code == 200) is expected


def test_blocking_one_plugin_by_name_per_app_and_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BLOCKED_ENV, raising=False)
    app = TypedASGI(autoload_plugins=True, blocked_plugins=["health"])
    assert "health" not in app.plugins and "requestid" in app.plugins
    assert TestClient(app).get("/health/live").status_code == 404
    monkeypatch.setenv(BLOCKED_ENV, "requestid, msgpack")
    app = TypedASGI(autoload_plugins=True)
    assert set(app.plugins.names) & FIRST_PARTY == {"health"}


def test_blocked_wins_over_an_explicit_plugin() -> None:
    app = make_app(Contributor("mine"), blocked_plugins=["mine"])
    assert app.plugins.names == ()


def test_an_explicit_plugin_replaces_the_installed_one_of_the_same_name() -> None:
    mine = HealthPlugin(path="/healthz")
    app = TypedASGI(plugins=[mine], autoload_plugins=True)
    assert app.plugins.get("health") is mine
    assert app.plugins.names[0] == "health"  # explicit plugins come first
    client = TestClient(app)
    assert client.get("/healthz/live").status_code == 200
    assert client.get("/health/live").status_code == 404


def test_the_same_plugin_object_given_twice_loads_once() -> None:
    plugin = Contributor("once", routes=[Route("/once", plain("once"))])
    app = make_app(plugin, plugin)
    assert app.plugins.names == ("once",)
    assert TestClient(app).get("/once").text == "once"


def test_a_module_can_be_a_plugin(site: Callable[..., str]) -> None:
    source = (
        "from typedasgi.hooks import hookimpl\n"
        "from typedasgi.routing import Route\n"
        "from typedasgi.responses import PlainTextResponse\n"
        "async def hello(request):\n    return PlainTextResponse('from a module')\n"
        "@hookimpl.routes\ndef routes(app):\n    return [Route('/module', hello)]\n"
    )
    prefix = site("typedasgi-moduleplugin", "2.0", {"moduleplugin": "mod"}, {"mod": source})
    app = TypedASGI(autoload_plugins=True)
    assert app.plugins.get("moduleplugin") is sys.modules[f"{prefix}_mod"]
    assert TestClient(app).get("/module").text == "from a module"


def test_the_app_logs_which_plugins_it_loaded(caplog: pytest.LogCaptureFixture) -> None:
    # DEBUG when created (a mounted app may yet leave installed ones to the outer app); what is active
    # is reported at INFO at start-up (tests/test_plugins_mounted.py)
    with caplog.at_level(logging.DEBUG, logger="typedasgi.plugins"):
        TypedASGI(plugins=[Contributor("first")], autoload_plugins=True, blocked_plugins=["msgpack"])
    [message] = [r.getMessage() for r in caplog.records if r.name == "typedasgi.plugins"]
    assert message.startswith("Loaded plugins: first (explicit), health (typedasgi-health 0.1.0)")
    assert "requestid (typedasgi-requestid 0.1.0)" in message and "msgpack" not in message


def test_a_class_instead_of_an_instance_is_refused() -> None:
    with pytest.raises(PluginError, match="is a class: pass an instance"):
        make_app(Contributor)


# --------------------------------------------------------------------------- middleware


def test_plugin_middleware_places_and_order() -> None:
    trace: list[str] = []

    def tag(name: str, position: Literal["outer", "inner"] = "outer", order: int = 0) -> PluginMiddleware:
        return PluginMiddleware(Middleware(Tag, name, trace), position=position, order=order)

    first = Contributor("first", middleware=[tag("first-outer"), tag("first-inner", "inner"), tag("first-early", order=-5)])
    second = Contributor("second", middleware=[tag("second-outer"), tag("second-inner", "inner", order=-1)])
    app = make_app(first, second, middleware=[Middleware(Tag, "app", trace)], routes=[Route("/", plain("ok"))])
    assert TestClient(app).get("/").text == "ok"
    assert trace == ["first-early", "first-outer", "second-outer", "app", "second-inner", "first-inner"]


def test_tryfirst_moves_a_plugin_ahead_in_plugin_order() -> None:
    trace: list[str] = []

    class Early:
        plugin_name = "early"

        @hookimpl(tryfirst=True).middleware
        def middleware(self, app: PluginApp) -> Sequence[PluginMiddleware]:
            return [PluginMiddleware(Middleware(Tag, "early", trace))]

    late = Contributor("late", middleware=[PluginMiddleware(Middleware(Tag, "late", trace))])
    app = make_app(late, Early(), routes=[Route("/", plain("ok"))])
    TestClient(app).get("/")
    assert trace == ["early", "late"]


def test_failing_plugin_middleware_is_one_500_and_the_app_keeps_serving() -> None:
    broken = Contributor("broken", middleware=[PluginMiddleware(Middleware(Broken), position="inner")])
    app = make_app(broken, routes=[Route("/", plain("ok"))])
    client = TestClient(app, raise_server_exceptions=False)
    for _ in range(2):
        response = client.get("/")
        assert (response.status_code, response.text) == (500, "Internal Server Error")


# --------------------------------------------------------------------------- routes, handlers, convertors


def test_plugin_routes_come_after_the_apps_own() -> None:
    sub = Router([Route("/status", plain("sub status"), name="status")])
    plugin = Contributor(
        "routes",
        routes=[Route("/shared", plain("plugin")), Route("/only-plugin", plain("plugin only")), Mount("/sub", sub, name="sub")],
    )
    app = make_app(plugin, routes=[Route("/shared", plain("app"))])

    @app.route("/late")
    def late(request: Request) -> Response:
        return PlainTextResponse("late")

    client = TestClient(app)
    assert client.get("/shared").text == "app"
    assert client.get("/only-plugin").text == "plugin only"
    assert client.get("/sub/status").text == "sub status"
    assert client.get("/late").text == "late"
    assert app.url_path_for("sub:status") == "/sub/status"
    assert len(app.routes) == 5  # added once, however often the stack is rebuilt
    app.build_middleware_stack()
    assert len(app.routes) == 5


class Oops(Exception):
    pass


def test_plugin_exception_handlers_and_who_wins() -> None:
    def handler(text: str, status: int) -> ExceptionHandler:
        def handle(request: Request, exc: Exception) -> Response:
            return PlainTextResponse(text, status_code=status)

        return handle

    async def oops(request: Request) -> Response:
        raise Oops()

    async def teapot(request: Request) -> Response:
        raise HTTPException(418)

    async def crash(request: Request) -> Response:
        raise RuntimeError("crash")

    first = Contributor("first", handlers={Oops: handler("first", 409), 418: handler("plugin teapot", 418)})
    second = Contributor("second", handlers={Oops: handler("second", 410), 500: handler("plugin 500", 500)})
    routes = [Route("/oops", oops), Route("/teapot", teapot), Route("/crash", crash)]
    client = TestClient(make_app(first, second, routes=routes), raise_server_exceptions=False)
    assert (client.get("/oops").status_code, client.get("/oops").text) == (409, "first")
    assert client.get("/teapot").text == "plugin teapot"
    assert client.get("/crash").text == "plugin 500"
    own = make_app(first, second, routes=routes, exception_handlers={Oops: handler("app", 400)})
    assert TestClient(own).get("/oops").text == "app"


class Slug(Convertor[str]):
    regex = "[a-z0-9]+(?:-[a-z0-9]+)*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class OtherSlug(Slug):
    pass


def test_plugin_convertors_serve_routes_added_to_the_app() -> None:
    app = make_app(Contributor("slugs", convertors={"slug": Slug()}))
    app.add_route("/posts/{name:slug}", plain("post"))
    client = TestClient(app)
    assert client.get("/posts/hello-world").text == "post"
    assert client.get("/posts/Not_A_Slug").status_code == 404
    make_app(Contributor("slugs", convertors={"slug": Slug()}))  # the same kind again: fine
    with pytest.raises(PluginError, match="'clash'.*redefines path convertor 'slug'"):
        make_app(Contributor("clash", convertors={"slug": OtherSlug()}))
    with pytest.raises(PluginError, match="redefines path convertor 'int'"):
        make_app(Contributor("clash", convertors={"int": Slug()}))


# --------------------------------------------------------------------------- renderers and decoders


class Table:
    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows


def csv(table: Table) -> bytes:
    return "\n".join(",".join(row) for row in table.rows).encode()


def tagged(value: object) -> bytes:
    return b"tagged:" + json.dumps(value).encode()


def test_renderers_by_type_and_by_accept() -> None:
    plugin = Contributor(
        "render",
        renderers=[ResponseRenderer("text/csv", csv, types=(Table,)), ResponseRenderer("application/x-tagged", tagged)],
    )
    app = make_app(plugin)

    @app.get("/table")
    async def table() -> Table:
        return Table([["a", "b"], ["1", "2"]])

    @app.get("/data")
    async def data() -> dict[str, int]:
        return {"n": 1}

    client = TestClient(app)
    response = client.get("/table", headers={"accept": "application/json"})  # a type match wins over Accept
    assert (response.headers["content-type"], response.text) == ("text/csv; charset=utf-8", "a,b\n1,2")
    assert client.get("/data").json() == {"n": 1}
    assert client.get("/data", headers={"accept": "*/*"}).json() == {"n": 1}  # JSON wins ties
    negotiated = client.get("/data", headers={"accept": "application/json;q=0.5, application/x-tagged"})
    assert (negotiated.content, negotiated.headers["vary"]) == (b'tagged:{"n": 1}', "accept")
    assert client.get("/data", headers={"accept": "application/*;q=0.2, application/x-tagged;q=0.1"}).json() == {"n": 1}
    assert client.get("/data", headers={"accept": "application/x-tagged;q=bogus"}).json() == {"n": 1}
    assert find_renderer(app, dict, "application/x-tagged") is not None
    assert find_renderer(app, Table, None) is not None
    assert find_renderer(app, dict, "text/html") is None


def test_a_failing_renderer_names_its_plugin() -> None:
    def broken(value: object) -> bytes:
        raise ValueError("cannot render")

    app = make_app(Contributor("badrender", renderers=[ResponseRenderer("application/x-bad", broken)]))

    @app.get("/")
    async def data() -> dict[str, int]:
        return {}

    with pytest.raises(ValueError, match="cannot render") as raised:
        TestClient(app).get("/", headers={"accept": "application/x-bad"})
    assert "with plugin 'badrender'" in "".join(raised.value.__notes__)


def test_body_decoders_are_registered_by_media_type() -> None:
    def decode(body: bytes, annotation: Any) -> object:
        return body.decode()

    app = make_app(Contributor("decode", decoders=[BodyDecoder(("application/X-Text",), decode)]))
    TestClient(app).get("/")
    assert app.body_decoders["application/x-text"](b"hi", str) == "hi"


# --------------------------------------------------------------------------- lifespan and notification


def test_plugin_lifespans_wrap_the_apps_own_and_share_state() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: TypedASGI) -> AsyncIterator[dict[str, str]]:
        events.append("app start")
        yield {"own": "app"}
        events.append("app stop")

    async def show(request: Request) -> Response:
        return PlainTextResponse(f"{request.state['pool']} {request.state['own']}")

    first = Contributor("first", events=events, state={"pool": "db"})
    second = Contributor("second", events=events)
    app = make_app(first, second, lifespan=lifespan, routes=[Route("/", show)])
    with TestClient(app) as client:
        assert client.get("/").text == "db app"
        assert events == ["first start", "second start", "app start"]
    assert events[3:] == ["app stop", "second stop", "first stop"]


def test_plugin_lifespan_runs_without_an_app_lifespan_and_failures_name_the_plugin() -> None:
    events: list[str] = []
    with TestClient(make_app(Contributor("solo", events=events))):
        pass
    assert events == ["solo start", "solo stop"]

    class FailsToStart:
        plugin_name = "fragile"
        database_up = False

        @hookimpl.lifespan
        @contextlib.asynccontextmanager
        async def lifespan(self, app: PluginApp) -> AsyncIterator[Mapping[str, Any] | None]:
            if not self.database_up:
                raise ConnectionError("no database")
            yield None

    with pytest.raises(PluginError, match="'fragile' .*failed to start \\(lifespan\\): ConnectionError: no database"):
        with TestClient(make_app(FailsToStart())):
            pass


def test_app_configured_is_notified_once_with_final_routes() -> None:
    seen: list[int] = []

    class Watcher:
        plugin_name = "watcher"

        @hookimpl.app_configured
        def configured(self, app: PluginApp) -> None:
            seen.append(len(app.routes))

    app = make_app(Watcher(), Contributor("routes", routes=[Route("/p", plain("p"))]), routes=[Route("/", plain("ok"))])
    client = TestClient(app)
    client.get("/")
    client.get("/p")
    assert seen == [2]


# --------------------------------------------------------------------------- hooks of plugins' own


class Greetings:
    """A plugin that adds a hook for other plugins, and calls it typed."""

    plugin_name = "greetings"

    def __init__(self) -> None:
        self.greeted: list[str] = []

    @hookimpl.add_hookspecs
    def add_hookspecs(self, pluginmanager: pluggy.PluginManager) -> None:
        pluginmanager.add_hookspecs(GreetingSpecs)

    @hookimpl.app_configured
    def configured(self, app: PluginApp) -> None:
        self.greeted = [name for names in app.plugins.call(GreetingSpecs.greetings_names, app=app) for name in names]


class GreetingSpecs:
    @staticmethod
    @hookspec
    def greetings_names(app: PluginApp) -> Sequence[str]:
        raise NotImplementedError


greeting = HookImplDecorator(GreetingSpecs.greetings_names, optionalhook=True)


class Greeted:
    def __init__(self, name: str) -> None:
        self.plugin_name = name

    @greeting
    def names(self, app: PluginApp) -> Sequence[str]:
        return [self.plugin_name]


def test_a_plugin_adds_a_hook_for_other_plugins() -> None:
    greetings = Greetings()
    app = make_app(Greeted("ada"), greetings, Greeted("grace"))
    TestClient(app).get("/")
    assert greetings.greeted == ["ada", "grace"]
    assert make_app(Greeted("alone")).plugins.names == ("alone",)  # optional: loads without the hook's owner


def test_implementing_an_unknown_hook_or_bad_arguments_names_the_plugin() -> None:
    untyped = pluggy.HookimplMarker("typedasgi")

    class Typo:
        plugin_name = "typo"

        @untyped
        def typedasgi_rutes(self, app: PluginApp) -> list[BaseRoute]:
            return []

    class BadArgs:
        plugin_name = "badargs"

        @untyped
        def typedasgi_routes(self, application: PluginApp) -> list[BaseRoute]:
            return []

    class Wrapper:
        plugin_name = "wrapper"

        @untyped(wrapper=True)
        def typedasgi_routes(self, app: PluginApp) -> Iterator[None]:
            yield

    with pytest.raises(PluginError, match="'typo' .*implements a hook nobody specified"):
        make_app(Typo())
    with pytest.raises(PluginError, match="(?s)'badargs' .*cannot be registered.*application"):
        make_app(BadArgs())
    with pytest.raises(PluginError, match="'wrapper' .*hooks take no wrappers"):
        TestClient(make_app(Wrapper())).get("/")


# --------------------------------------------------------------------------- errors naming plugin and distribution


def test_a_plugin_that_fails_to_import_names_itself_and_its_distribution(site: Callable[..., str]) -> None:
    site("typedasgi-broken", "1.2.3", {"broken": "broken"}, {"broken": "raise ImportError('missing dependency')\n"})
    with pytest.raises(PluginError) as raised:
        TypedASGI(autoload_plugins=True)
    message = str(raised.value)
    assert "Plugin 'broken' (distribution typedasgi-broken 1.2.3" in message
    assert "failed to import" in message and "missing dependency" in message
    assert (raised.value.plugin, raised.value.distribution) == ("broken", "typedasgi-broken")
    assert TypedASGI(autoload_plugins=True, blocked_plugins=["broken"]).plugins  # blocking is the way out


def test_a_plugin_raising_in_a_hook_names_itself_and_its_distribution(site: Callable[..., str]) -> None:
    source = "from typedasgi.hooks import hookimpl\n@hookimpl.routes\ndef routes(app):\n    raise KeyError('config')\n"
    site("typedasgi-raiser", "0.3", {"raiser": "raiser"}, {"raiser": source})
    app = TypedASGI(autoload_plugins=True)
    with pytest.raises(PluginError) as raised:
        TestClient(app).get("/")
    assert str(raised.value).startswith(
        "Plugin 'raiser' (distribution typedasgi-raiser 0.3, entry point) failed in hook typedasgi_routes: KeyError"
    )


def test_an_explicit_plugin_raising_names_itself() -> None:
    class Raiser:
        plugin_name = "explicit-raiser"

        @hookimpl.middleware
        def middleware(self, app: PluginApp) -> Sequence[PluginMiddleware]:
            raise ValueError("bad setting")

    with pytest.raises(PluginError, match="'explicit-raiser' \\(no installed distribution, explicit\\) failed in hook"):
        make_app(Raiser()).build_middleware_stack()


def test_a_wrong_result_type_names_the_plugin() -> None:
    class Sloppy:
        plugin_name = "sloppy"

        @pluggy.HookimplMarker("typedasgi")
        def typedasgi_routes(self, app: PluginApp) -> object:
            return ["/not-a-route"]

    with pytest.raises(PluginError, match="'sloppy' .*returned '/not-a-route' from typedasgi_routes, expected a BaseRoute"):
        make_app(Sloppy()).build_middleware_stack()


# --------------------------------------------------------------------------- the decorators match the specs


def test_every_spec_has_a_typed_decorator_and_the_other_way_round() -> None:
    specs = {name for name in dir(hooks) if name.startswith("typedasgi_") and hasattr(getattr(hooks, name), "typedasgi_spec")}
    decorators = {value.specname for value in vars(hookimpl).values() if isinstance(value, HookImplDecorator)}
    assert specs == decorators
    assert len(specs) == 9
    early = hookimpl(trylast=True).routes

    def impl(app: PluginApp) -> Sequence[BaseRoute]:
        return []

    assert early(impl) is impl
    assert getattr(impl, "typedasgi_impl")["trylast"] is True
    assert getattr(impl, "typedasgi_impl")["specname"] == "typedasgi_routes"


# --------------------------------------------------------------------------- the CLI and a real server


def test_cli_lists_installed_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_run(["plugins"]) == 0
    out = capsys.readouterr().out
    health = next(line for line in out.splitlines() if line.startswith("health "))
    assert "typedasgi-health" in health and "0.1.0" in health and "typedasgi_routes" in health
    assert cli_run(["plugins", "--json"]) == 0
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert FIRST_PARTY <= set(listed)
    assert listed["health"]["adds_hooks"] == ["typedasgi_health_checks"]
    assert listed["requestid"]["hooks"] == ["typedasgi_middleware"]
    assert listed["msgpack"]["distribution"] == "typedasgi-msgpack"


def test_cli_reports_a_broken_plugin(site: Callable[..., str], capsys: pytest.CaptureFixture[str]) -> None:
    site("typedasgi-broken", "1.0", {"broken": "broken"}, {"broken": "raise ImportError('nope')\n"})
    assert cli_run(["plugins"]) == 1
    out = capsys.readouterr().out
    assert "broken" in out and "typedasgi-broken" in out and "nope" in out
    assert "health" in out  # the others are still listed


def test_an_installed_plugin_changes_a_running_app_without_code_changes(
    serve: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    monkeypatch.delenv(BLOCKED_ENV, raising=False)
    with serve("examples.hello:app") as base:
        status, headers, body = http_get(base + "/health/ready")
        assert (status, json.loads(body)) == (200, {"status": "ok", "checks": {}})
        status, headers, _ = http_get(base + "/")
        assert status == 200 and len(headers["x-request-id"]) == 32
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    with serve("examples.hello:app") as base:
        assert http_get(base + "/health/ready")[0] == 404
        assert "x-request-id" not in {key.lower() for key in http_get(base + "/")[1]}

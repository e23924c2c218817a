"""Plugin hooks keep their spec's types: for the plugin writing them, and for the code calling them.

mypy checks this module (``assert_type`` lines are the assertions); pytest then
runs the same plugins in an app, so the typed view and the run-time one agree.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from typing_extensions import assert_type

from typedasgi.applications import TypedASGI
from typedasgi.hooks import (
    BodyDecoder,
    PluginApp,
    PluginMiddleware,
    ResponseRenderer,
    hookimpl,
    typedasgi_lifespan,
    typedasgi_middleware,
    typedasgi_renderers,
    typedasgi_routes,
)
from typedasgi.plugins import find_renderer
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import BaseRoute, Mount, Route
from typedasgi.testclient import TestClient
from typedasgi_health import HealthPlugin, ReadinessCheck, health_hookimpl
from typedasgi_health.hookspecs import typedasgi_health_checks


async def hello(request: Request) -> Response:
    return PlainTextResponse("hello from a plugin")


@hookimpl.routes
def routes(app: PluginApp) -> Sequence[BaseRoute]:
    return [Route("/plugin", hello)]


@hookimpl(trylast=True).middleware
def middleware(app: PluginApp) -> Sequence[PluginMiddleware]:
    return []


@hookimpl.lifespan
@contextlib.asynccontextmanager
async def lifespan(app: PluginApp) -> AsyncGenerator[dict[str, int], None]:
    yield {"answer": 42}


class Table:
    rows: list[str] = []


def render_table(table: Table) -> bytes:
    return "\n".join(table.rows).encode()


async def always() -> bool:
    return True


class Plugin:
    """Methods work too: ``self`` comes first, the rest is the spec's."""

    plugin_name = "typed"

    @hookimpl.renderers
    def renderers(self, app: PluginApp) -> Sequence[ResponseRenderer[Any]]:
        return [ResponseRenderer("text/x-table", render_table, types=(Table,))]

    @health_hookimpl.checks
    def checks(self, app: PluginApp) -> Sequence[ReadinessCheck]:
        return [ReadinessCheck("always", always)]


def decorated(app: PluginApp) -> None:
    """The decorators type each implementation by its spec: a function and a bound method alike."""
    assert_type(routes(app), Sequence[BaseRoute])  # declared as the spec says, whatever the body builds
    assert_type(middleware(app), Sequence[PluginMiddleware])
    assert_type(lifespan(app), AbstractAsyncContextManager[Mapping[str, Any] | None, bool | None])
    assert_type(Plugin().renderers(app), Sequence[ResponseRenderer[Any]])
    assert_type(Plugin().checks(app), Sequence[ReadinessCheck])
    assert_type(ResponseRenderer("text/x-table", render_table, types=(Table,)), ResponseRenderer[Table])
    assert_type(BodyDecoder(("text/plain",), lambda body, annotation: body.decode()).decode(b"", str), object)
    as_hook: Callable[[PluginApp], Sequence[BaseRoute]] = routes
    assert_type(as_hook(app), Sequence[BaseRoute])


def calls(app: TypedASGI) -> None:
    """Calling hooks: results are typed by the spec passed, typedasgi's own or a plugin's."""
    assert_type(app.plugins.call(typedasgi_routes, app=app), list[Sequence[BaseRoute]])
    assert_type(app.plugins.call(typedasgi_middleware, app=app), list[Sequence[PluginMiddleware]])
    assert_type(app.plugins.call(typedasgi_renderers, app=app), list[Sequence[ResponseRenderer[Any]]])
    assert_type(
        app.plugins.call(typedasgi_lifespan, app=app),
        list[AbstractAsyncContextManager[Mapping[str, Any] | None, bool | None]],
    )
    assert_type(app.plugins.call(typedasgi_health_checks, app=app), list[Sequence[ReadinessCheck]])
    assert_type(find_renderer(app, Table, "text/x-table"), ResponseRenderer[Any] | None)
    as_plugin_app: PluginApp = app  # the app is what hooks receive
    assert_type(as_plugin_app.plugins.call(typedasgi_routes, app=as_plugin_app), list[Sequence[BaseRoute]])


def test_the_typed_plugins_run_as_typed() -> None:
    app = TypedASGI(plugins=[sys.modules[__name__], Plugin(), HealthPlugin()], autoload_plugins=False)
    mine, health = app.plugins.call(typedasgi_routes, app=app)  # plugin order
    assert [route.path for route in mine if isinstance(route, Route)] == ["/plugin"]
    assert [route.path for route in health if isinstance(route, Mount)] == ["/health"]
    assert app.plugins.call(typedasgi_health_checks, app=app)[0][0].name == "always"
    with TestClient(app) as client:
        assert client.get("/plugin").text == "hello from a plugin"
        assert client.get("/health/ready").json() == {"status": "ok", "checks": {"always": "ok"}}
    assert find_renderer(app, Table, None) is not None

"""Expected errors: a plugin hook whose signature does not fit its spec is a mypy error in the plugin's code.

``typedasgi.hooks.hookimpl.<hook>`` is typed with the spec's parameters and
return type, so the error points at the implementation's decorator; calling a
hook through ``app.plugins.call`` is checked against the spec as well.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Sequence

from typedasgi.applications import TypedASGI
from typedasgi.hooks import PluginApp, PluginMiddleware, ResponseRenderer, hookimpl, typedasgi_routes
from typedasgi.middleware import Middleware
from typedasgi.routing import BaseRoute
from typedasgi.types import ASGIApp, Receive, Scope, Send
from typedasgi_health import ReadinessCheck, health_hookimpl


@hookimpl.routes  # E: arg-type: "def renamed(application: PluginApp) -> Sequence[BaseRoute]"; expected "def (app: PluginApp) -> Sequence[BaseRoute]" ## reportArgumentType
def renamed(application: PluginApp) -> Sequence[BaseRoute]:
    return []


@hookimpl.middleware  # E: arg-type: "Callable[[TypedASGI], Sequence[PluginMiddleware]]"; expected "Callable[[PluginApp], Sequence[PluginMiddleware]]" ## reportArgumentType
def wrong_parameter_type(app: TypedASGI) -> Sequence[PluginMiddleware]:
    return []


@hookimpl.routes  # E: arg-type: "Callable[[PluginApp], list[str]]"; expected "Callable[[PluginApp], Sequence[BaseRoute]]" ## reportArgumentType
def wrong_return(app: PluginApp) -> list[str]:
    return []


@hookimpl.routes  # E: arg-type: "Callable[[], Sequence[BaseRoute]]" ## reportArgumentType
def missing_parameter() -> Sequence[BaseRoute]:
    return []


@hookimpl.lifespan  # E: arg-type: "Callable[[PluginApp], Coroutine[Any, Any, None]]"; expected "Callable[[PluginApp], AbstractAsyncContextManager[ ## reportArgumentType
async def not_a_context_manager(app: PluginApp) -> None:
    pass


@hookimpl.lifespan  # E: arg-type: "Callable[[PluginApp], _AsyncGeneratorContextManager[list[str], None]]" ## reportArgumentType
@contextlib.asynccontextmanager
async def yields_a_list(app: PluginApp) -> AsyncGenerator[list[str]]:
    yield []


class Plugin:
    @hookimpl.routes  # E: arg-type: "Callable[[Plugin, PluginApp], Sequence[str]]"; expected "Callable[[PluginApp], Sequence[BaseRoute]]" ## reportArgumentType
    def method_wrong_return(self, app: PluginApp) -> Sequence[str]:
        return []

    @hookimpl.app_configured  # E: arg-type: "Callable[[Plugin, str], None]"; expected "Callable[[PluginApp], None]" ## reportArgumentType
    def method_wrong_parameter(self, app: str) -> None:
        pass


class HealthUser:
    """A plugin's own hook (typedasgi-health's) is typed the same way."""

    @health_hookimpl.checks  # E: arg-type: expected "Callable[[PluginApp], Sequence[ReadinessCheck]]" ## reportArgumentType
    def checks(self, app: PluginApp) -> Sequence[str]:
        return []


class Passthrough:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def render_int(value: int) -> bytes:
    return b""


def sync_check() -> bool:
    return True


renderer = ResponseRenderer("text/plain", render_int, types=(str,))  # E: arg-type: "Callable[[int], bytes]"; expected "Callable[[str], bytes]" ## reportArgumentType
middleware = PluginMiddleware(Middleware(Passthrough), position="middle")  # E: arg-type: expected "Literal['outer', 'inner']" ## reportArgumentType
check = ReadinessCheck("db", sync_check)  # E: arg-type: expected "Callable[[], Awaitable[bool]]" ## reportArgumentType


def calling(app: TypedASGI) -> None:
    app.plugins.call(typedasgi_routes, application=app)  # E: call-arg: Unexpected keyword argument "application" ## reportCallIssue
    app.plugins.call(typedasgi_routes, app=object())  # E: arg-type: Argument "app" to "call" of "AppPlugins" has incompatible type "object" ## reportArgumentType
    routes: list[str] = app.plugins.call(typedasgi_routes, app=app)  # E: arg-type: "Callable[[PluginApp], Sequence[BaseRoute]]" ## reportAssignmentType

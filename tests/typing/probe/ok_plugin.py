"""A plugin: routes and middleware through typed hooks."""

from collections.abc import Sequence

from typedasgi.hooks import PluginApp, PluginMiddleware, hookimpl
from typedasgi.middleware import Middleware
from typedasgi.middleware.gzip import GZipMiddleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import BaseRoute, Route


async def version(request: Request) -> Response:
    return PlainTextResponse("1.0")


class VersionPlugin:
    @hookimpl.routes
    def routes(self, app: PluginApp) -> Sequence[BaseRoute]:
        return [Route("/version", version)]

    @hookimpl.middleware
    def middleware(self, app: PluginApp) -> Sequence[PluginMiddleware]:
        return [PluginMiddleware(Middleware(GZipMiddleware, minimum_size=100), position="outer")]

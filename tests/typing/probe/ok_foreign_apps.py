"""Apps and middleware typed with asgiref's types or with plain dicts (Starlette's style) plug into typedasgi."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from asgiref.typing import Scope as AsgirefScope
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware as StarletteCORS
from starlette.middleware.gzip import GZipMiddleware as StarletteGZip

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.middleware.gzip import GZipMiddleware
from typedasgi.routing import Mount
from typedasgi.testclient import TestClient


async def asgiref_app(scope: AsgirefScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
    await send({"type": "http.response.body", "body": b"asgiref", "more_body": False})


async def dict_app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"dict"})


app = TypedASGI(
    routes=[Mount("/a", asgiref_app), Mount("/d", dict_app), Mount("/s", Starlette())],
    middleware=[Middleware(StarletteCORS, allow_origins=["*"])],  # a middleware typed with Starlette's types
)
app.add_middleware(StarletteGZip, minimum_size=100)
compressed = GZipMiddleware(Starlette())
client = TestClient(Starlette())

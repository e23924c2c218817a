"""Apps typed with asgiref's types or with plain dicts (Starlette's style) mount in typedasgi."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from asgiref.typing import Scope as AsgirefScope
from starlette.applications import Starlette

from typedasgi.applications import TypedASGI
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


app = TypedASGI(routes=[Mount("/a", asgiref_app), Mount("/d", dict_app), Mount("/s", Starlette())])
compressed = GZipMiddleware(Starlette())
client = TestClient(Starlette())

"""Positive typing cases for the ASGI interface (checked by mypy --strict as part of the tree).

The runtime test at the bottom only makes pytest collect this module; the
proof is that mypy accepts every assignment below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from asgiref.typing import ASGI3Application
from asgiref.typing import ASGIReceiveCallable as AsgirefReceive
from asgiref.typing import ASGISendCallable as AsgirefSend
from asgiref.typing import Scope as AsgirefScope
from granian.constants import Interfaces
from granian.server.embed import Server as GranianServer
from hypercorn.asyncio import serve as hypercorn_serve  # pyright: ignore[reportUnknownVariableType]  # hypercorn's WSGI type is partly unknown
from hypercorn.config import Config as HypercornConfig
from starlette.middleware.gzip import GZipMiddleware as StarletteGZip
from typing_extensions import assert_type

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.routing import Mount, Route
from typedasgi.testclient import TestClient
from typedasgi.types import AnyASGIApp, ASGIApp, HTTPScope, Receive, ReceiveEvent, Scope, Send

# -- a TypedASGI app is accepted by uvicorn's, asgiref's, hypercorn's and granian's typed entry points

app = TypedASGI()
as_asgiref: ASGI3Application = app
uvicorn_config = uvicorn.Config(app)
granian_server = GranianServer(app, interface=Interfaces.ASGI)


async def serve_with_hypercorn() -> None:
    await hypercorn_serve(app, HypercornConfig())


def serve_with_uvicorn() -> None:
    uvicorn.run(app)


# -- apps written against asgiref's types (every key required) are accepted where typedasgi takes an app

async def asgiref_app(scope: AsgirefScope, receive: AsgirefReceive, send: AsgirefSend) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 204, "headers": [], "trailers": False})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


foreign_from_asgiref: AnyASGIApp = asgiref_app
mounted = Mount("/asgiref", app=asgiref_app)
client_for_asgiref_app = TestClient(asgiref_app)


# -- apps typed with plain dicts (Starlette, FastAPI, ...) are accepted where typedasgi takes an app

async def dict_typed_app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"dict"})


mounted_dict_app = Mount("/dict", app=dict_typed_app)
client_for_dict_app = TestClient(dict_typed_app)
route_to_dict_app = Route("/dict", dict_typed_app)


# -- narrowing by "type" ---------------------------------------------------------------

async def narrowing(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        assert_type(scope, HTTPScope)
        assert_type(scope["method"], str)
    message = await receive()
    assert_type(message, ReceiveEvent)
    if message["type"] == "http.request":
        assert_type(message.get("body", b""), bytes)
        assert_type(message.get("more_body", False), bool)


# -- the minimal messages of the spec --------------------------------------------------

async def minimal(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"hi"})
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body"})
    elif scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hi"})
        await send({"type": "websocket.close"})
    else:
        await send({"type": "lifespan.startup.failed"})


# -- middleware declarations are checked against the middleware's __init__ ------------------

class Prefix:
    def __init__(self, app: ASGIApp, prefix: str, *, strict: bool = False) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


ok_middleware = Middleware(Prefix, "/api", strict=True)


def test_the_dict_typed_app_really_runs() -> None:
    client = TestClient(TypedASGI(routes=[mounted_dict_app]))
    assert client.get("/dict/x").text == "dict"


def test_the_minimal_messages_make_a_response() -> None:
    async def minimal_http(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"hi"})

    response = TestClient(minimal_http).get("/")
    assert (response.status_code, response.text) == (200, "hi")


def test_a_starlette_typed_middleware_runs_in_a_typedasgi_app() -> None:
    async def hello(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"x" * 1000})

    app = TypedASGI(routes=[Route("/", hello)], middleware=[Middleware(StarletteGZip, minimum_size=100)])
    response = TestClient(app, check_asgi=True).get("/", headers={"accept-encoding": "gzip"})
    assert (response.headers["content-encoding"], response.text) == ("gzip", "x" * 1000)

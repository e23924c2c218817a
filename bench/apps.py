"""The same endpoints written three ways: raw ASGI, typedasgi and Starlette.

    GET /               text/plain "Hello, world!"
    GET /json           {"message": "Hello, world!"}
    GET /users/{id:int} {"id": id}
    GET /r{i} | /r{i}/{x}   50 routes; the benchmark hits the last, /r49/{x}
    POST /echo          ~1 KB JSON decoded into a msgspec.Struct and sent back
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Route
from typedasgi.types import ASGIApp, Receive, Scope, Send

N_ROUTES = 50


class Address(msgspec.Struct):
    street: str
    city: str
    postcode: str
    country: str


class Item(msgspec.Struct):
    sku: str
    quantity: int
    price: float
    note: str


class Order(msgspec.Struct):
    id: int
    name: str
    email: str
    active: bool
    score: float
    tags: list[str]
    address: Address
    items: list[Item]


def order_body() -> bytes:
    items = [Item(f"SKU-{i:05d}", i + 1, round(9.99 + i * 3.25, 2), f"item number {i} of the order") for i in range(9)]
    order = Order(
        123456, "Ada Lovelace", "ada.lovelace@example.org", True, 97.25,
        ["alpha", "beta", "gamma", "delta", "epsilon"],
        Address("12 Analytical Engine Road", "London", "NW1 2DB", "GB"), items,
    )
    return msgspec.json.encode(order)


# ----------------------------------------------------------------------------- raw ASGI

_encode = msgspec.json.encode
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_JSON = (b"content-type", b"application/json")


async def _reply(send: Send, header: tuple[bytes, bytes], body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "trailers": False,
         "headers": [header, (b"content-length", str(len(body)).encode())]}
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The floor: a dict lookup, one partition, msgspec; no objects per request."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/":
        await _reply(send, _TEXT, b"Hello, world!")
    elif path == "/json":
        await _reply(send, _JSON, _encode({"message": "Hello, world!"}))
    elif path == "/echo":
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message["body"])
            if not message["more_body"]:
                break
        await _reply(send, _JSON, _encode(msgspec.json.decode(b"".join(chunks), type=Order)))
    else:
        head, _, tail = path[1:].partition("/")
        if head == "users":
            await _reply(send, _JSON, _encode({"id": int(tail)}))
        else:
            await _reply(send, _TEXT, f"{head}:{tail}".encode())


# ----------------------------------------------------------------------------- typedasgi

async def plaintext(request: Request) -> Response:
    return PlainTextResponse("Hello, world!")


async def json_hello(request: Request) -> Response:
    return JSONResponse({"message": "Hello, world!"})


async def user(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"]})


async def echo(request: Request) -> Response:
    return JSONResponse(await request.json(Order))


def _routing_endpoint(i: int) -> Callable[[Request], Awaitable[Response]]:
    label = f"r{i}"

    async def endpoint(request: Request) -> Response:
        if i % 2:
            return PlainTextResponse(f"{label}:{request.path_params['x']}")
        return PlainTextResponse(label)

    return endpoint


def typedasgi_app() -> ASGIApp:
    routes = [
        Route("/", plaintext),
        Route("/json", json_hello),
        Route("/users/{id:int}", user),
        Route("/echo", echo, methods=["POST"]),
    ]
    for i in range(N_ROUTES):
        routes.append(Route(f"/r{i}/{{x}}" if i % 2 else f"/r{i}", _routing_endpoint(i)))
    return TypedASGI(routes=routes)


# ----------------------------------------------------------------------------- Starlette

def starlette_app() -> Any:  # Starlette is untyped here on purpose: it is optional
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse as SJSON
    from starlette.responses import PlainTextResponse as SText
    from starlette.routing import Route as SRoute

    async def s_plain(request: Any) -> Any:
        return SText("Hello, world!")

    async def s_json(request: Any) -> Any:
        return SJSON({"message": "Hello, world!"})

    async def s_user(request: Any) -> Any:
        return SJSON({"id": request.path_params["id"]})

    async def s_echo(request: Any) -> Any:
        return SJSON(await request.json())

    def s_routing(i: int) -> Any:
        async def endpoint(request: Any) -> Any:
            return SText(f"r{i}:{request.path_params['x']}" if i % 2 else f"r{i}")

        return endpoint

    routes = [SRoute("/", s_plain), SRoute("/json", s_json), SRoute("/users/{id:int}", s_user),
              SRoute("/echo", s_echo, methods=["POST"])]
    routes += [SRoute(f"/r{i}/{{x}}" if i % 2 else f"/r{i}", s_routing(i)) for i in range(N_ROUTES)]
    return Starlette(routes=routes)

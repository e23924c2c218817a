"""The same endpoints written three ways: raw ASGI, typedasgi and Starlette.

    GET /               text/plain "Hello, world!"
    GET /json           {"message": "Hello, world!"}
    GET /users/{id:int} {"id": id}
    GET /r{i} | /r{i}/{x}   50 routes; the benchmark hits the last, /r49/{x}
    POST /echo          ~1 KB JSON decoded into a msgspec.Struct and sent back
    GET /typed/users/{id:int}?limit=N   typed handler: a path and a query parameter
    POST /typed/echo    typed handler: the ~1 KB body as a Struct parameter, returned

Litestar and FastAPI (the ``bench`` extra) are optional: each is skipped when
it is not installed. Starlette has no typed handlers, so its "typed" rows read
and convert by hand, as a Starlette app would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

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
    elif path == "/echo" or path == "/typed/echo":
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
        if head == "typed":  # /typed/users/{id}?limit=N
            query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
            limit = int(query.get("limit", 10))
            await _reply(send, _JSON, _encode({"id": int(tail.rpartition("/")[2]), "limit": limit}))
        elif head == "users":
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


class UserPage(msgspec.Struct):
    id: int
    limit: int


async def typed_user(id: int, limit: int = 10) -> UserPage:
    return UserPage(id, limit)


async def typed_echo(order: Order) -> Order:
    return order


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
        Route("/typed/users/{id:int}", typed_user),
        Route("/typed/echo", typed_echo, methods=["POST"]),
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

    async def s_typed_user(request: Any) -> Any:
        return SJSON({"id": request.path_params["id"], "limit": int(request.query_params.get("limit", 10))})

    def s_routing(i: int) -> Any:
        async def endpoint(request: Any) -> Any:
            return SText(f"r{i}:{request.path_params['x']}" if i % 2 else f"r{i}")

        return endpoint

    routes = [SRoute("/", s_plain), SRoute("/json", s_json), SRoute("/users/{id:int}", s_user),
              SRoute("/echo", s_echo, methods=["POST"]), SRoute("/typed/echo", s_echo, methods=["POST"]),
              SRoute("/typed/users/{id:int}", s_typed_user)]
    routes += [SRoute(f"/r{i}/{{x}}" if i % 2 else f"/r{i}", s_routing(i)) for i in range(N_ROUTES)]
    return Starlette(routes=routes)


# ----------------------------------------------------------------------------- Litestar (optional)

def litestar_app() -> Any:  # untyped here: Litestar is optional (the ``bench`` extra)
    from litestar import Litestar, MediaType, get, post

    @get("/", media_type=MediaType.TEXT, sync_to_thread=False)
    def l_plain() -> str:
        return "Hello, world!"

    @get("/json", sync_to_thread=False)
    def l_json() -> dict[str, str]:
        return {"message": "Hello, world!"}

    @get("/users/{id:int}", sync_to_thread=False)
    def l_user(id: int) -> dict[str, int]:
        return {"id": id}

    @post("/echo", status_code=200, sync_to_thread=False)
    def l_echo(data: Order) -> Order:
        return data

    @post("/typed/echo", status_code=200)
    async def l_typed_echo(data: Order) -> Order:
        return data

    @get("/typed/users/{id:int}")
    async def l_typed_user(id: int, limit: int = 10) -> UserPage:
        return UserPage(id, limit)

    def l_routing(i: int) -> Any:
        if i % 2:
            @get(f"/r{i}/{{x:str}}", media_type=MediaType.TEXT, name=f"r{i}", sync_to_thread=False)
            def with_param(x: str) -> str:
                return f"r{i}:{x}"

            return with_param

        @get(f"/r{i}", media_type=MediaType.TEXT, name=f"r{i}", sync_to_thread=False)
        def static() -> str:
            return f"r{i}"

        return static

    handlers = [l_plain, l_json, l_user, l_echo, l_typed_echo, l_typed_user]
    handlers += [l_routing(i) for i in range(N_ROUTES)]
    return Litestar(route_handlers=handlers, openapi_config=None, logging_config=None)


# ----------------------------------------------------------------------------- FastAPI (optional)

def fastapi_app() -> Any:  # untyped here: FastAPI is optional (the ``bench`` extra)
    import pydantic
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse as FText

    class PAddress(pydantic.BaseModel):
        street: str
        city: str
        postcode: str
        country: str

    class PItem(pydantic.BaseModel):
        sku: str
        quantity: int
        price: float
        note: str

    class POrder(pydantic.BaseModel):
        id: int
        name: str
        email: str
        active: bool
        score: float
        tags: list[str]
        address: PAddress
        items: list[PItem]

    class PUserPage(pydantic.BaseModel):
        id: int
        limit: int

    app = FastAPI(openapi_url=None)

    @app.get("/", response_class=FText)
    async def f_plain() -> str:
        return "Hello, world!"

    @app.get("/json")
    async def f_json() -> dict[str, str]:
        return {"message": "Hello, world!"}

    @app.get("/users/{id}")
    async def f_user(id: int) -> dict[str, int]:
        return {"id": id}

    async def f_echo(order: POrder) -> POrder:
        return order

    async def f_typed_user(id: int, limit: int = 10) -> PUserPage:
        return PUserPage(id=id, limit=limit)

    # The models are local (pydantic is optional), so the postponed annotations are set by hand.
    f_echo.__annotations__ = {"order": POrder, "return": POrder}
    f_typed_user.__annotations__ = {"id": int, "limit": int, "return": PUserPage}
    app.post("/echo")(f_echo)
    app.post("/typed/echo")(f_echo)
    app.get("/typed/users/{id}")(f_typed_user)

    def f_routing(i: int) -> None:
        if i % 2:
            @app.get(f"/r{i}/{{x}}", response_class=FText)
            async def with_param(x: str) -> str:
                return f"r{i}:{x}"
        else:
            @app.get(f"/r{i}", response_class=FText)
            async def static() -> str:
                return f"r{i}"

    for i in range(N_ROUTES):
        f_routing(i)
    return app

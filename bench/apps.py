"""The same endpoints written three ways: raw ASGI, typedasgi and Starlette.

    GET /               text/plain "Hello, world!"
    GET /json           {"message": "Hello, world!"}
    GET /users/{id:int} {"id": id}
    GET /r{i} | /r{i}/{x}   500 routes; "routing" hits /r49/{x}, "routing-500" the last, /r499/{x}
    POST /echo          ~1 KB JSON decoded into a msgspec.Struct and sent back
    GET /plain/users/{id:int}?limit=N   plain handler: the path and query parameter read by hand
    GET /typed/users/{id:int}?limit=N   typed handler: the same as parameters (plain-params is its plain twin)
    POST /typed/echo    typed handler: the ~1 KB body as a Struct parameter, returned (echo is its plain twin)

Litestar and FastAPI (the ``bench`` extra) are optional: each is skipped when
it is not installed. Starlette has no typed handlers, so its "typed" rows read
and convert by hand, as a Starlette app would.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.middleware.cors import CORSMiddleware
from typedasgi.middleware.gzip import GZipMiddleware
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Route
from typedasgi.types import ASGIApp, Receive, Scope, Send

N_ROUTES = 500  # "routing" hits the 50th of them, "routing-500" the last: equal figures = flat in the count
ORIGIN = "https://app.example.org"  # every benchmark request comes from this page (CORS answers it)


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
        if head == "typed" or head == "plain":  # /typed/users/{id}?limit=N
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


async def plain_user(request: Request) -> Response:
    return JSONResponse(UserPage(request.path_params["id"], int(request.query_params.get("limit", 10))))


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


def typedasgi_app(stack: bool = False) -> ASGIApp:
    """The app; ``stack``: behind CORS, GZip (the client does not ask for it) and one pure ASGI middleware."""
    routes = [
        Route("/", plaintext),
        Route("/json", json_hello),
        Route("/users/{id:int}", user),
        Route("/echo", echo, methods=["POST"]),
        Route("/plain/users/{id:int}", plain_user),
        Route("/typed/users/{id:int}", typed_user),
        Route("/typed/echo", typed_echo, methods=["POST"]),
    ]
    for i in range(N_ROUTES):
        routes.append(Route(f"/r{i}/{{x}}" if i % 2 else f"/r{i}", _routing_endpoint(i)))
    middleware = [
        Middleware(CORSMiddleware, allow_origins=[ORIGIN]),
        Middleware(GZipMiddleware),
        Middleware(CountingMiddleware),
    ] if stack else None
    return TypedASGI(routes=routes, middleware=middleware, autoload_plugins=False)  # no plugins, like its peers


class CountingMiddleware:
    """A user's own pure ASGI middleware (the same class under both frameworks): counts requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.requests += 1
        await self.app(scope, receive, send)


# ----------------------------------------------------------------------------- Starlette

def starlette_app(stack: bool = False) -> Any:  # Starlette is untyped here on purpose: it is optional
    # importlib: the bench extra is optional, so mypy must not need Starlette installed.
    Starlette = importlib.import_module("starlette.applications").Starlette
    SJSON = importlib.import_module("starlette.responses").JSONResponse
    SText = importlib.import_module("starlette.responses").PlainTextResponse
    SRoute = importlib.import_module("starlette.routing").Route

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
              SRoute("/typed/users/{id:int}", s_typed_user), SRoute("/plain/users/{id:int}", s_typed_user)]
    routes += [SRoute(f"/r{i}/{{x}}" if i % 2 else f"/r{i}", s_routing(i)) for i in range(N_ROUTES)]
    if not stack:
        return Starlette(routes=routes)
    SMiddleware = importlib.import_module("starlette.middleware").Middleware
    SCORS = importlib.import_module("starlette.middleware.cors").CORSMiddleware
    SGZip = importlib.import_module("starlette.middleware.gzip").GZipMiddleware
    middleware = [SMiddleware(SCORS, allow_origins=[ORIGIN]), SMiddleware(SGZip), SMiddleware(CountingMiddleware)]
    return Starlette(routes=routes, middleware=middleware)


# ----------------------------------------------------------------------------- Litestar, FastAPI (optional)
#
# Imported with importlib and registered without decorator syntax: both are
# optional (the ``bench`` extra), so the type checker must not need them.


def litestar_app() -> Any:
    litestar = importlib.import_module("litestar")
    get, post, text = litestar.get, litestar.post, litestar.MediaType.TEXT

    def l_plain() -> str:
        return "Hello, world!"

    def l_json() -> dict[str, str]:
        return {"message": "Hello, world!"}

    def l_user(id: int) -> dict[str, int]:
        return {"id": id}

    async def l_echo(data: Order) -> Order:
        return data

    async def l_typed_user(id: int, limit: int = 10) -> UserPage:
        return UserPage(id, limit)

    def l_routing(i: int) -> Any:
        if i % 2:
            def with_param(x: str) -> str:
                return f"r{i}:{x}"

            return get(f"/r{i}/{{x:str}}", media_type=text, name=f"r{i}", sync_to_thread=False)(with_param)

        def static() -> str:
            return f"r{i}"

        return get(f"/r{i}", media_type=text, name=f"r{i}", sync_to_thread=False)(static)

    handlers = [
        get("/", media_type=text, sync_to_thread=False)(l_plain),
        get("/json", sync_to_thread=False)(l_json),
        get("/users/{id:int}", sync_to_thread=False)(l_user),
        post("/echo", status_code=200, name="echo")(l_echo),
        post("/typed/echo", status_code=200, name="typed-echo")(l_echo),
        get("/typed/users/{id:int}")(l_typed_user),
        get("/plain/users/{id:int}", name="plain-user")(l_typed_user),
    ]
    handlers += [l_routing(i) for i in range(N_ROUTES)]
    return litestar.Litestar(route_handlers=handlers, openapi_config=None, logging_config=None)


def fastapi_app() -> Any:
    fastapi = importlib.import_module("fastapi")
    pydantic = importlib.import_module("pydantic")
    text = importlib.import_module("fastapi.responses").PlainTextResponse
    model = pydantic.create_model
    p_address = model("PAddress", street=(str, ...), city=(str, ...), postcode=(str, ...), country=(str, ...))
    p_item = model("PItem", sku=(str, ...), quantity=(int, ...), price=(float, ...), note=(str, ...))
    p_order = model(
        "POrder", id=(int, ...), name=(str, ...), email=(str, ...), active=(bool, ...), score=(float, ...),
        tags=(list[str], ...), address=(p_address, ...), items=(list[p_item], ...),  # type: ignore[valid-type]  # a runtime model
    )
    p_user_page = model("PUserPage", id=(int, ...), limit=(int, ...))
    app = fastapi.FastAPI(openapi_url=None)

    async def f_plain() -> str:
        return "Hello, world!"

    async def f_json() -> dict[str, str]:
        return {"message": "Hello, world!"}

    async def f_user(id: int) -> dict[str, int]:
        return {"id": id}

    async def f_echo(order: Any) -> Any:
        return order

    async def f_typed_user(id: int, limit: int = 10) -> Any:
        return p_user_page(id=id, limit=limit)

    # The models exist only at run time, so these annotations are set by hand.
    f_echo.__annotations__ = {"order": p_order, "return": p_order}
    f_typed_user.__annotations__ = {"id": int, "limit": int, "return": p_user_page}
    app.get("/", response_class=text)(f_plain)
    app.get("/json")(f_json)
    app.get("/users/{id}")(f_user)
    app.post("/echo")(f_echo)
    app.post("/typed/echo")(f_echo)
    app.get("/typed/users/{id}")(f_typed_user)
    app.get("/plain/users/{id}")(f_typed_user)

    def f_routing(i: int) -> None:
        if i % 2:
            async def with_param(x: str) -> str:
                return f"r{i}:{x}"

            app.get(f"/r{i}/{{x}}", response_class=text)(with_param)
        else:
            async def static() -> str:
                return f"r{i}"

            app.get(f"/r{i}", response_class=text)(static)

    for i in range(N_ROUTES):
        f_routing(i)
    return app

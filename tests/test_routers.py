"""APIRouter: decorators, prefixes, tags and dependencies, nested and included; dependency_overrides;
the return annotation as the response model."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException
from typedasgi.params import Depends, Header
from typedasgi.requests import HTTPConnection, Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routers import APIRouter
from typedasgi.routing import Mount
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.websockets import WebSocket

calls: list[str] = []


async def require_token(x_token: Annotated[str | None, Header()] = None) -> str:
    calls.append("token")
    if x_token != "secret":
        raise HTTPException(401, "Missing or wrong X-Token")
    return x_token


async def audit(request: HTTPConnection) -> None:  # HTTPConnection: also for the WebSocket route
    calls.append(f"audit {request.url.path}")


class Item(msgspec.Struct):
    id: int
    name: str


items = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(audit)])


@items.get("/{item_id:int}", summary="One item")
async def read_item(item_id: int) -> Item:
    return Item(item_id, f"item {item_id}")


@items.post("", status_code=201, tags=["writes"])
async def create_item(item: Item) -> Item:
    return item


@items.get("/plain")
async def plain(request: Request) -> Response:
    return PlainTextResponse(f"plain {request.url.path}")


@items.websocket("/ws")
async def item_feed(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("feed")
    await websocket.close()


def make_app() -> TypedASGI:
    api = APIRouter(prefix="/api", dependencies=[Depends(require_token)])
    api.include_router(items, prefix="/v1")
    app = TypedASGI(openapi_url="/openapi.json")
    app.include_router(api)
    return app


def test_routes_of_nested_routers_have_every_prefix_and_run_every_dependency_outer_first() -> None:
    client = TestClient(make_app(), headers={"x-token": "secret"})
    calls.clear()
    assert client.get("/api/v1/items/3").json() == {"id": 3, "name": "item 3"}
    assert calls == ["token", "audit /api/v1/items/3"]
    created = client.post("/api/v1/items", json={"id": 1, "name": "new"})
    assert (created.status_code, created.json()) == (201, {"id": 1, "name": "new"})
    assert client.get("/api/v1/items/plain").text == "plain /api/v1/items/plain"  # a plain endpoint: dependencies too
    assert client.get("/items/3").status_code == 404


def test_a_router_dependency_refuses_requests_and_websockets() -> None:
    client = TestClient(make_app())
    calls.clear()
    refused = client.get("/api/v1/items/3")
    assert (refused.status_code, refused.json()) == (401, {"detail": "Missing or wrong X-Token"})
    assert client.get("/api/v1/items/plain").status_code == 401
    assert calls == ["token", "token"]  # refused before the inner dependency and the handler
    with TestClient(make_app(), headers={"x-token": "secret"}).websocket_connect("/api/v1/items/ws") as socket:
        assert socket.receive_text() == "feed"
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect("/api/v1/items/ws"):
            pass
    assert denied.value.status_code == 401


def test_openapi_sees_the_full_paths_and_the_merged_tags() -> None:
    document = make_app().openapi()
    assert sorted(document["paths"]) == ["/api/v1/items", "/api/v1/items/plain", "/api/v1/items/{item_id}"]
    read = document["paths"]["/api/v1/items/{item_id}"]["get"]
    assert (read["summary"], read["tags"]) == ("One item", ["items"])
    assert document["paths"]["/api/v1/items"]["post"]["tags"] == ["items", "writes"]
    parameters = {(p["name"], p["in"]) for p in read["parameters"]}
    assert {("item_id", "path"), ("x-token", "header")} <= parameters  # the router dependency's header


def test_router_routes_can_be_mounted_and_prefixes_are_checked() -> None:
    app = TypedASGI(routes=[Mount("/m", routes=items.routes)])
    assert TestClient(app).get("/m/items/2").json() == {"id": 2, "name": "item 2"}
    for bad in ("items", "/items/"):
        with pytest.raises(ValueError, match="prefix"):
            APIRouter(prefix=bad)


# ------------------------------------------------------------------ dependency_overrides


class Database:
    def __init__(self, name: str) -> None:
        self.name = name


async def get_database() -> Database:
    return Database("production")


async def repository(db: Annotated[Database, Depends(get_database)]) -> str:
    return f"repository on {db.name}"


router = APIRouter()


@router.get("/where")
async def where(repo: Annotated[str, Depends(repository)], db: Annotated[Database, Depends(get_database)]) -> list[str]:
    return [repo, db.name]


def test_dependency_overrides_replace_a_dependency_wherever_it_is_used() -> None:
    app = TypedASGI()
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/where").json() == ["repository on production", "production"]

    def fake_database(suffix: str = "") -> Database:  # an override reads the request like any dependency
        return Database("test" + suffix)

    app.dependency_overrides[get_database] = fake_database
    assert client.get("/where?suffix=-1").json() == ["repository on test-1", "test-1"]
    app.dependency_overrides.clear()
    assert client.get("/where").json() == ["repository on production", "production"]


# ------------------------------------------------------------------ the return annotation shapes the output


class User(msgspec.Struct):
    id: int
    name: str
    password_hash: str


class PublicUser(msgspec.Struct):
    id: int
    name: str


def test_the_return_annotation_drops_what_it_does_not_declare() -> None:
    app = TypedASGI()
    user = User(1, "ada", "$2b$secret")

    @app.get("/user")
    async def one() -> PublicUser:
        return user  # type: ignore[return-value]  # shaped into a PublicUser on the way out

    @app.get("/users")
    async def many() -> list[PublicUser]:
        return [user, {"id": 2, "name": "bob", "password_hash": "x"}]  # type: ignore[list-item]  # shaped too

    @app.get("/broken")
    async def broken() -> PublicUser:
        return {"id": "not a number"}  # type: ignore[return-value]  # does not fit: a server error

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/user").json() == {"id": 1, "name": "ada"}
    assert client.get("/users").json() == [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}]
    assert client.get("/broken").status_code == 500
    with pytest.raises(TypeError, match=r"does not fit its return annotation"):
        TestClient(app).get("/broken")


def test_plain_return_annotations_are_sent_as_returned() -> None:
    app = TypedASGI()

    @app.get("/any")
    async def anything() -> dict[str, Any]:
        return {"nested": {"kept": True}}

    assert TestClient(app).get("/any").json() == {"nested": {"kept": True}}


def test_an_override_replaces_a_router_dependency_too() -> None:
    app = make_app()
    client = TestClient(app)
    assert client.get("/api/v1/items/3").status_code == 401

    async def signed_in() -> str:
        return "test-user"

    app.dependency_overrides[require_token] = signed_in
    assert client.get("/api/v1/items/3").json() == {"id": 3, "name": "item 3"}
    del app.dependency_overrides[require_token]
    assert client.get("/api/v1/items/3").status_code == 401

"""Route classes that override ``handle()``, as code written for Starlette does: the router calls it.

typedasgi's router calls ``route.app`` (one call less per request); a class that defines ``handle`` must
still see every request it answers - an access check there must not be skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import BaseRoute, Host, Match, Mount, Route, Router, WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Receive, Scope, Send
from typedasgi.websockets import WebSocket, WebSocketDisconnect


async def home(request: Request) -> Response:
    return PlainTextResponse("home")


class AccessCheck:
    """A mixin, as an app would write it: refuse requests without the key, else carry on."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and (b"x-key", b"open") not in scope["headers"]:
            await WebSocket(scope, receive, send).close(4403)
        elif scope["type"] == "http" and (b"x-key", b"open") not in scope["headers"]:
            await PlainTextResponse("no", status_code=403)(scope, receive, send)
        else:
            await super().handle(scope, receive, send)  # type: ignore[misc]  # the route class after it in the MRO


class GuardedRoute(AccessCheck, Route):
    pass


class StarletteStyleRoute(Route):
    """Calls ``self.app`` itself, as Starlette's own ``Route.handle`` does."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@pytest.mark.parametrize("make_app", [lambda routes: TypedASGI(routes=routes), lambda routes: Router(routes=routes)])
def test_a_route_overriding_handle_sees_every_request(make_app: Callable[[list[BaseRoute]], ASGIApp]) -> None:
    client = TestClient(make_app([GuardedRoute("/", home), StarletteStyleRoute("/plain", home)]))
    assert (client.get("/").status_code, client.get("/").text) == (403, "no")
    assert client.get("/", headers={"x-key": "open"}).text == "home"
    assert client.get("/plain").text == "home"  # self.app inside handle is the route's own app, not a loop


def test_a_guarded_mount_keeps_its_routes_names_and_the_mounted_apps_lifespan() -> None:
    started: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        started.append("inner")
        yield

    class GuardedMount(AccessCheck, Mount):
        pass

    inner = TypedASGI(routes=[Route("/page", home, name="page")], lifespan=lifespan)
    app = TypedASGI(routes=[GuardedMount("/admin", app=inner, name="admin")])
    with TestClient(app) as client:
        assert client.get("/admin/page").status_code == 403
        assert client.get("/admin/page", headers={"x-key": "open"}).text == "home"
    assert started == ["inner"]
    assert app.url_path_for("admin:page") == "/admin/page"


def test_a_guarded_host_keeps_its_routes() -> None:
    class GuardedHost(AccessCheck, Host):
        pass

    host = GuardedHost("api.example.org", app=Router(routes=[Route("/", home, name="root")]), name="api")
    client = TestClient(TypedASGI(routes=[host]), base_url="http://api.example.org")
    assert client.get("/").status_code == 403
    assert client.get("/", headers={"x-key": "open"}).text == "home"
    assert [route.path for route in host.routes if isinstance(route, Route)] == ["/"]
    assert str(host.url_path_for("api:root")) == "/"


def test_a_websocket_route_overriding_handle_sees_the_handshake() -> None:
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    class GuardedWebSocketRoute(AccessCheck, WebSocketRoute):
        pass

    client = TestClient(TypedASGI(routes=[GuardedWebSocketRoute("/ws", echo)]))
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws"):
            pass  # pragma: no cover - closed before accept
    assert refused.value.code == 4403
    with client.websocket_connect("/ws", headers={"x-key": "open"}) as session:
        assert session.receive_text() == "hello"


@pytest.mark.parametrize("make_app", [lambda routes: TypedASGI(routes=routes), lambda routes: Router(routes=routes)])
def test_a_route_overriding_handle_sees_a_wrong_method_first(make_app: Callable[[list[BaseRoute]], ASGIApp]) -> None:
    client = TestClient(make_app([GuardedRoute("/", home, methods=["GET"])]))
    assert client.post("/").status_code == 403  # the access check answers before the 405, as in Starlette
    refused = client.post("/", headers={"x-key": "open"})
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
    assert client.get("/", headers={"x-key": "open"}).text == "home"


def test_a_partial_match_of_a_route_defining_handle_calls_it_once() -> None:
    calls: list[str] = []

    class PathOnly(BaseRoute):
        """Starlette's protocol: PARTIAL when the path fits but the method does not; the route answers both."""

        def matches(self, scope: Scope) -> tuple[Match, dict[str, object]]:
            if scope["type"] != "http" or scope["path"] != "/":
                return Match.NONE, {}
            return (Match.FULL if scope["method"] == "GET" else Match.PARTIAL), {}

        def __init__(self) -> None:
            self.app = PlainTextResponse("handled")

        async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
            calls.append(scope["method"] if scope["type"] == "http" else "")
            await super().handle(scope, receive, send)

    for make_app in (lambda route: TypedASGI(routes=[route]), lambda route: Router(routes=[route]), lambda route: route):
        calls.clear()
        client = TestClient(make_app(PathOnly()))
        assert client.post("/").text == "handled"
        assert client.get("/").text == "handled"
        assert calls == ["POST", "GET"]

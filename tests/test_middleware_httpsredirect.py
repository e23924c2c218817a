"""HTTPSRedirectMiddleware: http -> https with 307, ws -> wss refused with the redirect."""

from __future__ import annotations

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.middleware.httpsredirect import HTTPSRedirectMiddleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.types import Receive, Scope, Send
from typedasgi.websockets import WebSocket


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await PlainTextResponse(f"{scope['scheme']} {scope['method']}")(scope, receive, send)


def client(base_url: str = "http://testserver") -> TestClient:
    return TestClient(HTTPSRedirectMiddleware(bare_app), base_url=base_url, follow_redirects=False)


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("http://testserver/", "https://testserver/"),
        ("http://testserver/path?a=1&b=2", "https://testserver/path?a=1&b=2"),
        ("http://testserver:80/x", "https://testserver/x"),
        ("http://testserver:443/x", "https://testserver/x"),
        ("http://testserver:8080/x", "https://testserver:8080/x"),
        ("http://[::1]:80/x", "https://[::1]/x"),
    ],
)
def test_http_is_redirected_with_307(url: str, location: str) -> None:
    response = client().get(url)
    assert response.status_code == 307
    assert response.headers["location"] == location


def test_https_passes_through() -> None:
    response = client("https://testserver").post("/")
    assert (response.status_code, response.text) == (200, "https POST")


def test_307_keeps_the_method_when_followed() -> None:
    following = TestClient(HTTPSRedirectMiddleware(bare_app), follow_redirects=True)
    response = following.post("http://testserver/submit", content=b"data")
    assert response.text == "https POST"
    assert str(response.url) == "https://testserver/submit"


@pytest.mark.parametrize("host", ["testserver:http", "[::1", "testserver:99999999", "evil.com@testserver"])
def test_unreadable_host_redirects_to_the_servers_address(host: str) -> None:
    """As in Starlette: a malformed Host is ignored for the server's address (the TestClient's is testserver)."""
    response = client().get("/", headers={"host": host})
    assert (response.status_code, response.headers["location"]) == (307, "https://testserver/")


@pytest.mark.parametrize("host", ["testserver:http", "[::1"])
def test_no_valid_host_and_no_server_is_a_400(host: str) -> None:
    async def without_server(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        scope.pop("server", None)
        await HTTPSRedirectMiddleware(bare_app)(scope, receive, send)

    response = TestClient(without_server).get("/", headers={"host": host})
    assert (response.status_code, response.text) == (400, "Invalid host header")


def test_in_an_app_http_and_websocket() -> None:
    async def home(request: Request) -> Response:
        return PlainTextResponse(request.url.scheme)

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.url.scheme)
        await websocket.close()

    app = TypedASGI(
        routes=[Route("/", home), WebSocketRoute("/ws", ws)], middleware=[Middleware(HTTPSRedirectMiddleware)]
    )
    plain = TestClient(app, follow_redirects=False)
    assert plain.get("/").headers["location"] == "https://testserver/"
    with pytest.raises(WebSocketDenialResponse) as denied:
        with plain.websocket_connect("/ws?x=1"):
            pass  # pragma: no cover - the handshake is refused
    assert denied.value.status_code == 307
    assert denied.value.headers["location"] == "wss://testserver/ws?x=1"

    secure = TestClient(app, base_url="https://testserver")
    assert secure.get("/").text == "https"
    with secure.websocket_connect("/ws") as session:
        assert session.receive_text() == "wss"

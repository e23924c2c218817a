"""TrustedHostMiddleware: exact and wildcard hosts, 400s, the www redirect, WebSockets."""

from __future__ import annotations

import asyncio

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.middleware.trustedhost import TrustedHostMiddleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.types import Receive, ReceiveEvent, Scope, Send
from typedasgi.websockets import WebSocket

from tests.support import MessageCollector, call_app, http_scope, websocket_scope


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await PlainTextResponse("OK")(scope, receive, send)


def guarded(*hosts: str, www_redirect: bool = True) -> TestClient:
    return TestClient(TrustedHostMiddleware(bare_app, allowed_hosts=hosts, www_redirect=www_redirect))


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("EXAMPLE.com", 200),
        ("example.com:8000", 200),
        ("api.example.com", 200),
        ("a.b.example.com", 200),
        ("[::1]:8000", 200),
        ("evil.com", 400),
        ("notexample.com", 400),
        ("example.com.evil.com", 400),
        ("", 400),
    ],
)
def test_allowed_hosts(host: str, status: int) -> None:
    client = guarded("example.com", "*.example.com", "[::1]")
    response = client.get("/", headers={"host": host})
    assert response.status_code == status
    assert response.text == ("OK" if status == 200 else "Invalid host header")


def test_wildcard_does_not_match_the_bare_domain() -> None:
    assert guarded("*.example.com").get("/", headers={"host": "example.com"}).status_code == 400


def test_star_allows_any_host() -> None:
    assert guarded("*").get("/", headers={"host": "anything.test"}).status_code == 200
    assert TestClient(TrustedHostMiddleware(bare_app)).get("/", headers={"host": "x"}).status_code == 200


def test_www_redirect() -> None:
    client = guarded("www.example.com")
    client.follow_redirects = False
    response = client.get("http://example.com/path?q=1")
    assert response.status_code == 307
    assert response.headers["location"] == "http://www.example.com/path?q=1"


@pytest.mark.parametrize("server", [("10.0.0.1", 8000), None, ("/run/app.sock", None)], ids=repr)
def test_no_www_redirect_from_a_host_the_url_ignores(server: tuple[str, int | None] | None) -> None:
    """A port past 65535 passes the name check, but the URL is built from the server's address instead, so
    'www.' + its authority was 'http://www.10.0.0.1:8000/p', or '//www./p' with none: a 400 instead."""
    middleware = TrustedHostMiddleware(bare_app, allowed_hosts=["www.example.com"])
    start = call_app(middleware, http_scope(path="/p", headers=[(b"host", b"example.com:99999")], server=server))[0]
    assert start["type"] == "http.response.start"
    assert (start["status"], dict(start["headers"]).get(b"location")) == (400, None)
    start = call_app(middleware, http_scope(path="/p", headers=[(b"host", b"EXAMPLE.com:8080")], server=server))[0]
    assert start["type"] == "http.response.start"
    assert dict(start["headers"]).get(b"location") == b"http://www.EXAMPLE.com:8080/p"


def test_www_redirect_can_be_disabled() -> None:
    client = guarded("www.example.com", www_redirect=False)
    assert client.get("http://example.com/").status_code == 400


def test_no_redirect_when_only_a_wildcard_covers_www() -> None:
    client = guarded("*.example.com")
    client.follow_redirects = False
    assert client.get("http://example.com/").status_code == 400


@pytest.mark.parametrize("pattern", ["exa*mple.com", "*example.com", "example.*", "**.example.com"])
def test_invalid_patterns_are_rejected_at_construction(pattern: str) -> None:
    with pytest.raises(ValueError, match="Invalid allowed host"):
        TrustedHostMiddleware(bare_app, allowed_hosts=[pattern])


def test_a_single_string_is_rejected() -> None:
    with pytest.raises(TypeError):
        TrustedHostMiddleware(bare_app, allowed_hosts="example.com")


def test_in_an_app_http_and_websocket() -> None:
    async def home(request: Request) -> Response:
        return PlainTextResponse(request.url.hostname or "")

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("welcome")
        await websocket.close()

    app = TypedASGI(
        routes=[Route("/", home), WebSocketRoute("/ws", ws)],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["testserver", "*.testserver"])],
    )
    client = TestClient(app)
    assert client.get("/").text == "testserver"
    assert client.get("http://api.testserver/").text == "api.testserver"
    bad = client.get("/", headers={"host": "evil.com"})
    assert (bad.status_code, bad.text) == (400, "Invalid host header")

    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "welcome"
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect("/ws", headers={"host": "evil.com"}):
            pass  # pragma: no cover - the handshake is refused
    assert denied.value.status_code == 400
    assert denied.value.text == "Invalid host header"


def test_websocket_without_the_denial_extension_is_closed() -> None:
    """Servers without the denial response extension: a close before accept (HTTP 403 for the client)."""
    scope = websocket_scope(headers={"host": "evil.com"}, extensions={})
    sent = MessageCollector()

    async def receive() -> ReceiveEvent:
        return {"type": "websocket.connect"}

    asyncio.run(TrustedHostMiddleware(bare_app, allowed_hosts=["example.com"])(scope, receive, sent))
    assert sent.messages == [{"type": "websocket.close", "code": 1000, "reason": ""}]

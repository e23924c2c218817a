"""HTTPEndpoint and WebSocketEndpoint through the TestClient."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.endpoints import HTTPEndpoint, WebSocketEndpoint
from typedasgi.exceptions import HTTPException, WebSocketException
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, ReceiveEvent, SendEvent
from typedasgi.websockets import WebSocket, WebSocketDisconnect

from tests.support import http_scope, websocket_scope

# ------------------------------------------------------------------ HTTP


class Items(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        return PlainTextResponse(f"get {request.query_params.get('q', '')}")

    def post(self, request: Request) -> Response:
        # Sync: runs in the thread pool, where no event loop is running.
        try:
            asyncio.get_running_loop()
            on_loop_thread = True
        except RuntimeError:
            on_loop_thread = False
        return PlainTextResponse(f"post on_loop_thread={on_loop_thread}")


class WithHead(HTTPEndpoint):
    def get(self, request: Request) -> Response:
        return PlainTextResponse("get")

    async def head(self, request: Request) -> Response:
        return PlainTextResponse("", headers={"X-Head": "own"})


class Inherited(Items):
    async def delete(self, request: Request) -> Response:
        return PlainTextResponse("deleted")


def test_endpoint_class_is_an_asgi_app() -> None:
    app: ASGIApp = Items  # checked by mypy: the class itself is the ASGI app
    assert TestClient(app).get("/").status_code == 200


def test_async_and_sync_methods() -> None:
    client = TestClient(Items)
    response = client.get("/?q=x")
    assert (response.status_code, response.text) == (200, "get x")
    response = client.post("/")
    assert (response.status_code, response.text) == (200, "post on_loop_thread=False")


def test_head_falls_back_to_get() -> None:
    response = TestClient(Items).head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len("get "))


def test_own_head_wins() -> None:
    response = TestClient(WithHead).head("/")
    assert response.headers["x-head"] == "own"


@pytest.mark.parametrize(
    ("endpoint", "method", "allow"),
    [
        (Items, "PUT", "GET, HEAD, POST"),
        (Items, "OPTIONS", "GET, HEAD, POST"),
        (WithHead, "POST", "GET, HEAD"),
        (Inherited, "PATCH", "GET, HEAD, POST, DELETE"),
        (HTTPEndpoint, "GET", ""),
    ],
)
def test_method_not_allowed(endpoint: type[HTTPEndpoint], method: str, allow: str) -> None:
    response = TestClient(endpoint).request(method, "/")
    assert response.status_code == 405
    assert response.text == "Method Not Allowed"
    assert response.headers["allow"] == allow


def test_non_handler_attributes_are_not_dispatched() -> None:
    # An HTTP method named after another attribute must not reach it.
    response = TestClient(Items).request("DISPATCH", "/")
    assert response.status_code == 405
    response = TestClient(Items).request("METHOD_NOT_ALLOWED", "/")
    assert response.status_code == 405


def test_inherited_methods_dispatch() -> None:
    client = TestClient(Inherited)
    assert client.delete("/").text == "deleted"
    assert client.get("/").text == "get "


async def _no_receive() -> ReceiveEvent:
    raise AssertionError("not expected to receive")


async def _no_send(message: SendEvent) -> None:
    raise AssertionError("not expected to send")


def test_method_not_allowed_inside_an_app_raises_for_handlers() -> None:
    scope = http_scope("PUT", app=TypedASGI())
    with pytest.raises(HTTPException) as info:
        asyncio.run(_await(Items(scope, _no_receive, _no_send)))
    assert info.value.status_code == 405
    assert info.value.headers == {"Allow": "GET, HEAD, POST"}


async def _await(endpoint: HTTPEndpoint | WebSocketEndpoint) -> None:
    await endpoint


def test_wrong_scope_type_is_refused() -> None:
    with pytest.raises(ValueError, match="serves 'http' scopes"):
        Items({"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}, _no_receive, _no_send)
    with pytest.raises(ValueError, match="serves 'websocket' scopes"):
        WebSocketEndpoint(http_scope("PUT"), _no_receive, _no_send)


# ------------------------------------------------------------- WebSocket


class Recorder(WebSocketEndpoint):
    """Echoes what it receives as repr and records the disconnect code."""

    closed: list[int]

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_text(repr(data))

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        type(self).closed.append(close_code)


def recorder(encoding: Any) -> type[Recorder]:
    return type("R", (Recorder,), {"encoding": encoding, "closed": []})


def test_websocket_encoding_text() -> None:
    endpoint = recorder("text")
    with TestClient(endpoint).websocket_connect("/") as session:
        session.send_text("hi")
        assert session.receive_text() == "'hi'"
        session.close(code=4001)
    assert endpoint.closed == [4001]


def test_websocket_encoding_bytes() -> None:
    endpoint = recorder("bytes")
    with TestClient(endpoint).websocket_connect("/") as session:
        session.send_bytes(b"hi")
        assert session.receive_text() == "b'hi'"
    assert endpoint.closed == [1000]


@pytest.mark.parametrize("kind", ["text", "bytes"])
def test_websocket_encoding_json(kind: str) -> None:
    endpoint = recorder("json")
    with TestClient(endpoint).websocket_connect("/") as session:
        if kind == "text":
            session.send_text('{"a": 1}')
        else:
            session.send_bytes(b'{"a": 1}')
        assert session.receive_text() == "{'a': 1}"


def test_websocket_encoding_none_passes_either() -> None:
    endpoint = recorder(None)
    with TestClient(endpoint).websocket_connect("/") as session:
        session.send_text("t")
        assert session.receive_text() == "'t'"
        session.send_bytes(b"b")
        assert session.receive_text() == "b'b'"


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [("text", b"bytes"), ("bytes", "text"), ("json", "{bad"), ("json", b"\xff")],
)
def test_websocket_undecodable_message_closes_1003(encoding: str, payload: str | bytes) -> None:
    endpoint = recorder(encoding)
    with TestClient(endpoint, raise_server_exceptions=False).websocket_connect("/") as session:
        if isinstance(payload, str):
            session.send_text(payload)
        else:
            session.send_bytes(payload)
        close = session.receive()
    assert close["type"] == "websocket.close" and close.get("code") == 1003
    assert close.get("reason")  # the reason says what was wrong
    assert endpoint.closed == [1003]


@pytest.mark.parametrize("app_around", [False, True])
def test_websocket_undecodable_message_is_raised_by_the_testclient_as_in_starlette(app_around: bool) -> None:
    """Starlette code expects the ``RuntimeError`` of a wrong-kind message from the TestClient."""
    endpoint = recorder("bytes")
    app: ASGIApp = TypedASGI(routes=[WebSocketRoute("/", endpoint)]) if app_around else endpoint
    with pytest.raises(RuntimeError, match="Expected bytes websocket messages, but got text"):
        with TestClient(app).websocket_connect("/") as session:
            session.send_text("text")
    assert endpoint.closed == [1003]


class Failing(Recorder):
    closed: list[int] = []

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        raise LookupError("boom")


def test_websocket_handler_error_closes_1011_and_propagates() -> None:
    Failing.closed = []
    with pytest.raises(LookupError, match="boom"):
        with TestClient(Failing).websocket_connect("/") as session:
            session.send_text("x")
            session.receive()
    assert Failing.closed == [1011]


def test_websocket_handler_error_without_raising_server_exceptions() -> None:
    Failing.closed = []
    with TestClient(Failing, raise_server_exceptions=False).websocket_connect("/") as session:
        session.send_text("x")
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1011


def test_websocket_handler_error_after_the_client_vanished_is_still_reported(caplog: pytest.LogCaptureFixture) -> None:
    """ASGI 2.4: the 1011 close raises as the client is gone; the handler's own error must still reach the error
    layer (logged once), not be replaced by the close's WebSocketDisconnect, which reads as a client leaving."""
    Failing.closed = []
    events: list[ReceiveEvent] = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "x"}]

    async def receive() -> ReceiveEvent:
        if events:
            return events.pop(0)
        await asyncio.Event().wait()  # the server saw nothing of the client's leaving yet
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(message: SendEvent) -> None:
        if message["type"] == "websocket.close":
            raise OSError("the client is gone")

    app = TypedASGI(routes=[WebSocketRoute("/", Failing)])
    with caplog.at_level(logging.ERROR, logger="typedasgi.error"):
        asyncio.run(asyncio.wait_for(app(websocket_scope(), receive, send), 5))
    errors = [record for record in caplog.records if record.name == "typedasgi.error"]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], LookupError)
    assert Failing.closed == [1011]


class Rejecting(Recorder):
    closed: list[int] = []

    async def on_connect(self, websocket: WebSocket) -> None:
        if websocket.query_params.get("token") != "ok":
            raise WebSocketException(4403, "bad token")
        await websocket.accept(headers={"X-Welcome": "1"})
        await websocket.send_text("welcome")


def test_websocket_on_connect_rejects() -> None:
    Rejecting.closed = []
    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(Rejecting).websocket_connect("/?token=no"):
            pass  # pragma: no cover - rejected
    assert (info.value.code, info.value.reason) == (4403, "bad token")
    assert Rejecting.closed == [4403]


def test_websocket_on_connect_accepts() -> None:
    Rejecting.closed = []
    with TestClient(Rejecting).websocket_connect("/?token=ok") as session:
        assert session.receive_text() == "welcome"
        session.send_text("x")
        assert session.receive_text() == "'x'"
    assert Rejecting.closed == [1000]


class Closing(Recorder):
    closed: list[int] = []

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        raise WebSocketException(4000, "done")


def test_websocket_exception_in_on_receive_closes_with_its_code() -> None:
    Closing.closed = []
    with TestClient(Closing).websocket_connect("/") as session:
        session.send_text("x")
        assert session.receive() == {"type": "websocket.close", "code": 4000, "reason": "done"}
        with pytest.raises(WebSocketDisconnect) as info:  # the next receive finds the connection closed
            session.receive()
    assert (info.value.code, info.value.reason) == (4000, "done")
    assert Closing.closed == [4000]


def test_websocket_endpoint_is_an_asgi_app() -> None:
    app: ASGIApp = Recorder
    assert callable(app)

"""A typed WebSocket handler's parameters that do not validate: the handshake is refused with a reason.

Where the server offers the denial extension (the TestClient, uvicorn's WebSocket protocols, ``typedasgi
run``) the client gets the HTTP typed endpoints' 422 with the same JSON body; elsewhere a close 1008 naming
the first problem (the client sees HTTP 403). Both in process and through a real server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, cast

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from tests.support import ServerFactory, call_app, http_get, websocket_scope
from typedasgi.applications import TypedASGI
from typedasgi.exceptions import WebSocketException
from typedasgi.handlers import TypedHandler
from typedasgi.params import Header, RequestValidationError
from typedasgi.requests import HTTPConnection
from typedasgi.responses import JSONResponse, Response
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.types import ASGIApp, Receive, ReceiveEvent, Scope, Send
from typedasgi.websockets import WebSocket, WebSocketDisconnect

DENIAL = "websocket.http.response"


async def chat(websocket: WebSocket, room: int, n: int, token: Annotated[int, Header(alias="x-token")] = 0) -> None:
    await websocket.accept()
    await websocket.send_text(f"{room} {n} {token}")
    await websocket.close()


async def page(room: int, n: int, token: Annotated[int, Header(alias="x-token")] = 0) -> str:
    return f"{room} {n} {token}"


def app(**options: Any) -> TypedASGI:
    """The same parameters on a WebSocket route and an HTTP route."""
    return TypedASGI(routes=[WebSocketRoute("/ws/{room}", chat), Route("/http/{room}", page)], **options)


def without_denial(inner: ASGIApp) -> ASGIApp:
    """``inner`` behind a server that offers no denial responses (the TestClient offers them)."""

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        offered = cast("dict[str, object]", scope.get("extensions") or {})
        extensions = {key: value for key, value in offered.items() if key != DENIAL}
        await inner(cast(Scope, {**scope, "extensions": extensions}), receive, send)

    return served


BAD = [
    pytest.param("/1?n=x", {}, id="query-wrong-type"),
    pytest.param("/1", {}, id="query-missing"),
    pytest.param("/1?n=2", {"x-token": "abc"}, id="header-wrong-type"),
    pytest.param("/lobby?n=2", {}, id="path-wrong-type"),
    pytest.param("/lobby?n=x", {"x-token": "abc"}, id="three-problems"),
]


@pytest.mark.parametrize(("path", "headers"), BAD)
def test_a_refused_handshake_answers_as_the_http_route_does(path: str, headers: dict[str, str]) -> None:
    client = TestClient(app())
    http = client.get("/http" + path, headers=headers)
    assert http.status_code == 422
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect("/ws" + path, headers=headers):
            pass
    assert refused.value.status_code == 422
    assert refused.value.headers["content-type"] == "application/json"
    assert refused.value.json() == http.json()
    assert http.json()["errors"]


@pytest.mark.parametrize(
    ("path", "headers", "reason"),
    [
        ("/1?n=x", {}, "query n: 'x' is not a valid integer"),
        ("/1", {}, "query n: Field required"),
        ("/1?n=2", {"x-token": "abc"}, "header x-token: 'abc' is not a valid integer"),
        ("/lobby?n=x", {}, "path room: 'lobby' is not a valid integer"),  # the first problem of two
    ],
)
def test_without_the_denial_extension_the_handshake_closes_1008(path: str, headers: dict[str, str], reason: str) -> None:
    client = TestClient(without_denial(app()))
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/ws" + path, headers=headers):
            pass
    assert type(closed.value) is WebSocketDisconnect  # a close, not a denial response
    assert (closed.value.code, closed.value.reason) == (1008, reason)


def test_the_apps_own_validation_handler_answers_the_handshake_too() -> None:
    async def custom(connection: HTTPConnection, exc: RequestValidationError) -> Response:
        return JSONResponse({"problems": len(exc.errors)}, status_code=400)

    client = TestClient(app(exception_handlers={RequestValidationError: custom}))
    assert client.get("/http/lobby?n=x").json() == {"problems": 2}
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect("/ws/lobby?n=x"):
            pass
    assert (refused.value.status_code, refused.value.json()) == (400, {"problems": 2})


def test_a_valid_handshake_is_still_accepted() -> None:
    with TestClient(app()).websocket_connect("/ws/3?n=4", headers={"x-token": "5"}) as session:
        assert session.receive_text() == "3 4 5"


def handshake() -> Receive:
    async def receive() -> ReceiveEvent:
        return {"type": "websocket.connect"}

    return receive


def test_a_handler_served_without_an_app_sends_the_422_itself() -> None:
    async def alone(websocket: WebSocket, n: int) -> None:
        await websocket.accept()

    handler = TypedHandler(alone, {}, websocket=True)
    scope = websocket_scope("/ws", query_string=b"n=x", extensions={DENIAL: {}})
    messages = call_app(handler, scope, receive=handshake())
    assert [message["type"] for message in messages] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert messages[0].get("status") == 422
    body = json.loads(cast(bytes, messages[1].get("body")))
    assert body["errors"] == [{"location": "query", "field": "n", "message": "'x' is not a valid integer"}]
    with pytest.raises(WebSocketException) as closing:  # without the extension: raised, as before, for the server
        call_app(handler, websocket_scope("/ws", query_string=b"n=x"), receive=handshake())
    assert (closing.value.code, closing.value.reason) == (1008, "query n: 'x' is not a valid integer")


# ------------------------------------------------------------------ through a real server


async def refused(url: str) -> tuple[int, bytes | bytearray]:
    """The status and body of the handshake's refusal (fails if the handshake is accepted)."""
    try:
        async with ws_connect(url, open_timeout=5, close_timeout=5):
            pass
    except InvalidStatus as refusal:
        return refusal.response.status_code, refusal.response.body or b""
    raise AssertionError("the handshake was accepted")


@pytest.mark.parametrize(
    ("command", "args"),
    [("cli", ()), ("uvicorn", ("--ws", "websockets")), ("uvicorn", ("--ws", "websockets-sansio"))],
    ids=["typedasgi-run", "uvicorn-websockets", "uvicorn-websockets-sansio"],
)
def test_a_real_server_sends_the_422_and_its_reasons(serve: ServerFactory, command: str, args: tuple[str, ...]) -> None:
    with serve("tests.report_once_app:app", command=command, args=args) as base:
        url = base.replace("http://", "ws://") + "/ws-typed"
        for query, message in [("?n=x", "'x' is not a valid integer"), ("", "Field required")]:
            status, body = asyncio.run(refused(url + query))
            assert status == 422
            assert json.loads(body) == {
                "detail": "Request validation failed",
                "errors": [{"location": "query", "field": "n", "message": message}],
            }
        assert http_get(base + "/fine")[0] == 200  # by now the refused handshakes' apps have returned
        log = base.log()
        assert "Traceback" not in log
        if args != ("--ws", "websockets-sansio"):  # plain uvicorn's default protocol logs an ERROR per denial
            assert "ERROR" not in log, log

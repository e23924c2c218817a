"""Point 6 of the hostile-input suite: a WebSocket that fails always ends with a close frame the client
receives (1011 after accept, a refused handshake before it, 1003 for a message of the wrong kind), never a
dropped TCP connection. Through a real uvicorn with the ``websockets`` client."""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException, WebSocketException
from typedasgi.routing import WebSocketRoute
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.websockets import WebSocket, WebSocketDisconnect

from tests.hostile.guards import SETTLE_SECONDS, Target
from tests.support import ServerURL


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


async def close_code_after(url: str, message: str | bytes) -> tuple[int, str]:
    """Send ``message`` and wait for the server's close frame; its code and reason."""
    async with connect(url, open_timeout=5, close_timeout=5) as ws:
        await ws.send(message)
        with pytest.raises(ConnectionClosedError) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    frame = closed.value.rcvd
    assert frame is not None, "the connection dropped without a close frame"
    return frame.code, frame.reason


def test_an_error_after_accept_closes_1011(server: ServerURL, served: Target) -> None:
    with served.nothing_leaks():
        code, _ = asyncio.run(close_code_after(ws_url(server, "/ws/fails-after-accept"), "hello"))
    assert code == 1011
    assert "Exception in WebSocket /ws/fails-after-accept, answered close 1011" in server.log()


def test_an_error_before_accept_refuses_the_handshake(server: ServerURL, served: Target) -> None:
    async def attempt() -> int:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(server, "/ws/fails-before-accept"), open_timeout=5):
                pass  # pragma: no cover - the handshake is refused
        return refused.value.response.status_code

    with served.nothing_leaks():
        assert asyncio.run(attempt()) == 403


def test_an_error_after_the_client_left_is_logged_once_as_answered_with_nothing(
    server: ServerURL, served: Target
) -> None:
    """The handler fails on its way out after the client vanished: no close frame can go out any more (uvicorn's
    send raises ``OSError``), and the log says so instead of naming a refused handshake."""
    path = "/ws/fails-after-client-left"

    async def open_then_vanish() -> None:
        async with connect(ws_url(server, path), open_timeout=5, close_timeout=5) as ws:
            ws.transport.abort()  # the TCP connection drops without a close frame

    with served.nothing_leaks():  # its good request after the attack also lets the failure be logged first
        asyncio.run(open_then_vanish())
    deadline = time.monotonic() + SETTLE_SECONDS
    while "clean-up failed after the client left" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = server.log()
    assert log.count(f"Exception in WebSocket {path}, answered nothing (the client had left)") == 1
    assert log.count("RuntimeError: clean-up failed after the client left") == 1


WRONG = {
    "binary to a text endpoint": ("/ws/text", b"\x00\x01"),
    "text to a JSON endpoint": ("/ws/json", "not json"),
    "too deep for a JSON endpoint": ("/ws/json", "[" * 100_000 + "]" * 100_000),
    "a wrong value quoted past a close frame's room": ("/ws/choice", '"' + "\u00e9" * 200 + '"'),
}


@pytest.mark.parametrize(("path", "message"), WRONG.values(), ids=WRONG.keys())
def test_a_message_of_the_wrong_kind_closes_1003(
    server: ServerURL, served: Target, path: str, message: str | bytes
) -> None:
    with served.nothing_leaks():
        code, reason = asyncio.run(close_code_after(ws_url(server, path), message))
    assert code == 1003 and reason
    assert len(reason.encode()) <= 123  # RFC 6455: else the server drops the connection without a close frame
    assert f"Exception in WebSocket {path}" not in server.log()  # the client's mistake: no error logged


def test_a_good_session_still_works(server: ServerURL) -> None:
    async def echo() -> str | bytes:
        async with connect(ws_url(server, "/ws/text"), open_timeout=5) as ws:
            await ws.send("hi")
            return await asyncio.wait_for(ws.recv(), 5)

    assert asyncio.run(echo()) == "hi"


def test_handled_exceptions_close_with_their_answer_after_accept_too() -> None:
    """WebSocketException after accept closes with its code; an HTTPException before accept is a denial."""
    async def closes_4001(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(4001, "go away")

    async def denies_401(websocket: WebSocket) -> None:
        raise HTTPException(401, "who are you")

    app = TypedASGI(routes=[WebSocketRoute("/closes", closes_4001), WebSocketRoute("/denies", denies_401)])
    client = TestClient(app)
    with client.websocket_connect("/closes") as session, pytest.raises(WebSocketDisconnect) as closed:
        session.receive_text()
    assert (closed.value.code, closed.value.reason) == (4001, "go away")
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/denies"):
        pass  # pragma: no cover - the handshake is refused
    assert (denied.value.status_code, denied.value.text) == (401, "who are you")

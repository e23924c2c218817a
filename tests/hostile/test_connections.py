"""Point 7 and slow clients in the hostile-input suite: a 500 leaves the keep-alive connection usable, and
clients that stall or vanish mid-request cost the server nothing once gone. Through a real uvicorn."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.middleware.gzip import GZipMiddleware
from typedasgi.requests import Request
from typedasgi.responses import Response
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.websockets import WebSocket, WebSocketDisconnect

from tests.hostile.guards import Target
from tests.support import ServerURL, call_app, http_scope


def connection(base: str) -> http.client.HTTPConnection:
    address = urlsplit(base)
    assert address.hostname is not None
    return http.client.HTTPConnection(address.hostname, address.port, timeout=5)


def test_a_500_keeps_the_connection_for_the_next_request(server: ServerURL, served: Target) -> None:
    with served.nothing_leaks():
        conn = connection(server)
        try:
            conn.request("GET", "/boom")
            failed = conn.getresponse()
            assert (failed.status, failed.read()) == (500, b"Internal Server Error")
            assert not failed.will_close  # no "Connection: close": the server kept the connection
            sock = conn.sock
            for path in ("/ok", "/boom", "/ok"):
                conn.request("GET", path)
                response = conn.getresponse()
                assert response.status == (200 if path == "/ok" else 500)
                response.read()
                assert conn.sock is sock  # the same TCP connection served every request
        finally:
            conn.close()
    assert server.log().count("Exception in GET /boom, answered 500") == 2  # logged once per error


def test_an_error_in_a_pipeline_does_not_drop_the_requests_behind_it(server: ServerURL, served: Target) -> None:
    address = urlsplit(server)
    assert address.hostname is not None and address.port is not None
    with served.nothing_leaks(), socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 500") == 1 and received.count(b"HTTP/1.1 200") == 1
    assert received.endswith(b"\r\n\r\nok")


PARTIAL = {
    "headers never finished": b"GET /ok HTTP/1.1\r\nHost: t\r\nX-Slow: ",
    "body shorter than declared": b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n{\"a\": ",
    "chunked body never ended": b"POST /json HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1, 2\r\n",
    "multipart never ended": (
        b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 100000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n"
        + b"x" * 3_000_000
    ),
}


@pytest.mark.parametrize("request_start", PARTIAL.values(), ids=PARTIAL.keys())
def test_stalled_clients_do_not_block_others_and_leave_nothing_behind(
    server: ServerURL, served: Target, request_start: bytes
) -> None:
    address = urlsplit(server)
    assert address.hostname is not None and address.port is not None
    with served.nothing_leaks():
        stalled = [socket.create_connection((address.hostname, address.port), timeout=5) for _ in range(20)]
        try:
            for sock in stalled:
                sock.sendall(request_start)
            assert served.good_request() == (200, b"ok")  # served while twenty requests hang half-sent
        finally:
            for sock in stalled:  # the clients vanish mid-request
                sock.close()


def test_behind_user_middleware_too(local: Target) -> None:
    """With middleware between the error layers, the 500 and the WebSocket close are the same."""
    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    async def ws_boom(websocket: WebSocket) -> None:
        await websocket.accept()
        raise RuntimeError("ws boom")

    app = TypedASGI(
        routes=[Route("/boom", boom), WebSocketRoute("/ws", ws_boom)],
        middleware=[Middleware(GZipMiddleware)],
    )
    messages = call_app(app, http_scope(path="/boom", headers={"host": "t"}))  # returns: nothing re-raised
    assert [m["status"] for m in messages if m["type"] == "http.response.start"] == [500]
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/boom").status_code == 500  # its loop thread exists before the baseline
    with local.nothing_leaks():
        with client.websocket_connect("/ws") as session, pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
    assert closed.value.code == 1011

"""RequestBodyLimitMiddleware bounds the raw receive() of whatever it wraps."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from typedasgi.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY, RequestBodyLimitMiddleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route, Router
from typedasgi.testclient import TestClient
from typedasgi.types import HTTPScope, Receive, ReceiveEvent, Scope, Send, SendEvent


async def raw_reader(scope: Scope, receive: Receive, send: Send) -> None:
    """A foreign app that reads messages itself (no Request, so no other limit applies)."""
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    await PlainTextResponse(str(size))(scope, receive, send)


def test_a_raw_reader_gets_its_body_up_to_the_limit_and_a_413_past_it() -> None:
    client = TestClient(RequestBodyLimitMiddleware(raw_reader, max_body_size=5))
    assert client.post("/", content=b"12345").text == "5"
    response = client.post("/", content=b"123456")
    assert (response.status_code, response.text) == (413, "Content Too Large")


def test_chunks_without_content_length_are_counted() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"123"
        yield b"456"

    # httpx2 streams a generator without content-length
    response = TestClient(RequestBodyLimitMiddleware(raw_reader, max_body_size=5)).post("/", content=chunks())
    assert response.status_code == 413


def test_a_route_limit_below_wins_and_the_scope_is_restored_after() -> None:
    async def echo(request: Request) -> Response:
        return Response(await request.body())

    limited = RequestBodyLimitMiddleware(Router(routes=[Route("/", echo, methods=["POST"], max_body_size=10)]), 5)
    after: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await limited(scope, receive, send)
        after.append(MAX_BODY_SIZE_SCOPE_KEY in dict(scope))

    assert TestClient(app).post("/", content=b"12345678").content == b"12345678"  # 8 > 5, but the route allows 10
    assert after == [False]  # the key was absent before the middleware, and is again


@pytest.mark.parametrize(
    ("declared", "status"),
    [(b"1" * 5000, 413), (b"0" * 5000 + b"6", 413), (b"0" * 5000 + b"5", 200)],  # past int()'s 4,300 digits
)
def test_a_content_length_of_thousands_of_digits_is_read_as_a_number(declared: bytes, status: int) -> None:
    """A 413 (or the body, for leading zeros), never the ValueError of int() as a 500: sent raw, as httpx won't."""
    sent: list[SendEvent] = []
    scope: HTTPScope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"", "headers": [(b"content-length", declared)],
        "client": None, "server": None, "state": {}, "extensions": {},
    }

    async def receive() -> ReceiveEvent:
        return {"type": "http.request", "body": b"12345", "more_body": False}

    async def send(message: SendEvent) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(RequestBodyLimitMiddleware(raw_reader, max_body_size=5)(scope, receive, send), 5))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == status

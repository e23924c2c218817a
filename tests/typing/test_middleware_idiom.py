"""Starlette's pure-ASGI middleware idiom, renamed to typedasgi, type-checks unchanged.

The send wrapper takes ``message: Message``, narrows on ``message["type"]``,
edits the head through ``MutableHeaders(scope=message)`` and forwards the
message. mypy --strict and basedpyright check this module as part of the tree;
the test runs it, so the idiom is shown to work, not only to type-check.
"""

from __future__ import annotations

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import MutableHeaders
from typedasgi.middleware import Middleware
from typedasgi.responses import PlainTextResponse
from typedasgi.routing import Route
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Message, Receive, ReceiveEvent, Scope, Send


class PoweredBy:
    def __init__(self, app: ASGIApp, value: str = "typedasgi") -> None:
        self.app = app
        self.value = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received: list[str] = []

        async def receive_wrapper() -> ReceiveEvent:
            message = await receive()
            received.append(message["type"])
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("x-powered-by", self.value)
                headers["x-received"] = ",".join(received)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                message["body"] = message.get("body", b"") + b"!"
            await send(message)

        await self.app(scope, receive_wrapper, send_wrapper)


async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]})
    await send({"type": "http.response.body", "body": b"hi"})


def test_the_idiom_runs_as_a_wrapper_and_as_declared_middleware() -> None:
    wrapped = TestClient(PoweredBy(endpoint, "raw")).get("/")
    assert wrapped.headers["x-powered-by"] == "raw"
    assert wrapped.headers["x-received"] == "http.request"
    app = TypedASGI(routes=[Route("/", PlainTextResponse("ok"))], middleware=[Middleware(PoweredBy, value="app")])
    assert TestClient(app).get("/").headers["x-powered-by"] == "app"

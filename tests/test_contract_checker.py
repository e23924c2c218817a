"""The ASGI contract checker (typedasgi.testing): each rule, broken once on purpose, is caught by name.

Apps break the app-side rules through the TestClient; the server-side rules
are broken by a hand-made ``receive`` calling the checked app directly.
Starlette apps go through the same checker: a clean one passes, a buggy
middleware around one is caught.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, cast

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware as StarletteMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import PlainTextResponse as StarlettePlainText
from starlette.responses import StreamingResponse
from starlette.routing import Route as StarletteRoute
from starlette.routing import WebSocketRoute as StarletteWebSocketRoute
from starlette.websockets import WebSocket as StarletteWebSocket

from tests.support import http_scope, websocket_scope
from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route
from typedasgi.testclient import TestClient
from typedasgi.testing import ASGIContractError, check_asgi
from typedasgi.types import AnyASGIApp, ASGIApp, LifespanScope, Message, Receive, ReceiveEvent, Scope, Send, SendEvent

Bad = Any  # a message the types rightly refuse: built as Any so the test can send it at run time


def contract_error(app: AnyASGIApp, path: str = "/") -> ASGIContractError:
    with pytest.raises(ASGIContractError) as caught:
        TestClient(app, check_asgi=True).get(path)
    return caught.value


# -- app side: HTTP --------------------------------------------------------------------------


def test_a_str_body_is_a_value_type_violation_naming_message_and_step() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        body: Bad = "hi"
        await send({"type": "http.response.body", "body": body})

    error = contract_error(app)
    assert error.rule == "message.value-type"
    assert error.step == "http send #2"
    assert error.message == {"type": "http.response.body", "body": "hi"}
    assert "'body': bytes expected, got str" in str(error)


def test_a_missing_status_is_a_missing_key() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        start: Bad = {"type": "http.response.start", "headers": []}
        await send(start)

    assert contract_error(app).rule == "message.missing-key"


def test_a_misspelt_key_is_an_unknown_key() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        body: Bad = {"type": "http.response.body", "body": b"a", "more_bdy": True}
        await send(body)

    assert contract_error(app).rule == "message.unknown-key"


def test_sending_a_message_meant_for_receive() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request: Bad = {"type": "http.request", "body": b""}
        await send(request)

    assert contract_error(app).rule == "message.unknown-type"


def test_a_websocket_message_on_an_http_connection() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.accept"})

    assert contract_error(app).rule == "message.wrong-protocol"


def test_response_start_twice() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.start", "status": 500})

    error = contract_error(app)
    assert (error.rule, error.step) == ("http.start-twice", "http send #2")


def test_body_before_start() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    assert contract_error(app).rule == "http.body-before-start"


def test_nothing_after_the_last_body() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"done"})
        await send({"type": "http.response.body", "body": b"more"})

    assert contract_error(app).rule == "http.after-complete"


def test_trailers_only_when_announced() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"x"})
        await send({"type": "http.response.trailers", "headers": []})

    scope = http_scope(extensions={"http.response.trailers": {}})
    with pytest.raises(ASGIContractError) as caught:
        run_checked(app, scope, replaying({"type": "http.request"}))
    assert caught.value.rule == "http.trailers-unannounced"


def test_an_extension_message_the_scope_does_not_offer() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.pathsend", "path": "/etc/hostname"})

    assert contract_error(app).rule == "extension.not-offered"


@pytest.mark.parametrize(
    ("name", "rule"), [(b"Content-Type", "message.header-case"), (b":status", "message.pseudo-header")]
)
def test_response_header_names_are_lower_case_and_not_pseudo(name: bytes, rule: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(name, b"text/plain")]})
        await send({"type": "http.response.body"})

    assert contract_error(app).rule == rule


def test_returning_in_the_middle_of_a_response() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})

    error = contract_error(app)
    assert (error.rule, error.step) == ("http.incomplete-response", "http return after 2 sends")


def test_returning_without_a_response() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    assert contract_error(app).rule == "http.no-response"


def test_a_violation_the_app_swallows_is_still_raised() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        with contextlib.suppress(ASGIContractError):
            await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body"})

    assert contract_error(app).rule == "http.start-twice"


def test_a_correct_app_passes_and_behaves_the_same() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"ok"})

    response = TestClient(app, check_asgi=True).get("/")
    assert (response.status_code, response.text, response.headers["x-a"]) == (200, "ok", "1")


# -- app side: WebSocket and lifespan ---------------------------------------------------------


def websocket_error(app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> ASGIContractError:
    with pytest.raises(ASGIContractError) as caught:
        with TestClient(app, check_asgi=True).websocket_connect("/") as session:
            session.receive_text()
    return caught.value


def test_websocket_send_before_accept() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.send", "text": "early"})

    assert websocket_error(app).rule == "websocket.send-before-accept"


def test_websocket_accept_twice() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.accept"})

    assert websocket_error(app).rule == "websocket.accept-twice"


def test_websocket_send_after_close() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close"})
        await send({"type": "websocket.send", "text": "late"})

    assert websocket_error(app).rule == "websocket.after-close"


def test_websocket_send_with_both_payloads() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "a", "bytes": b"a"})

    assert websocket_error(app).rule == "websocket.send-payload"


def test_websocket_subprotocol_in_the_headers() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"sec-websocket-protocol", b"chat")]})

    assert websocket_error(app).rule == "websocket.protocol-header"


def test_websocket_handshake_left_unanswered() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    assert websocket_error(app).rule == "websocket.unanswered"


def test_lifespan_shutdown_answer_before_shutdown() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    with pytest.raises(ASGIContractError) as caught, TestClient(app, check_asgi=True):
        pass
    assert (caught.value.rule, caught.value.step) == ("lifespan.out-of-order", "lifespan send #1")


# -- server side: what receive() returns ------------------------------------------------------


def replaying(*messages: object) -> Receive:
    queue = list(messages)

    async def receive() -> ReceiveEvent:
        return cast(ReceiveEvent, queue.pop(0))

    return receive


async def drain(message: SendEvent) -> None:
    return None


def run_checked(app: ASGIApp, scope: Scope, receive: Receive) -> None:
    """Call the checked app once, as a server would, with ``receive`` and a send that drops everything."""

    async def serve() -> None:
        await check_asgi(app)(scope, receive, drain)

    asyncio.run(serve())


async def reads_all(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        await receive()


@pytest.mark.parametrize(
    ("scope", "messages", "rule"),
    [
        (http_scope(), [{"type": "http.request"}, {"type": "http.request", "body": b"late"}], "server.http.request-after-end"),
        (http_scope(), [{"type": "http.request", "body": "str"}], "server.message.value-type"),
        (websocket_scope(), [{"type": "websocket.receive", "text": "hi"}], "server.websocket.connect-first"),
        (websocket_scope(), [{"type": "websocket.connect"}, {"type": "websocket.disconnect"}], "server.message.missing-key"),
        ({"type": "lifespan", "asgi": {}}, [{"type": "lifespan.shutdown"}], "server.lifespan.out-of-order"),
    ],
    ids=["body-after-end", "str-body", "no-connect", "disconnect-without-code", "shutdown-first"],
)
def test_server_side_violations(scope: Scope, messages: list[object], rule: str) -> None:
    with pytest.raises(ASGIContractError) as caught:
        run_checked(reads_all, scope, replaying(*messages))
    assert caught.value.rule == rule
    assert caught.value.step.split()[1] == "receive"


def test_a_scope_without_a_required_key() -> None:
    scope: Bad = {"type": "http", "asgi": {}, "method": "GET", "headers": [], "query_string": b""}
    with pytest.raises(ASGIContractError, match=r"\[scope.missing-key\] required key 'http_version'"):
        run_checked(reads_all, scope, replaying())


def test_lifespan_scope_minimal_is_fine() -> None:
    scope: LifespanScope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    received: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            received.append(message["type"])
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    run_checked(app, scope, replaying({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}))
    assert received == ["lifespan.startup", "lifespan.shutdown"]


# -- any framework: Starlette ------------------------------------------------------------------


async def starlette_home(request: StarletteRequest) -> StarlettePlainText:
    return StarlettePlainText("home")


async def starlette_echo(websocket: StarletteWebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


@contextlib.asynccontextmanager
async def starlette_lifespan(app: Starlette) -> AsyncIterator[None]:
    yield


def test_a_starlette_app_passes_over_http_websocket_and_lifespan() -> None:
    app = Starlette(
        routes=[StarletteRoute("/", starlette_home), StarletteWebSocketRoute("/ws", starlette_echo)],
        lifespan=starlette_lifespan,
    )
    with TestClient(app, check_asgi=True) as client:
        assert client.get("/").text == "home"
        assert client.get("/missing").status_code == 404
        with client.websocket_connect("/ws") as session:
            session.send_text("hi")
            assert session.receive_text() == "hi"


class LateErrorPage:
    """A hand-written middleware with a classic bug: on an error it starts its own response, even
    when the app had already started one."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        try:
            await self.app(scope, receive, send)
        except RuntimeError:
            await send({"type": "http.response.start", "status": 500})
            await send({"type": "http.response.body", "body": b"error"})


async def starlette_fails_while_streaming(request: StarletteRequest) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first"
        raise RuntimeError("failed while streaming")

    return StreamingResponse(chunks())


def test_a_buggy_middleware_around_a_starlette_app_is_caught() -> None:
    app = Starlette(
        routes=[StarletteRoute("/", starlette_fails_while_streaming)], middleware=[StarletteMiddleware(LateErrorPage)]
    )
    error = contract_error(app)
    assert (error.rule, error.step) == ("http.start-twice", "http send #3")


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


def test_typedasgi_apps_pass_with_routing_errors_and_middleware() -> None:
    app: ASGIApp = TypedASGI(routes=[Route("/", ok)])
    client = TestClient(app, check_asgi=True)
    assert client.get("/").text == "ok"
    assert client.get("/missing").status_code == 404
    assert client.post("/").status_code == 405

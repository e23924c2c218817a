"""WebSocket: the ASGI WebSocket state machines, message helpers and denial responses."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.responses import PlainTextResponse
from typedasgi.routing import WebSocketRoute
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.types import ReceiveEvent, Scope, SendEvent, WebSocketScope
from typedasgi.websockets import (
    WebSocket,
    WebSocketClose,
    WebSocketDecodeError,
    WebSocketDisconnect,
    WebSocketDisconnected,
    WebSocketState,
)

from tests.support import Extensions, websocket_scope

Handler = Callable[[WebSocket], Coroutine[Any, Any, None]]


def make_app(handler: Handler) -> Callable[[Scope, Any, Any], Coroutine[Any, Any, None]]:
    """A plain ASGI app running ``handler`` on a WebSocket built from the scope."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        await handler(WebSocket(scope, receive, send))

    return app


def errors_app(steps: Handler, errors: list[str]) -> Callable[[Scope, Any, Any], Coroutine[Any, Any, None]]:
    """An app that records the RuntimeError/ValueError ``steps`` raises, then closes cleanly if it can."""

    async def handler(websocket: WebSocket) -> None:
        try:
            await steps(websocket)
        except (RuntimeError, ValueError) as exc:
            errors.append(str(exc))
        if websocket.application_state in (WebSocketState.CONNECTING, WebSocketState.CONNECTED):
            await websocket.close()

    return make_app(handler)


# --------------------------------------------------------------- exchanges


def test_text_round_trip() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(f"echo: {text}")
        await websocket.close()

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        session.send_text("hello")
        assert session.receive_text() == "echo: hello"


def test_bytes_round_trip() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        data = await websocket.receive_bytes()
        await websocket.send_bytes(data[::-1])
        await websocket.close()

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        session.send_bytes(b"\x00\x01\xff")
        assert session.receive_bytes() == b"\xff\x01\x00"


def test_json_text_mode() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        value = await websocket.receive_json()
        await websocket.send_json({"got": value})
        await websocket.close()

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        session.send_text('{"a": [1, 2]}')
        message = session.receive()
        assert message["type"] == "websocket.send"
        text = message["text"]
        assert text is not None
        assert msgspec.json.decode(text) == {"got": {"a": [1, 2]}}


def test_json_binary_mode() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        value = await websocket.receive_json(mode="binary")
        await websocket.send_json([value, "é"], mode="binary")
        await websocket.close()

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        session.send_bytes(b'{"n": 1}')
        message = session.receive()
        assert message["type"] == "websocket.send"
        data = message["bytes"]
        assert message.get("text") is None and data is not None
        assert msgspec.json.decode(data) == [{"n": 1}, "é"]


def test_receive_json_into_a_type() -> None:
    class Point(msgspec.Struct):
        x: int
        y: int

    seen: list[object] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        point = await websocket.receive_json(type=Point)
        seen.append(point.x + point.y)
        try:
            await websocket.receive_json(type=Point)
        except WebSocketDecodeError as exc:
            seen.append(str(exc))
        await websocket.close()

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        session.send_text('{"x": 1, "y": 2}')
        session.send_text('{"x": "one", "y": 2}')
        with pytest.raises(WebSocketDisconnect):
            session.receive_text()
    assert seen[0] == 3
    assert isinstance(seen[1], str) and seen[1].startswith("Malformed JSON message")


@pytest.mark.parametrize(
    ("send_kind", "payload", "receiver", "expected"),
    [
        ("text", "{not json", "json_text", "Malformed JSON message"),
        ("bytes", b"\xff", "json_binary", "Malformed JSON message"),
        ("bytes", b"abc", "text", "Expected a text message"),
        ("text", "abc", "bytes", "Expected a binary message"),
        ("bytes", b"{}", "json_text", "Expected a text message"),
    ],
)
def test_decode_errors(send_kind: str, payload: str | bytes, receiver: str, expected: str) -> None:
    errors: list[str] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            if receiver == "json_text":
                await websocket.receive_json()
            elif receiver == "json_binary":
                await websocket.receive_json(mode="binary")
            elif receiver == "text":
                await websocket.receive_text()
            else:
                await websocket.receive_bytes()
        except WebSocketDecodeError as exc:
            assert isinstance(exc, ValueError)
            errors.append(str(exc))
        await websocket.close(1003)

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        if isinstance(payload, str):
            session.send_text(payload)
        else:
            session.send_bytes(payload)
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_bytes()
    assert info.value.code == 1003
    assert len(errors) == 1 and errors[0].startswith(expected)


def test_the_wrong_message_kind_is_a_key_error_as_starlette_code_catches_it() -> None:
    """Starlette's ``receive_text()`` reads ``message["text"]``: a binary message is a ``KeyError``, and
    GraphQL servers written for it (Strawberry's) catch that to close with their own code. Bad JSON is not one."""

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.receive_json()
        except KeyError as exc:
            await websocket.close(4400, f"not text: {exc}")
        except WebSocketDecodeError:
            await websocket.close(4401, "bad JSON")

    closes: list[tuple[int, str]] = []
    for binary in (True, False):
        with TestClient(make_app(handler)).websocket_connect("/") as session:
            session.send_text("{}")
            if binary:
                session.send_bytes(b"{}")
            else:
                session.send_text("{")
            with pytest.raises(WebSocketDisconnect) as info:
                session.receive_text()
            closes.append((info.value.code, info.value.reason))
    assert closes == [(4400, "not text: Expected a text message, got a binary one"), (4401, "bad JSON")]


def test_iterators_stop_on_disconnect() -> None:
    received: list[object] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        kind = websocket.query_params["kind"]
        if kind == "text":
            async for text in websocket.iter_text():
                received.append(text)
        elif kind == "bytes":
            async for data in websocket.iter_bytes():
                received.append(data)
        elif kind == "json":
            async for value in websocket.iter_json():
                received.append(value)
        else:
            async for value in websocket.iter_json(mode="binary"):
                received.append(value)
        received.append("done")
        assert websocket.client_state is WebSocketState.DISCONNECTED

    client = TestClient(make_app(handler))
    with client.websocket_connect("/?kind=text") as session:
        session.send_text("a")
        session.send_text("b")
    with client.websocket_connect("/?kind=bytes") as session:
        session.send_bytes(b"c")
    with client.websocket_connect("/?kind=json") as session:
        session.send_text("[1]")
    with client.websocket_connect("/?kind=json_binary") as session:
        session.send_bytes(b'{"k": null}')
    assert received == ["a", "b", "done", b"c", "done", [1], "done", {"k": None}, "done"]


def test_receive_data_raises_disconnect_with_code() -> None:
    codes: list[tuple[int, str]] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            codes.append((exc.code, exc.reason))

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        session.close(code=4001, reason="bye")
    assert codes == [(4001, "bye")]


# ------------------------------------------------------------- handshake


def test_subprotocol_and_accept_headers() -> None:
    async def handler(websocket: WebSocket) -> None:
        assert list(websocket.scope["subprotocols"]) == ["wamp", "soap"]
        await websocket.accept(subprotocol="soap", headers={"X-Custom": "yes"})
        await websocket.send_text("ok")
        await websocket.close()

    with TestClient(make_app(handler)).websocket_connect("/", subprotocols=["wamp", "soap"]) as session:
        assert session.accepted_subprotocol == "soap"
        assert (b"x-custom", b"yes") in session.extra_headers
        assert session.receive_text() == "ok"


def test_accept_with_raw_headers() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept(headers=[(b"x-raw", b"1")])
        await websocket.close()

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        assert session.accepted_subprotocol is None
        assert (b"x-raw", b"1") in session.extra_headers


def test_subprotocol_not_offered_is_an_error() -> None:
    errors: list[str] = []

    async def steps(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="soap")

    with pytest.raises(WebSocketDisconnect):
        with TestClient(errors_app(steps, errors)).websocket_connect("/", subprotocols=["wamp"]):
            pass  # pragma: no cover - the server closes before accepting
    assert errors == ["Subprotocol 'soap' was not offered by the client"]


def test_close_with_code_and_reason() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code=4000, reason="custom")

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4000, "custom")


def test_a_close_reason_is_cut_to_fit_the_close_frame() -> None:
    """RFC 6455 leaves a reason 123 bytes: a longer one (here 3 bytes a character) is cut at a character boundary."""
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code=4000, reason="\u20ac" * 100)

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4000, "\u20ac" * 41)


def test_a_decode_error_quoting_the_client_closes_with_a_reason_that_fits() -> None:
    """A typed JSON value that is not a choice: the error quotes the client's text, the close still fits."""
    class Choice(enum.Enum):
        ROCK = "rock"

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_json(type=Choice)

    app = TypedASGI(routes=[WebSocketRoute("/", handler)])
    with TestClient(app, raise_server_exceptions=False).websocket_connect("/") as session:
        session.send_text('"' + "\u00e9" * 200 + '"')
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1003
    assert info.value.reason.startswith("Malformed JSON message: Invalid enum value")
    assert len(info.value.reason.encode()) <= 123


def test_close_before_accept_rejects() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.close(code=4003)

    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(make_app(handler)).websocket_connect("/"):
            pass  # pragma: no cover - rejected
    assert info.value.code == 4003


def test_websocket_close_app() -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(WebSocketClose(code=4404, reason="nope")).websocket_connect("/"):
            pass  # pragma: no cover - rejected
    assert (info.value.code, info.value.reason) == (4404, "nope")


def test_websocket_close_app_refuses_http() -> None:
    with pytest.raises(RuntimeError, match="only serves 'websocket' scopes"):
        TestClient(WebSocketClose()).get("/")


def test_connection_details() -> None:
    seen: dict[str, object] = {}

    async def handler(websocket: WebSocket) -> None:
        seen["url"] = str(websocket.url)
        seen["path"] = websocket.url.path
        seen["header"] = websocket.headers["x-token"]
        seen["query"] = websocket.query_params.getlist("a")
        seen["cookie"] = websocket.cookies.get("session")
        seen["client"] = websocket.client
        seen["path_params"] = websocket.path_params
        websocket.state.flag = True
        seen["state"] = websocket.state.flag
        await websocket.accept()
        await websocket.close()

    client = TestClient(make_app(handler))
    with client.websocket_connect("/ws/room?a=1&a=2", headers={"X-Token": "abc", "Cookie": "session=s1"}):
        pass
    assert seen == {
        "url": "ws://testserver/ws/room?a=1&a=2",
        "path": "/ws/room",
        "header": "abc",
        "query": ["1", "2"],
        "cookie": "s1",
        "client": ("testclient", 50000),
        "path_params": {},
        "state": True,
    }


# -------------------------------------------------------- state machine errors


async def _send_before_accept(websocket: WebSocket) -> None:
    await websocket.send_text("too early")


async def _accept_twice(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.accept()


async def _receive_before_accept(websocket: WebSocket) -> None:
    await websocket.receive_text()


async def _raw_receive_before_accept(websocket: WebSocket) -> None:
    await websocket.receive()  # websocket.connect: allowed
    await websocket.receive()


async def _denial_after_accept(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_denial_response(PlainTextResponse("no", status_code=401))


async def _bad_json_mode(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({}, mode="yaml")  # type: ignore[arg-type]  # the runtime check under test


async def _bad_receive_json_mode(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_json(mode="yaml")  # type: ignore[call-overload]  # the runtime check under test


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (_send_before_accept, "Cannot call send() before accept()"),
        (_accept_twice, "Cannot call accept() twice: the connection is already accepted"),
        (_receive_before_accept, "WebSocket is not connected: call accept() first"),
        (_raw_receive_before_accept, "Cannot receive messages before accept(): the handshake is not complete"),
        (_denial_after_accept, "send_denial_response() must be called before accept() or close()"),
        (_bad_json_mode, "mode must be \"text\" or \"binary\", got 'yaml'"),
        (_bad_receive_json_mode, "mode must be \"text\" or \"binary\", got 'yaml'"),
    ],
)
def test_misuse_is_a_clear_error(steps: Handler, message: str) -> None:
    errors: list[str] = []
    try:
        with TestClient(errors_app(steps, errors)).websocket_connect("/") as session:
            session.receive()  # the close that errors_app sends
    except WebSocketDisconnect:
        pass
    assert errors == [message]


def test_errors_after_close() -> None:
    errors: list[str] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()
        for attempt in (websocket.close(), websocket.send_text("late"), websocket.accept()):
            try:
                await attempt
            except RuntimeError as exc:
                errors.append(str(exc))

    with TestClient(make_app(handler)).websocket_connect("/") as session:
        assert session.receive()["type"] == "websocket.close"
    assert errors == [
        "Cannot send 'websocket.close': the connection is already closed",
        "Cannot send 'websocket.send': the connection is already closed",
        "Cannot call accept() once the connection is closed or denied",
    ]


def test_receive_after_disconnect() -> None:
    errors: list[str] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        message = await websocket.receive()
        assert message["type"] == "websocket.disconnect"
        try:
            await websocket.receive()
        except RuntimeError as exc:
            errors.append(str(exc))

    with TestClient(make_app(handler)).websocket_connect("/"):
        pass
    assert errors == ["Cannot call receive() once a disconnect message has been received"]


# ------------------------------------------------------------- denial response


def test_denial_response() -> None:
    async def handler(websocket: WebSocket) -> None:
        response = PlainTextResponse("go away", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await websocket.send_denial_response(response)
        assert websocket.application_state is WebSocketState.DISCONNECTED

    with pytest.raises(WebSocketDenialResponse) as info:
        with TestClient(make_app(handler)).websocket_connect("/"):
            pass  # pragma: no cover - denied
    assert info.value.status_code == 401
    assert info.value.text == "go away"
    assert info.value.headers["www-authenticate"] == "Bearer"


# ------------------------------------------------- direct ASGI: what a server does


def ws_scope(extensions: Extensions | None = None) -> WebSocketScope:
    return websocket_scope(headers={"host": "example.com"}, server=("example.com", 80), extensions=extensions)


class FakeServer:
    """Scripted ``receive`` events; records what the app sends."""

    def __init__(self, *events: ReceiveEvent, fail_send: bool = False) -> None:
        self.events = list(events)
        self.sent: list[SendEvent] = []
        self.fail_send = fail_send

    async def receive(self) -> ReceiveEvent:
        return self.events.pop(0)

    async def send(self, message: SendEvent) -> None:
        if self.fail_send and message["type"] == "websocket.send":
            raise OSError("client gone")
        self.sent.append(message)


def app_state(websocket: WebSocket) -> WebSocketState:
    """Read the state afresh (mypy keeps an earlier narrowing of the attribute across awaits)."""
    return websocket.application_state


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def test_denial_without_extension_closes_before_accept() -> None:
    server = FakeServer({"type": "websocket.connect"})
    websocket: WebSocket = WebSocket(ws_scope(extensions={}), server.receive, server.send)
    run(websocket.send_denial_response(PlainTextResponse("no", status_code=403)))
    assert server.sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]
    assert websocket.application_state is WebSocketState.DISCONNECTED


def test_denial_with_extension_sends_http_messages() -> None:
    server = FakeServer({"type": "websocket.connect"})
    websocket: WebSocket = WebSocket(ws_scope({"websocket.http.response": {}}), server.receive, server.send)
    run(websocket.send_denial_response(PlainTextResponse("nope", status_code=418)))
    kinds = [message["type"] for message in server.sent]
    assert kinds == ["websocket.http.response.start", "websocket.http.response.body"]
    start = server.sent[0]
    assert start["type"] == "websocket.http.response.start" and start["status"] == 418
    body = server.sent[1]
    assert body["type"] == "websocket.http.response.body" and body["body"] == b"nope"
    assert websocket.client_state is WebSocketState.CONNECTED


def test_incomplete_denial_response_is_an_error() -> None:
    async def silent(scope: WebSocketScope, receive: Any, send: Any) -> None:
        return None

    server = FakeServer({"type": "websocket.connect"})
    websocket: WebSocket = WebSocket(ws_scope({"websocket.http.response": {}}), server.receive, server.send)
    with pytest.raises(RuntimeError, match="did not send a complete body"):
        run(websocket.send_denial_response(silent))


def test_denial_messages_need_the_extension() -> None:
    server = FakeServer()
    websocket: WebSocket = WebSocket(ws_scope(extensions=None), server.receive, server.send)
    with pytest.raises(RuntimeError, match="does not support the WebSocket denial response"):
        run(websocket.send({"type": "websocket.http.response.start", "status": 401, "headers": []}))


def test_response_state_only_takes_body_messages() -> None:
    server = FakeServer()
    websocket: WebSocket = WebSocket(ws_scope({"websocket.http.response": {}}), server.receive, server.send)

    async def steps() -> None:
        await websocket.send({"type": "websocket.http.response.start", "status": 401, "headers": []})
        assert websocket.application_state is WebSocketState.RESPONSE
        await websocket.send({"type": "websocket.http.response.body", "body": b"a", "more_body": True})
        assert websocket.application_state is WebSocketState.RESPONSE
        with pytest.raises(RuntimeError, match='Expected ASGI message "websocket.http.response.body"'):
            await websocket.close()
        await websocket.send({"type": "websocket.http.response.body", "body": b"b", "more_body": False})
        assert app_state(websocket) is WebSocketState.DISCONNECTED

    run(steps())
    assert len(server.sent) == 3


def test_unexpected_messages_are_errors() -> None:
    server = FakeServer({"type": "websocket.receive", "text": "x", "bytes": None})
    websocket: WebSocket = WebSocket(ws_scope(), server.receive, server.send)
    with pytest.raises(RuntimeError, match='Expected a "websocket.connect" message'):
        run(websocket.accept())

    server = FakeServer({"type": "websocket.connect"}, {"type": "http.disconnect"})
    websocket = WebSocket(ws_scope(), server.receive, server.send)

    async def steps() -> None:
        await websocket.accept()
        with pytest.raises(RuntimeError, match='Expected a "websocket.receive" or "websocket.disconnect"'):
            await websocket.receive()

    run(steps())


def test_wrong_message_kinds_on_send() -> None:
    server = FakeServer()
    websocket: WebSocket = WebSocket(ws_scope(), server.receive, server.send)

    async def steps() -> None:
        with pytest.raises(RuntimeError, match='Expected "websocket.accept", "websocket.close"'):
            await websocket.send({"type": "websocket.http.response.body", "body": b"", "more_body": False})
        await websocket.send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        with pytest.raises(RuntimeError, match='Expected "websocket.send" or "websocket.close"'):
            await websocket.send({"type": "websocket.http.response.start", "status": 200, "headers": []})

    run(steps())
    assert [message["type"] for message in server.sent] == ["websocket.accept"]


def test_send_to_a_vanished_client_is_a_disconnect() -> None:
    server = FakeServer({"type": "websocket.connect"}, fail_send=True)
    websocket: WebSocket = WebSocket(ws_scope(), server.receive, server.send)

    async def steps() -> None:
        await websocket.accept()
        with pytest.raises(WebSocketDisconnect) as info:
            await websocket.send_text("anyone?")
        assert info.value.code == 1006
        assert websocket.application_state is WebSocketState.DISCONNECTED

    run(steps())


def test_after_a_send_finds_the_client_gone_every_use_is_a_disconnect_not_an_app_error() -> None:
    """A reader and a writer task: once one send learns the client left, the other task's send, receive or close
    must see the same WebSocketDisconnect (the peer's doing), not WebSocketDisconnected (a RuntimeError, the app's
    bug) - which a TaskGroup would wrap with the disconnect into an ExceptionGroup that ``except*
    WebSocketDisconnect`` cannot fully handle."""
    server = FakeServer({"type": "websocket.connect"}, fail_send=True)
    websocket: WebSocket = WebSocket(ws_scope(), server.receive, server.send)

    async def steps() -> None:
        await websocket.accept()
        with pytest.raises(WebSocketDisconnect):
            await websocket.send_text("anyone?")  # the first to find out
        for later in (websocket.send_text("still?"), websocket.send_bytes(b"?"), websocket.receive_text(), websocket.close()):
            with pytest.raises(WebSocketDisconnect) as info:
                await later
            assert type(info.value) is WebSocketDisconnect and info.value.code == 1006

    run(steps())


def test_sending_after_the_app_closed_is_still_the_apps_error() -> None:
    server = FakeServer({"type": "websocket.connect"})
    websocket: WebSocket = WebSocket(ws_scope(), server.receive, server.send)

    async def steps() -> None:
        await websocket.accept()
        await websocket.close()
        with pytest.raises(WebSocketDisconnected):
            await websocket.send_text("after my own close")

    run(steps())


def test_disconnect_without_code_defaults_to_1000() -> None:
    no_code: Any = {"type": "websocket.disconnect"}  # servers may omit the code and reason
    server = FakeServer({"type": "websocket.connect"}, no_code)
    websocket: WebSocket = WebSocket(ws_scope(), server.receive, server.send)

    async def steps() -> None:
        await websocket.accept()
        with pytest.raises(WebSocketDisconnect) as info:
            await websocket.receive_text()
        assert (info.value.code, info.value.reason) == (1000, "")

    run(steps())


def test_http_scope_is_refused() -> None:
    scope: Any = {"type": "http"}
    server = FakeServer()
    with pytest.raises(ValueError, match="needs a 'websocket' scope"):
        WebSocket(scope, server.receive, server.send)


def test_disconnect_exception() -> None:
    exc = WebSocketDisconnect(4000, "gone")
    assert (exc.code, exc.reason) == (4000, "gone")
    assert repr(exc) == "WebSocketDisconnect(code=4000, reason='gone')"
    assert (WebSocketDisconnect().code, WebSocketDisconnect().reason) == (1000, "")


def test_receive_text_in_an_open_session_keeps_the_state_checks() -> None:
    server = FakeServer(
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "one"},
        {"type": "websocket.receive", "bytes": b"two"},
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1001},
    )
    websocket: WebSocket = WebSocket(ws_scope(), server.receive, server.send)

    async def steps() -> None:
        await websocket.accept()
        assert await websocket.receive_text() == "one"
        with pytest.raises(WebSocketDecodeError):
            await websocket.receive_text()
        with pytest.raises(RuntimeError, match="websocket.connect"):
            await websocket.receive_text()
        with pytest.raises(WebSocketDisconnect) as info:
            await websocket.receive_text()
        assert info.value.code == 1001
        with pytest.raises(WebSocketDisconnected):
            await websocket.receive_text()
        await websocket.close()
        with pytest.raises(WebSocketDisconnected):
            await websocket.send_text("late")

    run(steps())


@pytest.mark.parametrize("query_string", [None, "missing"])
def test_a_query_string_none_or_missing_reads_as_empty(query_string: str | None) -> None:
    # The spec: a WebSocket scope's query_string is "Optional; if missing or None default is empty string".
    # None gave TypeError in query_params (and "?None"-free URLs only by luck).
    scope = ws_scope()
    if query_string is None:
        scope["query_string"] = None
    else:
        del scope["query_string"]
    seen: dict[str, object] = {}

    async def endpoint(websocket: WebSocket) -> None:
        seen["params"] = dict(websocket.query_params)
        seen["url"] = str(websocket.url)
        await websocket.close()

    server = FakeServer({"type": "websocket.connect"})
    run(TypedASGI(routes=[WebSocketRoute("/", endpoint)])(scope, server.receive, server.send))
    assert seen == {"params": {}, "url": "ws://example.com/"}


def test_an_exception_handler_that_fails_still_closes_the_websocket() -> None:
    # The handler's own error escaped the error layer: after accept the client got no close frame, before it
    # the handshake was refused with a 500 (a server's answer to an app that crashed), not the 403 of a refusal.
    class Handled(Exception):
        pass

    async def handler(websocket: WebSocket, exc: Exception) -> None:
        raise RuntimeError("the handler failed")

    async def after(websocket: WebSocket) -> None:
        await websocket.accept()
        raise Handled()

    async def before(websocket: WebSocket) -> None:
        raise Handled()

    routes = [WebSocketRoute("/after", after), WebSocketRoute("/before", before)]
    app = TypedASGI(routes=routes, exception_handlers={Handled: handler}, autoload_plugins=False)
    client = TestClient(app, raise_server_exceptions=False)
    with client.websocket_connect("/after") as session:
        assert session.receive() == {"type": "websocket.close", "code": 1011, "reason": ""}
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/before"):
            pass  # pragma: no cover - refused
    assert refused.value.code == 1011

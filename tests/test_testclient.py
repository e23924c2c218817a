"""The TestClient, exercised with plain ASGI apps (functions taking scope, receive, send)."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from typing import Any, cast

import httpx2
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.responses import PlainTextResponse
from typedasgi.routing import Router
from typedasgi.testclient import AsyncTestClient, TestClient, TestClientTimeout, WebSocketDenialResponse
from typedasgi.types import ASGIApp, HTTPScope, Receive, Scope, Send, SendEvent
from typedasgi.websockets import WebSocketDisconnect

# ----------------------------------------------------------------------------- helper apps


async def read_body(receive: Receive) -> tuple[bytes, int]:
    """The whole request body and the number of http.request messages it came in."""
    chunks: list[bytes] = []
    messages = 0
    while True:
        message = await receive()
        assert message["type"] == "http.request"
        messages += 1
        chunks.append(message["body"])
        if not message["more_body"]:
            return b"".join(chunks), messages


async def send_response(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or [], "trailers": False})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def jsonable_scope(scope: HTTPScope) -> dict[str, object]:
    return {
        "asgi": dict(scope["asgi"]),
        "http_version": scope["http_version"],
        "method": scope["method"],
        "scheme": scope["scheme"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode(),
        "query_string": scope["query_string"].decode(),
        "root_path": scope["root_path"],
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "client": list(scope["client"]) if scope["client"] else None,
        "server": list(scope["server"]) if scope["server"] else None,
        "extensions": sorted(scope["extensions"] or {}),
        "state": scope.get("state"),
    }


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the scope and the request body as JSON."""
    assert scope["type"] == "http"
    body, messages = await read_body(receive)
    payload = {"scope": jsonable_scope(scope), "body": body.decode(), "messages": messages}
    await send_response(send, 200, json.dumps(payload).encode(), [(b"content-type", b"application/json")])


def get_json(response: httpx2.Response) -> dict[str, Any]:
    data = response.json()
    assert isinstance(data, dict)
    return data


# ----------------------------------------------------------------------------- HTTP


def test_round_trip_scope() -> None:
    client = TestClient(echo_app)
    response = client.get("/a%20b/c", params={"q": "1 2", "r": "x"}, headers={"X-Custom": "Yes"})
    assert response.status_code == 200
    data = get_json(response)
    scope = data["scope"]
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/a b/c"
    assert scope["raw_path"] == "/a%20b/c"
    assert scope["query_string"] == "q=1+2&r=x"
    assert scope["root_path"] == ""
    headers = dict(scope["headers"])
    assert headers["host"] == "testserver"
    assert headers["x-custom"] == "Yes"
    assert headers["user-agent"] == "testclient"
    assert all(name == name.lower() for name in headers)
    assert scope["client"] == ["testclient", 50000]
    assert scope["server"] == ["testserver", 80]
    assert scope["extensions"] == ["http.response.debug", "http.response.trailers", "typedasgi.raise_exceptions"]  # the app hands errors over
    assert scope["state"] == {}
    assert data["body"] == ""
    assert data["messages"] == 1


def test_base_url_root_path_and_client_address() -> None:
    client = TestClient(echo_app, base_url="https://example.org:8443", root_path="/api", client=("1.2.3.4", 99))
    scope = get_json(client.get("/api/x"))["scope"]
    assert scope["scheme"] == "https"
    assert scope["server"] == ["example.org", 8443]
    assert scope["path"] == "/api/x"
    assert scope["root_path"] == "/api"
    assert scope["client"] == ["1.2.3.4", 99]
    assert dict(scope["headers"])["host"] == "example.org:8443"


def test_request_body_json_and_form() -> None:
    client = TestClient(echo_app)
    assert get_json(client.post("/", content=b"raw bytes"))["body"] == "raw bytes"
    assert json.loads(get_json(client.post("/", json={"a": [1, 2]}))["body"]) == {"a": [1, 2]}
    assert get_json(client.put("/", data={"k": "v w"}))["body"] == "k=v+w"


def test_streamed_request_body_arrives_in_chunks() -> None:
    def chunks() -> Any:
        yield b"one,"
        yield b"two,"
        yield b"three"

    data = get_json(TestClient(echo_app).post("/", content=chunks()))
    assert data["body"] == "one,two,three"
    assert data["messages"] == 3


def test_streaming_response_and_head() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")], "trailers": False})
        for part in (b"a", b"", b"b"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"c", "more_body": False})

    client = TestClient(app)
    response = client.get("/")
    assert (response.status_code, response.content, response.headers["x-a"]) == (201, b"abc", "1")
    head = client.head("/")
    assert (head.status_code, head.content) == (201, b"")


def test_disconnect_only_after_response_complete() -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)

        async def listen() -> None:
            message = await receive()
            events.append(message["type"])

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.01)
        events.append("before-end")
        await send_response(send, 200, b"ok")
        await asyncio.wait_for(listener, 1)

    assert TestClient(app).get("/").text == "ok"
    assert events == ["before-end", "http.disconnect"]


def test_cookies_persist() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers = dict(scope["headers"])
        if scope["path"] == "/set":
            await send_response(send, 200, b"", [(b"set-cookie", b"session=abc; Path=/")])
        else:
            await send_response(send, 200, headers.get(b"cookie", b"none"))

    client = TestClient(app, cookies={"initial": "1"})
    assert client.get("/get").text == "initial=1"
    client.get("/set")
    assert sorted(client.get("/get").text.split("; ")) == ["initial=1", "session=abc"]


def test_redirects_followed_by_default() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        if scope["path"] == "/old":
            await send_response(send, 307, b"", [(b"location", b"/new")])
        else:
            await send_response(send, 200, scope["path"].encode())

    response = TestClient(app).get("/old")
    assert (response.status_code, response.text, response.url.path) == (200, "/new", "/new")
    assert [r.status_code for r in response.history] == [307]
    not_followed = TestClient(app, follow_redirects=False).get("/old")
    assert (not_followed.status_code, not_followed.headers["location"]) == (307, "/new")


class Boom(Exception):
    pass


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise Boom("kaputt")


async def fails_after_start(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 202, "headers": [], "trailers": False})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise Boom("late")


def test_server_exceptions_raised() -> None:
    with pytest.raises(Boom, match="kaputt"):
        TestClient(failing_app).get("/")
    with pytest.raises(Boom, match="late"):
        TestClient(fails_after_start).get("/")


def test_server_exceptions_as_500() -> None:
    response = TestClient(failing_app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    started = TestClient(fails_after_start, raise_server_exceptions=False).get("/")
    assert (started.status_code, started.content) == (202, b"partial")


@pytest.mark.parametrize("error", [asyncio.CancelledError, GeneratorExit, SystemExit], ids=lambda e: e.__name__)
def test_an_app_raising_a_base_exception_is_a_server_error_too(error: type[BaseException]) -> None:
    """uvicorn answers 500 to any exception out of the app: a CancelledError the app raised itself (not a cancel of
    the request), GeneratorExit, SystemExit. The client too - not "no response", nor a task exception left unread."""

    async def raising(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/ok":
            await PlainTextResponse("ok")(scope, receive, send)
            return
        raise error()

    assert TestClient(raising, raise_server_exceptions=False).get("/").status_code == 500
    client = TestClient(raising)
    with pytest.raises(error):  # raised to the test as it is
        client.get("/")
    assert client.get("/ok").text == "ok"  # and the client's loop thread lives on

    async def in_the_callers_loop() -> int:
        return (await AsyncTestClient(raising, raise_server_exceptions=False).get("/")).status_code

    assert asyncio.run(in_the_callers_loop()) == 500


@pytest.mark.parametrize("error", [asyncio.CancelledError, SystemExit], ids=lambda e: e.__name__)
def test_a_websocket_app_raising_a_base_exception_is_a_server_error_too(error: type[BaseException]) -> None:
    async def raising(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await PlainTextResponse("ok")(scope, receive, send)
            return
        await receive()
        await send({"type": "websocket.accept"})
        raise error()

    for raise_errors in (True, False):
        client = TestClient(raising, raise_server_exceptions=raise_errors)
        with pytest.raises(error if raise_errors else WebSocketDisconnect) as info:
            with client.websocket_connect("/ws") as websocket:
                websocket.receive()
        if not raise_errors:
            assert isinstance(info.value, WebSocketDisconnect) and info.value.code == 1011  # a server's close
        assert client.get("/").text == "ok"  # the client's loop thread lives on


def test_app_without_response_is_an_error() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    async def unfinished(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})

    with pytest.raises(RuntimeError, match="without sending 'http.response.start'"):
        TestClient(silent, check_asgi=False).get("/")
    with pytest.raises(RuntimeError, match="without sending 'http.response.start'"):
        TestClient(silent, raise_server_exceptions=False, check_asgi=False).get("/")
    with pytest.raises(RuntimeError, match="before body completed"):
        TestClient(unfinished, check_asgi=False).get("/")


def test_protocol_violations_are_errors() -> None:
    async def body_first(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"x", "more_body": False})

    async def double_start(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})

    with pytest.raises(RuntimeError, match="before 'http.response.start'"):
        TestClient(body_first, check_asgi=False).get("/")
    with pytest.raises(RuntimeError, match="twice"):
        TestClient(double_start, check_asgi=False).get("/")


def test_hung_app_times_out() -> None:
    async def hangs(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(60)

    client = TestClient(hangs, timeout=0.05, raise_server_exceptions=False)
    with pytest.raises(TestClientTimeout, match="GET /slow"):
        client.get("/slow")


def test_debug_extension_exposed() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        assert "http.response.debug" in (scope["extensions"] or {})
        await send({"type": "http.response.debug", "info": {"template": "t.html", "context": {"a": 1}}})
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    response = TestClient(app).get("/")
    assert response.extensions["http.response.debug"] == {"template": "t.html", "context": {"a": 1}}
    assert getattr(response, "template") == "t.html"


class ASGI2App:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        assert self.scope["type"] == "http"
        await send_response(send, 200, f"asgi2 {self.scope['path']}".encode())


def test_asgi2_app() -> None:
    assert TestClient(ASGI2App).get("/p").text == "asgi2 /p"


def asgi2_function_app(scope: Scope) -> Any:  # ASGI 2, function style: the scope in, a coroutine function out
    async def instance(receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        await send_response(send, 200, f"asgi2 function {scope['path']}".encode())

    return instance


def test_asgi2_function_app() -> None:
    assert TestClient(asgi2_function_app).get("/f").text == "asgi2 function /f"


def test_starlette_backend_arguments() -> None:
    debug_flags: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan")  # the client then goes on without one
        debug_flags.append(asyncio.get_running_loop().get_debug())
        await send_response(send, 200, b"ok")

    with TestClient(app, backend="asyncio", backend_options={"debug": True}) as client:
        assert client.get("/").text == "ok"
    assert TestClient(app, backend_options={"loop_factory": asyncio.new_event_loop}).get("/").text == "ok"
    assert debug_flags == [True, False]
    with pytest.raises(ValueError, match="asyncio only"):
        TestClient(app, backend="trio")
    with pytest.raises(TypeError, match="Unknown asyncio backend_options: nonsense"):
        TestClient(app, backend_options={"nonsense": 1})


def test_one_loop_thread_per_client_stopped_on_close() -> None:
    loops: set[int] = set()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        loops.add(id(asyncio.get_running_loop()))
        await send_response(send, 200, threading.current_thread().name.encode())

    before = threading.active_count()
    client = TestClient(app)
    assert client.get("/").text == "typedasgi-testclient"
    client.get("/")
    assert len(loops) == 1
    assert threading.active_count() == before + 1
    client.close()
    assert threading.active_count() == before


# ----------------------------------------------------------------------------- lifespan


def lifespan_app(log: list[str], *, fail: str | None = None, raise_exc: bool = False) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            state = scope.get("state")
            assert state is not None
            message = await receive()
            assert message["type"] == "lifespan.startup"
            log.append("startup")
            if fail == "startup":
                await send({"type": "lifespan.startup.failed", "message": "no database"})
                if raise_exc:
                    raise Boom("no database")
                return
            state["db"] = "connected"
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
            log.append("shutdown")
            if fail == "shutdown":
                await send({"type": "lifespan.shutdown.failed", "message": "cannot close"})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert scope["type"] == "http"
        state = scope.get("state", {})
        state["request-local"] = True  # a copy: must not leak into the next request
        log.append(f"request {sorted(state)}")
        await send_response(send, 200, b"ok")

    return app


def test_lifespan_startup_state_shutdown() -> None:
    log: list[str] = []
    with TestClient(lifespan_app(log)) as client:
        assert log == ["startup"]
        client.get("/")
        client.get("/")
        assert client.app_state == {"db": "connected"}
    assert log == ["startup", "request ['db', 'request-local']", "request ['db', 'request-local']", "shutdown"]


def test_client_reusable_after_with_block() -> None:
    log: list[str] = []
    client = TestClient(lifespan_app(log))
    with client:
        pass
    with client:
        client.get("/")
    assert log == ["startup", "shutdown", "startup", "request ['db', 'request-local']", "shutdown"]


def test_lifespan_startup_failure() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError, match="Lifespan startup failed: no database"):
        with TestClient(lifespan_app(log, fail="startup")):
            pytest.fail("the block must not run")  # pragma: no cover
    with pytest.raises(Boom, match="no database"):  # the app's own exception wins
        with TestClient(lifespan_app(log, fail="startup", raise_exc=True)):
            pytest.fail("the block must not run")  # pragma: no cover


def test_lifespan_shutdown_failure() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError, match="Lifespan shutdown failed: cannot close"):
        with TestClient(lifespan_app(log, fail="shutdown")):
            pass
    assert log == ["startup", "shutdown"]


def test_app_without_lifespan_support() -> None:
    async def http_only(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http", "lifespan not supported"
        await send_response(send, 200, b"fine")

    with TestClient(http_only) as client:
        assert client.get("/").text == "fine"


def test_lifespan_error_in_a_middleware_of_an_app_is_raised() -> None:
    class Broken(Exception):
        pass

    class BrokenMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            raise Broken(scope["type"])

    app = TypedASGI(middleware=[Middleware(BrokenMiddleware)])  # an app always speaks lifespan: a fault
    with pytest.raises(Broken, match="lifespan"):
        with TestClient(app):
            pass  # pragma: no cover
    with pytest.raises(Broken, match="lifespan"):
        with TestClient(Router(middleware=[Middleware(BrokenMiddleware)])):
            pass  # pragma: no cover


# ----------------------------------------------------------------------------- async client


def test_async_client_round_trip_and_lifespan() -> None:
    log: list[str] = []

    async def main() -> None:
        async with AsyncTestClient(lifespan_app(log)) as client:
            response = await client.get("/")
            assert response.text == "ok"
        echo = AsyncTestClient(echo_app, root_path="/r")
        data = get_json(await echo.post("/r/x?y=1", content=b"body"))
        assert data["body"] == "body"
        assert data["scope"]["path"] == "/r/x"
        assert data["scope"]["root_path"] == "/r"
        assert data["scope"]["query_string"] == "y=1"
        with pytest.raises(Boom):
            await AsyncTestClient(failing_app).get("/")
        assert (await AsyncTestClient(failing_app, raise_server_exceptions=False).get("/")).status_code == 500

    asyncio.run(main())
    assert log == ["startup", "request ['db', 'request-local']", "shutdown"]


# ----------------------------------------------------------------------------- websockets


async def ws_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts, then echoes every message until the client leaves; records nothing."""
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        assert message["type"] == "websocket.receive"
        await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})


def test_websocket_echo_text_bytes_json() -> None:
    with TestClient(ws_echo).websocket_connect("/ws") as session:
        session.send_text("hello")
        assert session.receive_text() == "hello"
        session.send_bytes(b"\x00\xff")
        assert session.receive_bytes() == b"\x00\xff"
        session.send_json({"a": [1, "é"]})
        message = session.receive()
        assert message == {"type": "websocket.send", "text": '{"a":[1,"é"]}', "bytes": None}
        session.send_json([1, 2], mode="binary")
        assert session.receive_json(mode="binary") == [1, 2]
        session.send_json({"k": None})
        assert session.receive_json() == {"k": None}
        session.send_text("text")
        with pytest.raises(TypeError, match="Expected a bytes message"):
            session.receive_bytes()


def test_websocket_scope_subprotocol_and_headers() -> None:
    seen: dict[str, object] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        seen.update(
            scheme=scope["scheme"],
            path=scope["path"],
            query=scope["query_string"],
            subprotocols=list(scope["subprotocols"]),
            extensions=scope["extensions"],
            state=scope.get("state"),
            headers=dict(scope["headers"]),
        )
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "b", "headers": [(b"x-extra", b"1")]})
        await receive()

    client = TestClient(app, cookies={"c": "1"})
    with client.websocket_connect("/a%20b?x=1", subprotocols=["a", "b"], headers={"X-Token": "t"}) as session:
        assert session.accepted_subprotocol == "b"
        assert session.extra_headers == [(b"x-extra", b"1")]
    assert seen["scheme"] == "ws" and seen["path"] == "/a b" and seen["query"] == b"x=1"
    assert seen["subprotocols"] == ["a", "b"]
    assert seen["extensions"] == {"websocket.http.response": {}, "typedasgi.raise_exceptions": {}}
    assert seen["state"] == {}
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers[b"x-token"] == b"t" and headers[b"cookie"] == b"c=1" and headers[b"host"] == b"testserver"
    assert headers[b"sec-websocket-protocol"] == b"a, b"
    assert headers[b"upgrade"] == b"websocket" and headers[b"connection"] == b"upgrade"
    seen.clear()
    with client.websocket_connect("/q?a=1", params={"b": "2"}, cookies={"d": "4"}):
        pass
    assert seen.get("query") == b"b=2" and seen.get("path") == "/q"
    with_params = seen.get("headers")
    assert isinstance(with_params, dict) and b"d=4" in with_params[b"cookie"]
    secure = TestClient(app, base_url="https://testserver")
    with secure.websocket_connect("/", subprotocols=["b"]):
        pass
    assert seen.get("scheme") == "wss"


def test_websocket_connect_sends_auth_credentials_as_requests_do() -> None:
    seen: list[str | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        seen.append(dict(scope["headers"]).get(b"authorization", b"").decode() or None)
        await receive()
        await send({"type": "websocket.close", "code": 1000})

    def bearer(request: httpx2.Request) -> httpx2.Request:
        request.headers["Authorization"] = "Bearer t0k3n"
        return request

    with_default = TestClient(app)
    with_default.auth = ("c", "d")  # the client's own auth applies when the call gives none
    attempts = [TestClient(app), TestClient(app), TestClient(app), with_default]
    auths: list[Any] = [("ada", "secret"), httpx2.BasicAuth("ada", "secret"), bearer, None]
    for client, auth in zip(attempts, auths):
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/", auth=auth):
                pass  # pragma: no cover - the app closes the handshake
    assert seen == ["Basic YWRhOnNlY3JldA==", "Basic YWRhOnNlY3JldA==", "Bearer t0k3n", "Basic Yzpk"]


def test_websocket_client_close_code_reaches_app() -> None:
    received: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        received.append(await receive())

    with TestClient(app).websocket_connect("/") as session:
        session.close(code=4001, reason="bye")
    with TestClient(app).websocket_connect("/"):
        pass
    assert received == [
        {"type": "websocket.disconnect", "code": 4001, "reason": "bye"},
        {"type": "websocket.disconnect", "code": 1000, "reason": None},
    ]


def test_websocket_closed_by_server() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        await send({"type": "websocket.send", "text": "last", "bytes": None})
        await send({"type": "websocket.close", "code": 4000, "reason": "done"})

    with TestClient(app).websocket_connect("/") as session:
        assert session.receive_text() == "last"
        assert session.receive() == {"type": "websocket.close", "code": 4000, "reason": "done"}  # as Starlette's
        for _ in range(2):  # stays closed
            with pytest.raises(WebSocketDisconnect) as info:
                session.receive()
            assert (info.value.code, info.value.reason) == (4000, "done")
    with TestClient(app).websocket_connect("/") as session:
        assert session.receive_text() == "last"
        with pytest.raises(WebSocketDisconnect) as info:  # the typed receives raise at the close itself
            session.receive_json()
        assert (info.value.code, info.value.reason) == (4000, "done")


def test_websocket_close_before_accept() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4403, "reason": "forbidden"})

    with pytest.raises(WebSocketDisconnect) as info:
        with TestClient(app).websocket_connect("/"):
            pytest.fail("not accepted")  # pragma: no cover
    assert (info.value.code, info.value.reason) == (4403, "forbidden")


def test_websocket_denial_response() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 401, "headers": [(b"x-why", b"token")]})
        await send({"type": "websocket.http.response.body", "body": b'{"detail":', "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b'"no"}', "more_body": False})

    with pytest.raises(WebSocketDenialResponse) as info:
        with TestClient(app).websocket_connect("/"):
            pytest.fail("denied")  # pragma: no cover
    denial = info.value
    assert (denial.status_code, denial.headers["x-why"], denial.content) == (401, "token", b'{"detail":"no"}')
    assert denial.json() == {"detail": "no"}
    assert denial.text == '{"detail":"no"}'
    assert "401" in str(denial)


def test_websocket_app_ending_before_accept() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    async def raising(scope: Scope, receive: Receive, send: Send) -> None:
        raise Boom("handshake")

    with pytest.raises(WebSocketDenialResponse) as info:
        TestClient(silent, check_asgi=False).websocket_connect("/").__enter__()
    assert info.value.status_code == 403
    with pytest.raises(Boom, match="handshake"):
        TestClient(raising, check_asgi=False).websocket_connect("/").__enter__()
    with pytest.raises(WebSocketDenialResponse) as info:
        TestClient(raising, raise_server_exceptions=False, check_asgi=False).websocket_connect("/").__enter__()
    assert info.value.status_code == 500


def test_websocket_app_exception_raised_in_test() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        await receive()
        raise Boom("mid-session")

    with pytest.raises(Boom, match="mid-session"):
        with TestClient(app).websocket_connect("/") as session:
            session.send_text("x")
            session.receive()
    with pytest.raises(Boom, match="mid-session"):  # also when the test never looks again
        with TestClient(app).websocket_connect("/") as session:
            session.send_text("x")
    with TestClient(app, raise_server_exceptions=False).websocket_connect("/") as session:
        session.send_text("x")
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive()
        assert info.value.code == 1011


def test_websocket_app_reacting_to_disconnect_is_not_an_error() -> None:
    outcomes: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        message = await receive()
        if message["type"] == "websocket.disconnect":
            try:
                await send({"type": "websocket.send", "text": "too late", "bytes": None})
            except OSError:
                outcomes.append("OSError")
            raise WebSocketDisconnect(message["code"])

    with TestClient(app).websocket_connect("/"):
        pass
    assert outcomes == ["OSError"]


def test_websocket_protocol_violation() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.send", "text": "early", "bytes": None})

    with pytest.raises(RuntimeError, match="'websocket.send' while the websocket was connecting"):
        TestClient(app, check_asgi=False).websocket_connect("/").__enter__()


def test_websocket_app_not_listening_is_cancelled_on_leaving() -> None:
    outcomes: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        try:
            await asyncio.Event().wait()  # never reads again: it cannot learn that the client left
        except asyncio.CancelledError:
            outcomes.append("cancelled")
            raise

    with TestClient(app).websocket_connect("/"):
        pass
    assert outcomes == ["cancelled"]


def test_websocket_app_listening_finishes_its_clean_up_on_leaving() -> None:
    outcomes: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        message = await receive()
        await asyncio.sleep(0)  # clean-up that awaits is not cut short
        outcomes.append(message["type"])

    with TestClient(app).websocket_connect("/"):
        pass
    assert outcomes == ["websocket.disconnect"]


def test_websocket_app_ignoring_disconnect_times_out() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        await receive()  # told that the client left, and yet it hangs
        await asyncio.sleep(60)

    with pytest.raises(TestClientTimeout, match="after the client disconnected"):
        with TestClient(app, timeout=0.05).websocket_connect("/"):
            pass
    with TestClient(app, timeout=0.05).websocket_connect("/") as session:
        with pytest.raises(TestClientTimeout, match="next message"):
            session.receive()
        with pytest.raises(TestClientTimeout):
            session.__exit__(None, None, None)
        session.__exit__(None, None, None)  # finished: leaving again is a no-op


def test_websocket_with_dropped_client_and_lifespan_state() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["greeting"] = "hi"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert scope["type"] == "websocket"
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        await send({"type": "websocket.send", "text": scope["state"].get("greeting", "none"), "bytes": None})
        await receive()

    with TestClient(app) as client:
        with client.websocket_connect("/") as session:
            assert session.receive_text() == "hi"
    session = TestClient(app).websocket_connect("/")  # the client itself is dropped at once
    gc.collect()
    with session:
        assert session.receive_text() == "none"


@pytest.mark.parametrize("payload", [{}, {"text": None, "bytes": None}, {"text": "a", "bytes": b"a"}])
def test_a_websocket_send_without_exactly_one_payload_fails_in_the_app(payload: dict[str, object]) -> None:
    # The client passed such a message on, and receive_text() then said the app sent bytes: a server cannot
    # send it at all (uvicorn's send fails), so the app's send() fails here too, where the mistake is.
    failures: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        try:
            await send(cast(SendEvent, {"type": "websocket.send", **payload}))  # the mistake under test
        except TypeError as exc:
            failures.append(exc)
            raise

    with pytest.raises(TypeError, match="exactly one of 'bytes' and 'text'"):
        with TestClient(app, check_asgi=False).websocket_connect("/") as session:  # the client's own check
            session.receive_text()
    assert len(failures) == 1

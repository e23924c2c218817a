"""BaseHTTPMiddleware: call_next streams, keeps background tasks, propagates errors, cancels cleanly."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTask
from typedasgi.exceptions import HTTPException
from typedasgi.middleware import Middleware
from typedasgi.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response, StreamingResponse
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Receive, ReceiveEvent, Scope, Send, SendEvent, extension_send
from typedasgi.websockets import WebSocket

from tests.support import body_receiver, http_scope
from tests.support import drive as drive_once

TIMEOUT = 5.0


class CustomHeader(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["x-custom"] = "yes"
        return response


async def drive(app: ASGIApp, scope: Scope | None = None) -> list[Any]:
    """Run ``app`` once with plain ASGI calls; the client sends an empty body and stays connected."""
    stays_connected = body_receiver(disconnect=asyncio.Event())  # an event nobody sets
    return await drive_once(app, scope or http_scope(), receive=stays_connected)


def pending_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


# --------------------------------------------------------------------- the basics


def test_dispatch_edits_the_response_inside_an_app() -> None:
    async def home(request: Request) -> Response:
        return PlainTextResponse("home", headers={"x-app": "1"})

    app = TypedASGI(routes=[Route("/", home)], middleware=[Middleware(CustomHeader)])
    response = TestClient(app).get("/")
    assert response.text == "home"
    assert response.headers["x-custom"] == "yes"
    assert response.headers["x-app"] == "1"
    assert response.headers["content-length"] == "4"


def test_dispatch_function_argument() -> None:
    async def add_header(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.status_code = 201
        return response

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("bare")(scope, receive, send)

    response = TestClient(BaseHTTPMiddleware(app, dispatch=add_header)).get("/")
    assert (response.status_code, response.text) == (201, "bare")


def test_dispatch_must_be_provided() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover - never reached
        pass

    with pytest.raises(NotImplementedError):
        TestClient(BaseHTTPMiddleware(app)).get("/")


def test_short_circuit_without_calling_next() -> None:
    class Deny(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if request.headers.get("x-key") != "ok":
                return PlainTextResponse("denied", status_code=401)
            return await call_next(request)

    async def home(request: Request) -> Response:
        return PlainTextResponse("home")

    client = TestClient(TypedASGI(routes=[Route("/", home)], middleware=[Middleware(Deny)]))
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"x-key": "ok"}).text == "home"


def test_websocket_and_head_pass_through() -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ws")
        await websocket.close()

    async def home(request: Request) -> Response:
        return PlainTextResponse("home")

    client = TestClient(TypedASGI(routes=[Route("/", home), WebSocketRoute("/ws", ws)], middleware=[Middleware(CustomHeader)]))
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "ws"
    head = client.head("/")
    assert (head.status_code, head.content, head.headers["x-custom"]) == (200, b"", "yes")


# --------------------------------------------------------------------- streaming


def test_body_is_streamed_not_buffered() -> None:
    """The endpoint only produces chunk 2 after the client got chunk 1: buffering would deadlock."""

    async def scenario() -> list[Any]:
        first_chunk_out = asyncio.Event()
        sent: list[Any] = []

        async def numbers() -> AsyncIterator[bytes]:
            yield b"one;"
            await asyncio.wait_for(first_chunk_out.wait(), TIMEOUT)
            yield b"two;"

        async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
            await StreamingResponse(numbers())(scope, receive, send)

        async def send(message: SendEvent) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and message["body"] == b"one;":
                first_chunk_out.set()

        never = asyncio.Event()

        async def receive() -> ReceiveEvent:
            await never.wait()  # the client stays connected
            raise AssertionError("unreachable")  # pragma: no cover

        await asyncio.wait_for(CustomHeader(endpoint)(http_scope(), receive, send), TIMEOUT)
        return sent

    sent = asyncio.run(scenario())
    assert [m.get("body") for m in sent if m["type"] == "http.response.body"] == [b"one;", b"two;", b""]
    assert dict(sent[0]["headers"])[b"x-custom"] == b"yes"


def test_streaming_and_background_tasks_inside_an_app() -> None:
    events: list[str] = []

    async def numbers() -> AsyncIterator[str]:
        for number in range(3):
            events.append(f"chunk {number}")
            yield str(number)

    async def stream(request: Request) -> Response:
        return StreamingResponse(numbers(), background=BackgroundTask(events.append, "endpoint task"))

    class WithTask(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            response.background = BackgroundTask(events.append, "middleware task")
            return response

    app = TypedASGI(routes=[Route("/", stream)], middleware=[Middleware(WithTask), Middleware(CustomHeader)])
    response = TestClient(app).get("/")
    assert response.text == "012"
    assert response.headers["x-custom"] == "yes"
    # Both tasks ran before the client got its answer back, after the body.
    assert events == ["chunk 0", "chunk 1", "chunk 2", "endpoint task", "middleware task"]


def test_replacing_the_body_iterator() -> None:
    class Upper(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            assert isinstance(response, StreamingResponse)
            inner = response.body_iterator

            async def upper() -> AsyncIterator[bytes]:
                async for chunk in inner:
                    yield (chunk.encode() if isinstance(chunk, str) else bytes(chunk)).upper()

            response.body_iterator = upper()
            del response.headers["content-length"]
            return response

    done: list[str] = []

    async def home(request: Request) -> Response:
        return PlainTextResponse("hello", background=BackgroundTask(done.append, "bg"))

    response = TestClient(TypedASGI(routes=[Route("/", home)], middleware=[Middleware(Upper)])).get("/")
    assert response.text == "HELLO"
    assert done == ["bg"]


def test_reading_the_whole_body_iterator_in_dispatch() -> None:
    class Log(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            assert isinstance(response, StreamingResponse)
            body = b"".join([c.encode() if isinstance(c, str) else bytes(c) async for c in response.body_iterator])
            return PlainTextResponse(f"logged {body.decode()}", status_code=response.status_code)

    async def home(request: Request) -> Response:
        return PlainTextResponse("data", status_code=202)

    response = TestClient(TypedASGI(routes=[Route("/", home)], middleware=[Middleware(Log)])).get("/")
    assert (response.status_code, response.text) == (202, "logged data")


def test_debug_and_trailer_messages_are_forwarded_in_order() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await extension_send(send)({"type": "http.response.debug", "info": {"template": "t.html"}})
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": b"x", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")], "more_trailers": False})

    sent = asyncio.run(drive(CustomHeader(app)))
    assert [m["type"] for m in sent] == [
        "http.response.debug",
        "http.response.start",
        "http.response.body",
        "http.response.body",
        "http.response.trailers",
    ]
    assert sent[1]["trailers"] is True  # declared: kept, so the trailers are not lost
    assert sent[4]["headers"] == [(b"x-checksum", b"1")]


def test_messages_leave_in_starlettes_shape() -> None:
    """Outer middleware and tests written against Starlette see the same messages."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-app", b"1")], "trailers": False})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"two", "more_body": False})

    sent = asyncio.run(drive(CustomHeader(app)))
    assert sent == [
        {"type": "http.response.start", "status": 201, "headers": [(b"x-app", b"1"), (b"x-custom", b"yes")]},
        {"type": "http.response.body", "body": b"one", "more_body": True},
        {"type": "http.response.body", "body": b"two", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


def test_pathsend_passes_through() -> None:
    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        seen.append(sorted(map(str, scope["extensions"] or {})))
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        await extension_send(send)({"type": "http.response.pathsend", "path": "/srv/file.txt"})

    scope = http_scope(extensions={"http.response.pathsend": {}, "http.response.zerocopysend": {}})
    sent = asyncio.run(drive(CustomHeader(app), scope))
    assert seen == [["http.response.pathsend"]]  # zerocopysend stays hidden: its bodies pass as bytes
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    assert sent[1]["path"] == "/srv/file.txt" and (b"x-custom", b"yes") in sent[0]["headers"]


def test_background_task_starts_after_the_last_body_message_was_sent() -> None:
    events: list[str] = []

    async def note_background() -> None:
        events.append("background")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("hello", background=BackgroundTask(note_background))

    async def slow_send(message: SendEvent) -> None:
        await asyncio.sleep(0.01)  # the client takes its time; the background task must wait for it
        events.append(message["type"])

    app = TypedASGI(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeader)])
    asyncio.run(app(http_scope(), body_receiver(disconnect=asyncio.Event()), slow_send))
    assert events == ["http.response.start", "http.response.body", "http.response.body", "background"]


def test_failing_background_task_behind_the_middleware(caplog: pytest.LogCaptureFixture) -> None:
    async def fail() -> None:
        raise Boom("task failed")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("done", background=BackgroundTask(fail))

    app = TypedASGI(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeader)])
    with pytest.raises(Boom, match="task failed"):  # the test sees it
        TestClient(app).get("/")
    with caplog.at_level(logging.ERROR, logger="typedasgi.background"):  # a server: logged, the client is served
        response = TestClient(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (200, "done")
    assert [r.getMessage() for r in caplog.records if r.name == "typedasgi.background"] == [
        f"Background task {fail.__module__}.{fail.__qualname__} failed after GET /"
    ]


# ------------------------------------------------------------------- request body


def test_body_read_in_dispatch_is_handed_to_the_endpoint() -> None:
    class ReadBody(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            body = await request.body()
            response = await call_next(request)
            response.headers["x-seen"] = body.decode()
            return response

    async def echo(request: Request) -> Response:
        return PlainTextResponse((await request.body()).upper())

    client = TestClient(TypedASGI(routes=[Route("/", echo, methods=["POST"])], middleware=[Middleware(ReadBody)]))
    response = client.post("/", content=b"payload")
    assert (response.text, response.headers["x-seen"]) == ("PAYLOAD", "payload")

    def chunks() -> Any:
        yield b"part1-"
        yield b"part2"

    response = client.post("/", content=chunks())
    assert response.text == "PART1-PART2"


def test_body_not_read_in_dispatch_reaches_the_endpoint() -> None:
    async def echo(request: Request) -> Response:
        return PlainTextResponse(await request.body())

    client = TestClient(TypedASGI(routes=[Route("/", echo, methods=["POST"])], middleware=[Middleware(CustomHeader)]))
    assert client.post("/", content=b"direct").text == "direct"


def body_app(read: str, seen: list[object]) -> TypedASGI:
    """An app whose middleware reads the body as ``read`` says before call_next; the endpoint records what it got."""

    class Reader(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if read == "body":
                seen.append(await request.body())
            elif read == "stream":
                seen.append([chunk async for chunk in request.stream()])
            response = await call_next(request)
            if read == "after":
                with pytest.raises(RuntimeError, match="Stream consumed"):
                    [chunk async for chunk in request.stream()]
                seen.append("consumed by the app")
            return response

    async def endpoint(request: Request) -> Response:
        seen.append([chunk async for chunk in request.stream()])
        return PlainTextResponse("ok")

    return TypedASGI(routes=[Route("/", endpoint, methods=["POST"])], middleware=[Middleware(Reader)])


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("body", [b"ab", [b"ab", b""]]),  # read whole in dispatch: handed to the app whole
        ("stream", [[b"a", b"b", b""], [b""]]),  # streamed by dispatch: the app gets an empty body
        ("after", [[b"a", b"b", b""], "consumed by the app"]),  # read by the app: gone for dispatch
    ],
)
def test_the_body_is_read_once_as_in_starlette(read: str, expected: list[object]) -> None:
    seen: list[object] = []

    def chunks() -> Any:
        yield b"a"
        yield b"b"

    assert TestClient(body_app(read, seen)).post("/", content=chunks()).text == "ok"
    assert seen == expected


def test_a_disconnect_is_remembered_for_the_app() -> None:
    received: list[object] = []

    class ReadsTwice(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            return await call_next(request)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for _ in range(3):  # a second read must not wait for a server that will say nothing more
            received.append((await receive())["type"])
        await PlainTextResponse("x")(scope, receive, send)

    calls = 0

    async def server_receive() -> ReceiveEvent:
        nonlocal calls
        calls += 1
        if calls > 1:
            await asyncio.Event().wait()  # a server says disconnect once
        return {"type": "http.disconnect"}

    asyncio.run(drive_once(ReadsTwice(app), http_scope(), receive=server_receive))
    assert received == ["http.disconnect"] * 3 and calls == 1


# ------------------------------------------------------------------------ errors


class Boom(Exception):
    pass


def test_error_before_the_response_comes_out_of_call_next() -> None:
    caught: list[str] = []

    class Catch(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            try:
                return await call_next(request)
            except Boom as exc:
                caught.append(repr(exc))
                return PlainTextResponse("recovered", status_code=503)

    async def broken(request: Request) -> Response:
        raise Boom("endpoint failed")

    client = TestClient(TypedASGI(routes=[Route("/", broken)], middleware=[Middleware(Catch)]))
    response = client.get("/")
    assert (response.status_code, response.text) == (503, "recovered")
    assert caught == ["Boom('endpoint failed')"]


def test_uncaught_error_propagates_with_its_type() -> None:
    async def broken(request: Request) -> Response:
        raise Boom("endpoint failed")

    app = TypedASGI(routes=[Route("/", broken)], middleware=[Middleware(CustomHeader)])
    with pytest.raises(Boom, match="endpoint failed"):
        TestClient(app).get("/")
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


def test_http_exception_is_handled_inside() -> None:
    async def missing(request: Request) -> Response:
        raise HTTPException(404, "no such thing")

    app = TypedASGI(routes=[Route("/", missing)], middleware=[Middleware(CustomHeader)])
    response = TestClient(app).get("/")
    assert (response.status_code, response.text, response.headers["x-custom"]) == (404, "no such thing", "yes")


class ReadsTheBody(BaseHTTPMiddleware):
    """Reads the body (or form) before the app, as signature or audit middleware does."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.headers.get("content-type", "").startswith(("multipart/", "application/x-www")):
            await request.form()
        else:
            await request.body()
        return await call_next(request)


def test_a_client_error_met_in_dispatch_is_its_4xx_not_a_500(caplog: pytest.LogCaptureFixture) -> None:
    """A body past the limit, a malformed form: raised in ``dispatch``, above the app's handlers, they
    are still the client's 413/400 (in the default handler's shape) and no server error is logged."""
    async def echo(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    app = TypedASGI(routes=[Route("/", echo, methods=["POST"])], middleware=[Middleware(ReadsTheBody)], max_body_size=10)
    client = TestClient(app)
    with caplog.at_level(logging.ERROR):
        assert client.post("/", content=b"x" * 10).text == "10"
        too_large = client.post("/", content=b"x" * 11)
        assert too_large.status_code == 413 and "larger than the limit" in too_large.text
        assert client.post("/", content=b"x", headers={"content-type": "multipart/form-data"}).status_code == 400
        denied = client.post("/", content=b"x" * 11, headers={"accept": "application/json"})
    assert denied.status_code == 413 and "detail" in denied.json()
    assert [r for r in caplog.records if r.name == "typedasgi.error"] == []


@pytest.mark.parametrize("with_middleware", [False, True], ids=["app", "BaseHTTPMiddleware reading the body"])
def test_a_client_leaving_mid_body_gets_no_answer_and_logs_nothing(
    caplog: pytest.LogCaptureFixture, with_middleware: bool
) -> None:
    """``ClientDisconnect`` is the client's doing: no 500 to nobody, no traceback in the error log (which a
    client could otherwise fill at will by dropping uploads)."""
    async def echo(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    middleware = [Middleware(ReadsTheBody)] if with_middleware else []
    app = TypedASGI(routes=[Route("/", echo, methods=["POST"])], middleware=middleware)
    events: list[ReceiveEvent] = [{"type": "http.request", "body": b"abc", "more_body": True}]

    async def leaves_mid_body() -> ReceiveEvent:
        return events.pop(0) if events else {"type": "http.disconnect"}

    with caplog.at_level(logging.ERROR):
        sent = asyncio.run(drive_once(app, http_scope("POST", "/"), receive=leaves_mid_body))
    assert sent == []
    assert [r for r in caplog.records if r.name == "typedasgi.error"] == []


def test_error_mid_stream_propagates() -> None:
    async def numbers() -> AsyncIterator[str]:
        yield "one"
        raise Boom("stream broke")

    async def stream(request: Request) -> Response:
        return StreamingResponse(numbers())

    app = TypedASGI(routes=[Route("/", stream)], middleware=[Middleware(CustomHeader)])
    with pytest.raises(Boom, match="stream broke"):
        TestClient(app).get("/")


def test_error_before_the_response_keeps_its_chain_as_in_starlette() -> None:
    """The error's context becomes its cause; an explicit cause is kept; the chain is never lost."""

    def alone(request: Request) -> Response:
        raise Boom("alone")

    def during_another(request: Request) -> Response:
        try:
            raise KeyError("inner")
        except KeyError:
            raise Boom("during another")

    def caused(request: Request) -> Response:
        try:
            raise KeyError("inner")
        except KeyError as exc:
            raise Boom("caused") from exc

    app = TypedASGI(
        routes=[Route("/alone", alone), Route("/during", during_another), Route("/caused", caused)],
        middleware=[Middleware(CustomHeader)],
    )
    client = TestClient(app)
    with pytest.raises(Boom) as info:
        client.get("/alone")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "No response returned" in str(info.value.__context__)
    for path in ("/during", "/caused"):
        with pytest.raises(Boom) as info:
            client.get(path)
        assert repr(info.value.__cause__) == "KeyError('inner')"


def test_app_that_sends_nothing() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    with pytest.raises(RuntimeError, match="No response returned"):
        asyncio.run(drive(CustomHeader(silent)))


# ------------------------------------------------------------------- cancellation


def infinite_app(log: list[str]) -> ASGIApp:
    async def forever() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick;"
                await asyncio.sleep(0)
        finally:
            log.append("generator closed")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(forever())(scope, receive, send)

    return app


def test_send_failing_with_oserror_cancels_the_app() -> None:
    """ASGI 2.4: once the client is gone the server's send raises OSError."""

    async def scenario() -> tuple[list[str], int, set[asyncio.Task[Any]]]:
        log: list[str] = []
        sent = 0
        never = asyncio.Event()

        async def receive() -> ReceiveEvent:
            await never.wait()
            raise AssertionError("unreachable")  # pragma: no cover

        async def send(message: SendEvent) -> None:
            nonlocal sent
            sent += 1
            if sent > 3:
                raise OSError("client gone")

        await asyncio.wait_for(CustomHeader(infinite_app(log))(http_scope(), receive, send), TIMEOUT)
        await asyncio.sleep(0)
        return log, sent, pending_tasks()

    log, sent, pending = asyncio.run(scenario())
    assert sent == 4
    assert log == ["generator closed"]
    assert pending == set()


def test_disconnect_seen_by_the_app_ends_the_stream() -> None:
    async def scenario() -> tuple[list[str], list[Any], set[asyncio.Task[Any]]]:
        log: list[str] = []
        sent: list[Any] = []
        gone = asyncio.Event()

        async def receive() -> ReceiveEvent:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: SendEvent) -> None:
            sent.append(message)
            if len(sent) == 3:
                gone.set()

        await asyncio.wait_for(CustomHeader(infinite_app(log))(http_scope(), receive, send), TIMEOUT)
        return log, sent, pending_tasks()

    log, sent, pending = asyncio.run(scenario())
    assert log == ["generator closed"]
    assert all(message.get("more_body", True) for message in sent[1:])  # never completed: the client left
    assert pending == set()


def test_a_body_iterator_of_dispatch_stops_when_the_client_leaves() -> None:
    """Below ASGI 2.4 only ``receive`` says the client left (``send`` goes on returning): an endless body of
    dispatch's own, replacing the app's, is closed then, as a StreamingResponse's is, instead of running on."""

    class Ticker(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            assert isinstance(response, StreamingResponse)

            async def ticks() -> AsyncIterator[bytes]:
                try:
                    while True:
                        yield b"tick"
                finally:
                    log.append("ticks closed")

            response.body_iterator = ticks()
            return response

    log: list[str] = []

    async def scenario() -> set[asyncio.Task[Any]]:
        gone = asyncio.Event()
        sent = 0

        async def receive() -> ReceiveEvent:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: SendEvent) -> None:
            nonlocal sent
            sent += 1
            if sent == 3:
                gone.set()
            await asyncio.sleep(0)

        await asyncio.wait_for(Ticker(infinite_app([]))(http_scope(), receive, send), TIMEOUT)
        return pending_tasks()

    assert asyncio.run(scenario()) == set()
    assert log == ["ticks closed"]


def test_unused_call_next_response_is_cancelled() -> None:
    async def scenario() -> tuple[list[str], list[Any], set[asyncio.Task[Any]]]:
        log: list[str] = []

        class Replace(BaseHTTPMiddleware):
            async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
                await call_next(request)
                return PlainTextResponse("replaced")

        sent = await drive(Replace(infinite_app(log)))
        return log, sent, pending_tasks()

    log, sent, pending = asyncio.run(scenario())
    assert [m.get("body") for m in sent[1:]] == [b"replaced"]
    assert log == ["generator closed"]
    assert pending == set()


def test_middleware_cancelled_from_outside_cancels_the_app() -> None:
    async def scenario() -> tuple[list[str], set[asyncio.Task[Any]]]:
        log: list[str] = []

        async def receive() -> ReceiveEvent:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")  # pragma: no cover

        async def send(message: SendEvent) -> None:
            await asyncio.sleep(0)

        task = asyncio.ensure_future(CustomHeader(infinite_app(log))(http_scope(), receive, send))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)
        return log, pending_tasks()

    log, pending = asyncio.run(scenario())
    assert log == ["generator closed"]
    assert pending == set()


# ---------------------------------------------------------------------- contextvars

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def test_contextvars_set_in_the_endpoint_reach_the_middleware() -> None:
    seen: list[str] = []

    class Read(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            request_id.set("from middleware")
            response = await call_next(request)
            seen.append(request_id.get())
            return response

    async def endpoint(request: Request) -> Response:
        seen.append(request_id.get())  # the middleware's value flows down...
        request_id.set("from endpoint")  # ...and the endpoint's flows back up
        return PlainTextResponse("ok")

    outer_seen: list[str] = []

    def outer(app: ASGIApp) -> ASGIApp:
        async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, send)
            if scope["type"] == "http":
                outer_seen.append(request_id.get())

        return wrapper

    app = TypedASGI(routes=[Route("/", endpoint)], middleware=[Middleware(outer), Middleware(Read)])
    assert TestClient(app).get("/").text == "ok"
    assert seen == ["from middleware", "from endpoint"]
    assert outer_seen == ["from endpoint"]


# ------------------------------------------------------------------ concurrency


def test_concurrent_requests_stay_separate() -> None:
    async def endpoint(request: Request) -> Response:
        await asyncio.sleep(0.01)
        return PlainTextResponse(request.query_params["n"])

    app = TypedASGI(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeader)])

    async def scenario() -> list[bytes]:
        async def one(n: int) -> bytes:
            scope = http_scope()
            scope["query_string"] = f"n={n}".encode()
            sent = await drive(app, scope)
            body: bytes = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
            return body

        return list(await asyncio.gather(*(one(n) for n in range(20))))

    assert asyncio.run(scenario()) == [str(n).encode() for n in range(20)]


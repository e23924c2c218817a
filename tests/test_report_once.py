"""A failing endpoint, background task, dependency teardown or plugin is reported once and the server keeps serving.

Through a real ``typedasgi run`` (one server for the module): each case fails once, and the test checks
what the client got, that the server's log reports that failure in exactly one record (none for a client
leaving), and that the next request is still served (on the same connection, where the answer was sent whole).
Start-up and shut-down failures run their own server.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support import ROOT, ServerURL, connect, running_server

APP = "tests.report_once_app"
RECORD_START = re.compile(r"^[A-Z]+: ", re.MULTILINE)  # uvicorn's format: "ERROR:    message"
WAIT = 5.0  # the most any one wait below takes


@pytest.fixture(scope="module")
def server() -> Iterator[ServerURL]:
    with running_server(f"{APP}:app") as base:
        yield base


def records(log: str) -> list[str]:
    """The log's records, each with its traceback lines."""
    starts = [match.start() for match in RECORD_START.finditer(log)]
    return [log[start:end] for start, end in zip(starts, [*starts[1:], len(log)])]


def reports(log: str, marker: str) -> list[str]:
    return [record for record in records(log) if marker in record]


def errors(log: str) -> list[str]:
    return [record for record in records(log) if record.startswith(("ERROR", "WARNING", "CRITICAL"))]


def wait_for(condition: Callable[[], bool]) -> None:
    """Polls ``condition`` (asking the server) until it holds; fails after ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "the server never showed what the case waits for"
        time.sleep(0.02)


def http_get(base: ServerURL, path: str, method: str = "GET") -> tuple[int, bytes | str]:
    """Status and body; the body is the error's name when the connection was cut mid-response."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        try:
            return response.status, response.read()
        except http.client.IncompleteRead:
            return response.status, "IncompleteRead"
    finally:
        connection.close()


def http_exchange(base: ServerURL, *paths: str) -> list[tuple[int, bytes | str]]:
    """Status and body of each path, asked in turn on one keep-alive connection; "closed" once the server closed it."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT)
    answers: list[tuple[int, bytes | str]] = []
    try:
        for path in paths:
            try:
                connection.request("GET", path)
                response = connection.getresponse()
            except (http.client.RemoteDisconnected, ConnectionError):
                answers.append((0, "closed"))
                continue
            answers.append((response.status, response.read()))
            if response.will_close:
                connection.close()
    finally:
        connection.close()
    return answers


async def websocket_session(base: ServerURL, path: str, send: str | None) -> tuple[str, int | str]:
    """``("refused", status)``, ``("closed", code)`` or ``("message", text)``: the first thing the client got."""
    try:
        async with ws_connect(base.replace("http", "ws", 1) + path, open_timeout=WAIT, close_timeout=WAIT) as websocket:
            if send is not None:
                await websocket.send(send)
            try:
                return "message", str(await asyncio.wait_for(websocket.recv(), WAIT))
            except ConnectionClosed as closed:
                return "closed", closed.rcvd.code if closed.rcvd is not None else "none"
    except InvalidStatus as refused:
        return "refused", refused.response.status_code


@dataclass(frozen=True)
class Case:
    path: str
    answer: tuple[object, ...]
    websocket: bool = False
    send: str | None = None
    names: str = ""  # what the report must say of the request (its method and path), where it says it

    @property
    def keeps_the_connection(self) -> bool:
        """An HTTP answer sent in full: the next request goes on the same connection."""
        return not self.websocket and self.answer[1] != "IncompleteRead"

    @property
    def marker(self) -> str:
        return "failure-" + self.path.strip("/").split("?")[0].replace("sub/raise", "mounted").replace("sub/", "mounted-")


CASES = [
    Case("/endpoint-async", (500, b"Internal Server Error")),
    Case("/endpoint-sync", (500, b"Internal Server Error")),
    Case("/handler", (500, b"Internal Server Error")),  # a handler of the endpoint's exception raises
    Case("/handler-500", (500, b"Internal Server Error")),  # the app's 500 handler raises
    Case("/pure-before", (500, b"Internal Server Error")),
    Case("/pure-after", (200, "IncompleteRead")),  # the response had started: cut
    Case("/dispatch-before", (500, b"Internal Server Error")),
    Case("/dispatch-after", (500, b"Internal Server Error")),
    Case("/stream-async", (200, "IncompleteRead")),
    Case("/stream-sync", (200, "IncompleteRead")),
    Case("/task-sync", (200, b"ok")),
    Case("/task-async", (200, b"ok")),
    Case("/task-several", (200, b"ok")),
    Case("/task-after-stream", (200, b"ok")),
    Case("/plugin-middleware", (500, b"Internal Server Error")),
    Case("/typed?n=1", (500, b"Internal Server Error")),
    Case("/dependency-setup", (500, b"Internal Server Error")),
    Case("/dependency-teardown", (200, b'{"value":1}'), names="GET /dependency-teardown failed"),
    Case("/dependency-teardown-sync", (200, b'{"value":2}'), names="GET /dependency-teardown-sync failed"),
    Case("/dependency-teardown-stream", (200, b"streamed"), names="GET /dependency-teardown-stream failed"),
    Case("/dependency-teardown-before", (500, b"Internal Server Error"), names="GET /dependency-teardown-before"),
    Case("/sub/raise", (500, b"Internal Server Error")),
    Case("/sub/stream", (200, "IncompleteRead")),
    Case("/ws-before-accept", ("refused", 403), websocket=True),
    Case("/ws-after-accept", ("closed", 1011), websocket=True),
    Case("/ws-handler-before", ("refused", 403), websocket=True),  # its exception's handler raises
    Case("/ws-handler-after", ("closed", 1011), websocket=True),
    Case("/ws-on-receive", ("closed", 1011), websocket=True, send="hello"),
    Case("/ws-dependency-teardown", ("message", "5"), websocket=True, names="WebSocket /ws-dependency-teardown"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.path for case in CASES])
def test_a_failure_is_reported_once_and_the_server_keeps_serving(server: ServerURL, case: Case) -> None:
    before = len(server.log())
    if case.websocket:
        answer: tuple[object, ...] = asyncio.run(websocket_session(server, case.path, case.send))
    elif case.keeps_the_connection:
        answer, next_answer = http_exchange(server, case.path, "/fine")
        assert next_answer == (200, b"fine"), "the keep-alive connection was closed"
    else:
        answer = http_get(server, case.path)
    assert answer == case.answer
    wait_for(lambda: case.marker in server.log()[before:])
    assert http_get(server, "/fine") == (200, b"fine")
    log = server.log()[before:]
    assert len(reports(log, case.marker)) == 1, log
    assert len(errors(log)) == 1, log  # nothing else reported either
    assert case.names in reports(log, case.marker)[0], log


def test_a_vanished_file_is_reported_once(server: ServerURL) -> None:
    before = len(server.log())
    assert http_get(server, "/file-vanished") == (500, b"Internal Server Error")
    wait_for(lambda: "failure-file-vanished-" in server.log()[before:])
    assert http_get(server, "/fine") == (200, b"fine")
    log = server.log()[before:]
    assert len(errors(log)) == 1 and "does not exist" in errors(log)[0], log


def test_a_failing_task_does_not_stop_the_next_ones(server: ServerURL) -> None:
    """README: "the next tasks still run"; the failure is reported once (see the matrix above)."""
    ran = json.loads(http_get(server, "/ran")[1])
    assert http_get(server, "/task-several") == (200, b"ok")
    wait_for(lambda: json.loads(http_get(server, "/ran")[1]) == [*ran, "before", "after"])


def leave_a_stream(base: ServerURL) -> None:
    with connect(base, WAIT) as sock:
        sock.sendall(b"GET /stream-endless HTTP/1.1\r\nHost: test\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")


def leave_a_body(base: ServerURL) -> None:
    with connect(base, WAIT) as sock:
        sock.sendall(b"POST /read-body HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nhalf")


def leave_a_websocket(base: ServerURL) -> None:
    assert asyncio.run(websocket_session(base, "/ws-echo", "hello")) == ("message", "hello")


def leave_a_push(base: ServerURL) -> None:
    assert asyncio.run(websocket_session(base, "/ws-push", None)) == ("message", "tick")


def typed_websocket_refused(base: ServerURL) -> None:
    assert asyncio.run(websocket_session(base, "/ws-typed?n=x", None)) == ("refused", 422)


@pytest.mark.parametrize(
    ("leave", "ended"),
    [
        (leave_a_stream, "stream-endless ended"),
        (leave_a_body, "read-body ended"),
        (leave_a_websocket, "ws-echo ended"),
        (leave_a_push, "ws-push ended"),
        (typed_websocket_refused, "/ws-typed?n=x"),  # the client's own mistake: refused, nothing to report
    ],
    ids=["stream", "body", "websocket", "websocket-push", "typed-websocket-validation"],
)
def test_a_client_leaving_is_not_reported(server: ServerURL, leave: Callable[[ServerURL], None], ended: str) -> None:
    before = len(server.log())
    leave(server)
    wait_for(lambda: ended in server.log()[before:])
    assert http_get(server, "/fine") == (200, b"fine")
    log = server.log()[before:]
    assert errors(log) == [], log


# ------------------------------------------------------------------ start-up and shut-down


def serve(app: str, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "typedasgi", "run", f"{APP}:{app}", "--port", "0", "--app-dir", str(ROOT), *args]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize(
    ("app", "marker", "names"),
    [
        ("startup_failing", "failure-startup", "startup_fails"),
        ("plugin_lifespan_failing", "failure-plugin-lifespan", "Plugin 'failing-lifespan'"),
        ("plugin_hook_failing", "failure-plugin-hook", "Plugin 'failing-hook'"),
        ("plugin_configured_failing", "failure-plugin-configured", "Plugin 'failing-configured'"),
    ],
)
def test_a_failing_start_up_is_reported_once_and_the_server_exits(app: str, marker: str, names: str) -> None:
    process = serve(app)
    log, _ = process.communicate(timeout=20)
    assert process.returncode == 3, log
    assert "Application startup complete" not in log
    reported = reports(log, marker)
    assert len(reported) == 1 and names in reported[0], log


def test_a_failing_shut_down_is_reported_once() -> None:
    process = serve("shutdown_failing")
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "Application startup complete" in line:
                break
        process.send_signal(signal.SIGTERM)
        log, _ = process.communicate(timeout=20)
    finally:
        process.kill()
    reported = reports(log, "failure-shutdown")
    assert len(reported) == 1 and "shutdown_fails" in reported[0], log
    assert len(errors(log)) == 2, log  # the report and uvicorn's "Application shutdown failed"


def test_a_worker_failing_to_start_stops_the_server_with_the_same_exit_status() -> None:
    """uvicorn's supervisor stops when a worker fails to start, but exited 0: a service manager saw a clean stop."""
    process = serve("startup_failing", "--workers", "2")
    log, _ = process.communicate(timeout=30)
    assert process.returncode == 3, log
    assert 1 <= len(reports(log, "failure-startup")) <= 2, log  # once per worker that started before the stop

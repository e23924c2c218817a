"""``typedasgi run``'s protocols (typedasgi.server_protocol, typedasgi.server_h11), through a real uvicorn.

The request head is bounded: uvicorn with httptools takes a head of any size (20 MB of header lines
reach the app as one scope); the bounded protocol answers 431 past ``--max-head-size`` before any app
code runs, lets the client read that answer, and never refuses a head within the limit, however it is
split into reads or followed by a body. And every WebSocket handshake is answered: uvicorn's default
WebSocket protocol left a client waiting forever when websockets could not read its request. A head
must arrive in time and a body keep coming, with either HTTP parser (``--http httptools`` or ``h11``).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ServerFactory, ServerURL
from typedasgi.server_limits import DEFAULT_MAX_HEAD_SIZE

APP = '''
import asyncio

from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse

calls = 0


async def count(request: Request) -> PlainTextResponse:
    global calls
    calls += 1
    body = await request.body()
    return PlainTextResponse(f"{calls} {len(request.headers)} {len(body)}")


async def slow(request: Request) -> PlainTextResponse:
    await asyncio.sleep(1.5)  # longer than the head timeout the tests set: the app's time is not the head's
    return PlainTextResponse("slow")


async def slow_reader(request: Request) -> PlainTextResponse:
    await asyncio.sleep(2)  # longer than the body timeout the tests set, before asking for the body
    return PlainTextResponse(str(len(await request.body())))


async def echo(websocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


app = TypedASGI()
app.add_route("/", count, methods=["GET", "POST"])
app.add_route("/slow", slow)
app.add_route("/slow-reader", slow_reader, methods=["POST"])
app.add_websocket_route("/ws", echo)
'''

TOO_LARGE = b"HTTP/1.1 431 "


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "headapp.py").write_text(APP)
    return tmp_path


@pytest.fixture(params=["httptools", "h11"])
def server(serve: ServerFactory, app_dir: Path, request: pytest.FixtureRequest) -> Iterator[ServerURL]:
    """The app under ``typedasgi run`` with each HTTP parser: the head's bounds hold whichever serves."""
    with serve("headapp:app", args=("--http", request.param), app_dir=app_dir) as base:
        yield base


def head(lines: int, line_size: int = 100, method: bytes = b"GET", extra: bytes = b"") -> bytes:
    """A request head of about ``lines * (line_size + 2)`` bytes."""
    filler = b"".join(b"x-filler-%05d: %s\r\n" % (index, b"v" * (line_size - 16)) for index in range(lines))
    return method + b" / HTTP/1.1\r\nhost: example.com\r\n" + filler + extra + b"\r\n"


def exchange(
    base: ServerURL, pieces: list[bytes], pause: float = 0.0, timeout: float = 10.0, half_close: bool = True
) -> bytes:
    """Send ``pieces`` (pausing between them, so the server reads them apart) and read until the server closes.

    ``half_close``: say the request is over (FIN) after the pieces; without it the server alone decides when to close.
    """
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        try:
            for piece in pieces:
                conn.sendall(piece)
                if pause:
                    time.sleep(pause)
            if half_close:
                conn.shutdown(socket.SHUT_WR)
        except OSError:  # refused mid-send: the answer may still be there to read
            pass
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except ConnectionResetError:  # closed on unread data: what came before the reset is kept
            pass
    return received


def responses(raw: bytes) -> list[bytes]:
    return [b"HTTP/1.1 " + part for part in raw.split(b"HTTP/1.1 ")[1:]]


def test_a_head_within_the_limit_is_served_however_it_is_split(server: ServerURL) -> None:
    near = head(640)  # 65,319 bytes: just under the default 64 KiB
    assert len(near) < DEFAULT_MAX_HEAD_SIZE < len(near) + 300
    whole = exchange(server, [near])
    assert whole.startswith(b"HTTP/1.1 200 ") and whole.endswith(b" 641 0")
    split = [near[index:index + 1000] for index in range(0, len(near), 1000)]  # 66 reads
    assert exchange(server, split, pause=0.002).startswith(b"HTTP/1.1 200 ")


def test_a_head_past_the_limit_gets_431_before_the_app(server: ServerURL) -> None:
    big = head(800)  # about 81 KB
    answer = exchange(server, [big])
    assert answer.startswith(TOO_LARGE) and answer.endswith(b"Request header fields too large")
    split = [big[index:index + 4000] for index in range(0, len(big), 4000)]
    assert exchange(server, split, pause=0.005).startswith(TOO_LARGE)
    # The app never ran for either, and the server keeps serving.
    assert exchange(server, [head(1)]).endswith(b"1 2 0")


def test_a_head_past_the_limit_behind_another_request_is_refused_after_its_answer(server: ServerURL) -> None:
    """Pipelined: the big head in the first request's read was never measured (its 120 KB reached the app), and
    a 431 written while the first was still answering came out before that answer, then broke it."""
    big = head(1300)  # about 130 KB

    def statuses(raw: bytes) -> list[bytes]:
        return [answer.split(b"\r\n", 1)[0] for answer in responses(raw)]

    first = exchange(server, [head(1) + big])  # in one write
    assert statuses(first) == [b"HTTP/1.1 200 OK", b"HTTP/1.1 431 Request Header Fields Too Large"]
    assert responses(first)[0].endswith(b"1 2 0")
    slow = b"GET /slow HTTP/1.1\r\nhost: example.com\r\n\r\n"  # the big head arrives while the app works
    behind = exchange(server, [slow, *(big[index:index + 4000] for index in range(0, len(big), 4000))], pause=0.005)
    assert statuses(behind) == [b"HTTP/1.1 200 OK", b"HTTP/1.1 431 Request Header Fields Too Large"]
    assert b"\r\n\r\nslow" in behind
    assert exchange(server, [head(1)]).endswith(b"2 2 0")  # the app's second call: no big head ever reached it


def resident_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0])


def connection(base: ServerURL, timeout: float) -> socket.socket:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def websocket_opened(base: ServerURL, timeout: float) -> socket.socket:
    """A raw connection to the app's ``/ws``, past its handshake: frames are sent and read by hand."""
    conn = connection(base, timeout)
    conn.sendall(
        b"GET /ws HTTP/1.1\r\nhost: example.com\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
    )
    assert b" 101 " in conn.recv(4096)
    return conn


def flood_growth_mib(base: ServerURL, conn: socket.socket, chunk: bytes) -> tuple[float, float]:
    """Send ``chunk`` for up to 6 s, never reading, until the server stops reading; MiB sent, MiB it grew by."""
    before = resident_kib(base.pid)
    sent = 0
    deadline = time.monotonic() + 6
    try:
        while time.monotonic() < deadline and sent < 256 * 1024 * 1024:
            conn.sendall(chunk)
            sent += len(chunk)
    except OSError:  # the server stopped reading: the flood is held back
        pass
    time.sleep(0.5)
    return sent / 2**20, (resident_kib(base.pid) - before) / 1024


def test_pipelined_requests_never_read_are_not_queued_without_bound(server: ServerURL) -> None:
    """uvicorn (httptools) read again after every answer, though requests were still queued: a client pipelining
    GETs and never reading the answers had them parsed and queued without bound (1 GiB from 17 MiB in 15 s)."""
    with connection(server, timeout=2) as flood:
        sent, growth = flood_growth_mib(server, flood, b"GET / HTTP/1.1\r\nhost: example.com\r\n\r\n" * 8000)
        assert growth < 64, f"{sent:.1f} MiB sent grew the server by {growth:.0f} MiB"
        started = time.monotonic()
        assert exchange(server, [head(1)]).startswith(b"HTTP/1.1 200 ")  # another client is served meanwhile
        assert time.monotonic() - started < 2


def test_a_client_flooding_pings_and_never_reading_is_read_no_more(server: ServerURL) -> None:
    """websockets answers every ping with a pong at once: pongs to a client that never reads piled up in the
    server without bound (300 MiB of pings grew it by 290 MiB). Reading now waits for the client to read."""
    ping = bytes([0x89, 0x80 | 125]) + b"\0\0\0\0" + b"p" * 125  # masked with a zero key: the payload as is
    with websocket_opened(server, timeout=2) as flood:
        sent, growth = flood_growth_mib(server, flood, ping * 2000)
    assert growth < 32, f"{sent:.0f} MiB of pings grew the server by {growth:.0f} MiB"
    assert exchange(server, [head(1)]).startswith(b"HTTP/1.1 200 ")


def test_invalid_utf8_from_a_client_is_closed_with_1007_and_not_logged_as_an_error(server: ServerURL) -> None:
    """uvicorn logged each such message as an ERROR with a traceback: a client's mistake filled the error log."""
    before = len(server.log())
    with websocket_opened(server, timeout=5) as client:
        client.sendall(bytes([0x81, 0x80 | 2]) + b"\0\0\0\0" + b"\xff\xfe")  # a text frame, not UTF-8
        close = client.recv(4096)
    assert close[0] == 0x88 and int.from_bytes(close[2:4], "big") == 1007
    deadline = time.monotonic() + 5
    while "UTF-8" not in server.log()[before:] and time.monotonic() < deadline:  # logged, one way or the other
        time.sleep(0.05)
    log = server.log()[before:]
    assert "invalid UTF-8 from the client: closed with 1007" in log
    assert "ERROR" not in log and "Traceback" not in log, log


def test_one_endless_header_line_is_refused_while_it_is_sent(server: ServerURL) -> None:
    """httptools gathers a line until it ends: the reads it spans are counted, so the line never has to end."""
    start = b"GET / HTTP/1.1\r\nhost: example.com\r\nx-endless: "
    pieces = [start] + [b"a" * 8192] * 40  # 320 KB of one line, never finished
    answer = exchange(server, pieces, pause=0.002)
    assert answer.startswith(TOO_LARGE)


def test_many_megabytes_of_head_are_dropped_not_held(server: ServerURL) -> None:
    lines = [b"x-a: " + b"b" * 1000 + b"\r\n"] * 20_000  # 20 MB
    answer = exchange(server, [b"GET / HTTP/1.1\r\n", *lines, b"\r\n"])
    assert answer == b"" or answer.startswith(TOO_LARGE)  # past the drop allowance the server closes (a reset)
    assert exchange(server, [head(1)]).endswith(b"1 2 0")  # the app's first call: it never saw the 20 MB


def test_a_body_after_the_head_does_not_count(server: ServerURL) -> None:
    body = b"b" * 300_000
    request = head(10, method=b"POST", extra=b"content-length: %d\r\n" % len(body)) + body
    assert exchange(server, [request]).endswith(b" %d" % len(body))
    # Pipelined: a second head starts in the same read as the first request's large body.
    second = head(10)
    answers = responses(exchange(server, [request + second[:200], second[200:]], pause=0.05))
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [b"HTTP/1.1 200 OK"] * 2


@pytest.mark.parametrize("parser", ["httptools", "h11"])
def test_max_head_size_is_configurable(serve: ServerFactory, app_dir: Path, parser: str) -> None:
    with serve("headapp:app", args=("--max-head-size", "2048", "--http", parser), app_dir=app_dir) as base:
        assert exchange(base, [head(15)]).startswith(b"HTTP/1.1 200 ")  # about 1.6 KB
        assert exchange(base, [head(25)]).startswith(TOO_LARGE)  # about 2.6 KB


PARSERS = pytest.mark.parametrize("parser", ["httptools", "h11"])
"""What holds whichever HTTP parser ``typedasgi run`` serves with (``--http``)."""


def handshake(extra: bytes = b"") -> bytes:
    return (
        b"GET /ws HTTP/1.1\r\nhost: example.com\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n" + extra + b"\r\n"
    )


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        (b"x-big: " + b"a" * 9000 + b"\r\n", b"431"),  # one line past websockets' 8 KiB
        (b"".join(b"x-%d: a\r\n" % index for index in range(200)), b"431"),  # past its 128 lines
    ],
    ids=["a 9 KB line", "200 lines"],
)
@PARSERS
def test_a_handshake_websockets_cannot_read_is_answered(
    serve: ServerFactory, app_dir: Path, extra: bytes, status: bytes, parser: str
) -> None:
    with serve("headapp:app", args=("--http", parser), app_dir=app_dir) as base:
        answer = exchange(base, [handshake(extra)], timeout=5)  # before: no answer, the client waited
        assert answer.startswith(b"HTTP/1.1 " + status + b" ")
        assert exchange(base, [handshake()], timeout=5).startswith(b"HTTP/1.1 101 ")  # and the next one works


@PARSERS
def test_a_head_must_arrive_in_time(serve: ServerFactory, app_dir: Path, parser: str) -> None:
    """uvicorn never times a head: a silent connection, or a head sent a byte at a time, stayed open for ever."""
    with serve("headapp:app", args=("--timeout-head", "1", "--http", parser), app_dir=app_dir) as base:
        started = time.monotonic()
        assert exchange(base, [], pause=0, timeout=8, half_close=False).startswith(b"HTTP/1.1 408 ")  # sends nothing
        trickled = [bytes([byte]) for byte in head(1)]
        assert exchange(base, trickled, pause=0.05, timeout=8).startswith(b"HTTP/1.1 408 ")  # about 2.5 s of head
        assert time.monotonic() - started < 8
        # A pipelined head left unfinished while a response is under way: that response ends the connection.
        pipelined = exchange(base, [b"GET /slow HTTP/1.1\r\nhost: example.com\r\n\r\nGET / HTTP/1.1\r\n"], timeout=8, half_close=False)
        assert pipelined.startswith(b"HTTP/1.1 200 ") and pipelined.endswith(b"\r\n\r\nslow")  # then closed
        # (uvicorn's h11 cycle reads keep_alive once the answer is sent: it closes without saying so in the head)
        assert (b"connection: close\r\n" in pipelined) == (parser == "httptools")
        # The timer covers the head only: an app slower than it still answers, and a later head is timed too.
        request = b"GET /slow HTTP/1.1\r\nhost: example.com\r\n\r\n"
        answers = exchange(base, [request, b"GET / HTTP/1.1\r\n"], pause=2.0, timeout=8, half_close=False)
        assert answers.startswith(b"HTTP/1.1 200 ") and b"HTTP/1.1 408 " in answers


def post(path: bytes, length: int, extra: bytes = b"") -> bytes:
    return b"POST %s HTTP/1.1\r\nhost: example.com\r\ncontent-length: %d\r\n%s\r\n" % (path, length, extra)


@PARSERS
def test_a_body_must_keep_coming(serve: ServerFactory, app_dir: Path, parser: str) -> None:
    """uvicorn never times a body: an app's receive() waited for ever on a client that stopped sending."""
    with serve("headapp:app", args=("--timeout-body", "1", "--http", parser), app_dir=app_dir) as base:
        started = time.monotonic()
        stalled = exchange(base, [post(b"/", 100) + b"x" * 10], timeout=8, half_close=False)
        assert stalled.startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 6
        # Slow but steady: reads 0.5 s apart for 3 s in all are within a 1 s timeout between reads.
        steady = exchange(base, [post(b"/", 6)] + [b"x"] * 6, pause=0.5, timeout=8, half_close=False)
        assert steady.startswith(b"HTTP/1.1 200 ") and steady.endswith(b" 6")
        # The server holding the client back is not the client's delay: an app that reads the body late,
        # with reading paused (a megabyte sent at once) or the client waiting for 100 Continue.
        big = exchange(base, [post(b"/slow-reader", 1_000_000) + b"x" * 1_000_000], timeout=8, half_close=False)
        assert big.startswith(b"HTTP/1.1 200 ") and big.endswith(b"1000000")
        host, port = base.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=8) as conn:
            conn.sendall(post(b"/slow-reader", 5, b"expect: 100-continue\r\n"))
            assert conn.recv(100).startswith(b"HTTP/1.1 100 ")  # after the app's 2 s, when it asks
            conn.sendall(b"hello")
            answer = b""
            while not answer.endswith(b"\r\n\r\n5"):  # bounded by the socket's timeout
                answer += conn.recv(1000)
            assert answer.startswith(b"HTTP/1.1 200 ")

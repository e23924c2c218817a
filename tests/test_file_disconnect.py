"""FileResponse when the client leaves mid-file: it stops reading, closes the file, then runs its background task.

Whether the file is still open is read from ``/proc/self/fd``, so nothing inside
typedasgi is patched. Below ASGI 2.4 only ``receive`` tells that the client is
gone; from 2.4 ``send`` raises ``OSError`` too; both are covered, for the whole
file, one range and ``multipart/byteranges``. The same through a real uvicorn:
``tests/hostile/test_downloads.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path

import pytest

from typedasgi.background import BackgroundTask
from typedasgi.responses import FileResponse
from typedasgi.types import HTTPScope, ReceiveEvent, SendEvent

from tests.support import handles_to, http_scope

CHUNK = FileResponse.chunk_size
RANGES = [None, "bytes=0-", f"bytes=0-{2 * CHUNK - 1},{3 * CHUNK}-"]


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (64 * CHUNK))
    return path


def scope_for(range_header: str | None, spec_version: str) -> HTTPScope:
    scope = http_scope(headers=None if range_header is None else {"range": range_header})
    scope["asgi"] = {"version": "3.0", "spec_version": spec_version}
    return scope


class LeavingClient:
    """A server whose client leaves once a chunk was sent: ``receive`` then says ``http.disconnect``.

    With ``hang``, that send never returns (a flow-controlled connection); without, it and later sends
    return at once and go nowhere, as below ASGI 2.4.
    """

    def __init__(self, hang: bool) -> None:
        self.hang = hang
        self.gone = asyncio.Event()
        self.sent = 0

    async def receive(self) -> ReceiveEvent:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: SendEvent) -> None:
        if message["type"] == "http.response.body":
            self.sent += len(message["body"])
            if self.sent >= CHUNK:
                self.gone.set()
                if self.hang:
                    await asyncio.Event().wait()


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
@pytest.mark.parametrize("range_header", RANGES)
def test_disconnect_while_send_waits_stops_closes_and_runs_the_background(
    big_file: Path, range_header: str | None, spec_version: str
) -> None:
    closed_before_background: list[bool] = []

    def cleanup() -> None:
        closed_before_background.append(handles_to(big_file) == 0)

    async def main() -> None:
        client = LeavingClient(hang=True)
        response = FileResponse(big_file, background=BackgroundTask(cleanup))
        await asyncio.wait_for(response(scope_for(range_header, spec_version), client.receive, client.send), timeout=5)

    asyncio.run(main())  # a response deaf to http.disconnect waits in send until the bound above
    assert closed_before_background == [True]


@pytest.mark.parametrize("range_header", RANGES)
def test_disconnect_while_send_succeeds_stops_reading(big_file: Path, range_header: str | None) -> None:
    """Servers below 2.4 drop what is sent after the client left: the response must not read on regardless."""

    async def main() -> int:
        client = LeavingClient(hang=False)
        await asyncio.wait_for(FileResponse(big_file)(scope_for(range_header, "2.3"), client.receive, client.send), 5)
        return client.sent

    sent = asyncio.run(main())
    assert CHUNK <= sent <= 8 * CHUNK  # of 64 chunks: the disconnect is seen within a read or two
    assert handles_to(big_file) == 0


@pytest.mark.parametrize("range_header", RANGES)
def test_send_oserror_stops_quietly_closes_and_runs_the_background(big_file: Path, range_header: str | None) -> None:
    closed_before_background: list[bool] = []
    bodies = 0

    def cleanup() -> None:
        closed_before_background.append(handles_to(big_file) == 0)

    async def main() -> None:
        async def receive() -> ReceiveEvent:
            await asyncio.Event().wait()  # an ASGI 2.4 server may not say it here first
            raise AssertionError("unreachable")

        async def send(message: SendEvent) -> None:
            nonlocal bodies
            if message["type"] == "http.response.body":
                bodies += 1
                raise OSError("connection reset by peer")

        response = FileResponse(big_file, background=BackgroundTask(cleanup))
        await asyncio.wait_for(response(scope_for(range_header, "2.4"), receive, send), timeout=5)

    asyncio.run(main())
    assert bodies == 1  # nothing sent or read after the first refusal
    assert closed_before_background == [True]


@pytest.mark.parametrize("range_header", RANGES)
def test_cancelled_response_closes_the_file_and_skips_the_background(big_file: Path, range_header: str | None) -> None:
    ran: list[bool] = []

    async def main() -> None:
        sending = asyncio.Event()

        async def receive() -> ReceiveEvent:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def send(message: SendEvent) -> None:
            if message["type"] == "http.response.body":
                sending.set()
                await asyncio.Event().wait()

        response = FileResponse(big_file, background=BackgroundTask(lambda: ran.append(True)))
        task = asyncio.ensure_future(response(scope_for(range_header, "2.3"), receive, send))
        await asyncio.wait_for(sending.wait(), timeout=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)

    asyncio.run(main())
    assert handles_to(big_file) == 0
    assert ran == []


def test_send_oserror_on_a_one_chunk_file_stops_quietly(tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_bytes(b"small")
    ran: list[bool] = []

    async def main() -> None:
        async def receive() -> ReceiveEvent:
            raise AssertionError("a one-chunk file has nothing to watch for")

        async def send(message: SendEvent) -> None:
            raise OSError("connection reset by peer")

        response = FileResponse(path, background=BackgroundTask(lambda: ran.append(True)))
        await asyncio.wait_for(response(scope_for(None, "2.4"), receive, send), timeout=5)

    asyncio.run(main())
    assert ran == [True]
    assert handles_to(path) == 0


def pool_thread_reads(path: Path, ours: int) -> bool:
    """Whether a thread of this process is inside read() on ``path``, through a descriptor other than ``ours``."""
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == str(path) and int(fd) != ours:
                fds.add(int(fd))
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            call = Path(f"/proc/self/task/{task}/syscall").read_text().split()
            if len(call) > 1 and call[0] == "0" and int(call[1], 16) in fds:  # syscall 0: read(fd, ...)
                return True
    return False


def test_a_read_running_when_the_client_leaves_ends_before_the_file_is_closed(tmp_path: Path) -> None:
    """A FIFO stands in for a slow disk: its read blocks until the test writes, so the client leaves mid-read."""
    sized = tmp_path / "sized.bin"
    sized.write_bytes(b"z" * (4 * CHUNK))
    fifo = tmp_path / "slow.pipe"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # on Linux never blocks; lets the response's open() through
    closed_before_background: list[bool] = []
    finished = threading.Event()
    rescued: list[bool] = []

    def rescue_a_stuck_loop() -> None:  # only if the response closed the file under the read and blocked the loop
        if not finished.wait(10):
            rescued.append(True)
            os.write(writer, b"y" * CHUNK)

    async def main() -> tuple[list[bytes], bool]:
        gone = asyncio.Event()
        bodies: list[bytes] = []

        async def receive() -> ReceiveEvent:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: SendEvent) -> None:
            if message["type"] == "http.response.body":
                bodies.append(message["body"])

        def cleanup() -> None:
            closed_before_background.append(handles_to(fifo) == 1)  # only the test's own end is left

        response = FileResponse(fifo, stat_result=sized.stat(), background=BackgroundTask(cleanup))
        task = asyncio.ensure_future(response(scope_for(None, "2.3"), receive, send))
        for _ in range(2000):
            if pool_thread_reads(fifo, writer):
                break
            await asyncio.sleep(0.005)
        gone.set()  # the client leaves while the pool thread waits in read()
        for _ in range(50):
            await asyncio.sleep(0)
        waited_for_the_read = not task.done() and handles_to(fifo) == 2
        os.write(writer, b"y" * CHUNK)  # the read ends; what it read goes nowhere
        await asyncio.wait_for(task, timeout=5)
        return bodies, waited_for_the_read

    guard = threading.Thread(target=rescue_a_stuck_loop, daemon=True)
    guard.start()
    try:
        bodies, waited_for_the_read = asyncio.run(main())
    finally:
        finished.set()
        guard.join()
        os.close(writer)
    assert rescued == []
    assert waited_for_the_read
    assert bodies == []  # nothing was sent after the client left
    assert closed_before_background == [True]
    assert handles_to(fifo) == 0


def test_a_failing_receive_does_not_stop_the_file(big_file: Path) -> None:
    """``receive`` raising says nothing about the client: the whole file is still sent."""

    async def main() -> bytes:
        body = bytearray()

        async def receive() -> ReceiveEvent:
            raise RuntimeError("this server cannot receive here")

        async def send(message: SendEvent) -> None:
            if message["type"] == "http.response.body":
                body.extend(message["body"])

        await asyncio.wait_for(FileResponse(big_file)(scope_for(None, "2.3"), receive, send), timeout=5)
        return bytes(body)

    assert asyncio.run(main()) == big_file.read_bytes()
    assert handles_to(big_file) == 0


def test_proc_fd_sees_an_open_file(big_file: Path) -> None:
    """The check the tests above rely on can fail: an open file is counted."""
    with big_file.open("rb"):
        assert handles_to(big_file) == 1
    assert handles_to(big_file) == 0

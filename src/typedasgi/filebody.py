"""Sending a file as an ASGI response, in chunks read off the event loop, until done or the client leaves.

Blocking file calls go to the shared thread pool (no aiofiles: a plain install
serves files). When the client leaves, by ``http.disconnect`` or (ASGI 2.4) by
an ``OSError`` from ``send``, reading stops at once and the file is closed
before :func:`send_file` returns; so it is when the task is cancelled. A read
already running in a thread when that happens ends first (one chunk): the file
is never closed under it. A file (or range) of one chunk is opened, read and
closed in a single pool trip and sent as one message: nothing to watch meanwhile.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Future
from typing import BinaryIO

from typedasgi.concurrency import run_in_threadpool, submit_to_threadpool
from typedasgi.disconnect import send_until_disconnect
from typedasgi.ranges import ByteRange, ByteRangesFraming
from typedasgi.types import HTTPResponseStartEvent, Receive, Send, SendEvent

__all__ = ["send_file"]


def _open_binary(path: str | os.PathLike[str]) -> BinaryIO:
    return open(path, "rb")


def _read_at(file: BinaryIO, offset: int | None, size: int) -> bytes:
    """Seek (when asked) and read, in one trip to the thread pool."""
    if offset is not None:
        file.seek(offset)
    return file.read(size)


def _read_whole(path: str | os.PathLike[str], offset: int, size: int) -> bytes:
    """Open, read and close in one trip to the thread pool: a cancelled caller leaves no file open."""
    with open(path, "rb") as file:
        if offset:
            file.seek(offset)
        return file.read(size)


def _close_opened(opening: Future[BinaryIO]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


class _PooledFile:
    """An open file read in the thread pool, one chunk at a time, and closed only when none of its reads runs."""

    __slots__ = ("file", "reading")

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.reading: Future[bytes] | None = None

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> _PooledFile:
        opening = submit_to_threadpool(_open_binary, path)
        try:
            return cls(await asyncio.wrap_future(opening))
        except asyncio.CancelledError:
            opening.add_done_callback(_close_opened)  # the thread may still open it: close it then
            raise

    async def read(self, offset: int | None, size: int) -> bytes:
        self.reading = submit_to_threadpool(_read_at, self.file, offset, size)
        return await asyncio.wrap_future(self.reading)

    async def close(self) -> None:
        """Close now, or, when a read cancelled mid-way still runs in its thread, as soon as it ends."""
        reading = self.reading
        if reading is None or reading.cancel() or reading.done():
            self.file.close()
            return
        reading.add_done_callback(lambda _: self.file.close())  # closed even if this wait is cancelled too
        await asyncio.wait((asyncio.wrap_future(reading),))


async def _delivered(send: Send, message: SendEvent) -> bool:
    """Send ``message``; False if the server said the client is gone (ASGI 2.4: OSError)."""
    try:
        await send(message)
    except OSError:
        return False
    return True


async def _send_ranges(
    send: Send,
    start: HTTPResponseStartEvent,
    path: str | os.PathLike[str],
    file: _PooledFile,
    ranges: list[ByteRange],
    framing: ByteRangesFraming | None,
    chunk_size: int,
) -> bool:
    if not await _delivered(send, start):
        return False
    # As Starlette sends them: one range (a 206 without parts) ends with its last chunk; a whole file too,
    # unless that chunk is a full one (Starlette reads until a short read: then an empty message ends it);
    # a byteranges body ends with its close delimiter.
    length = ranges[0][1] - ranges[0][0] + 1
    ends_with_data = framing is None and (start["status"] == 206 or length % chunk_size != 0)
    for index, (first, last) in enumerate(ranges):
        if framing is not None:
            head = framing.part_heads[index]
            if not await _delivered(send, {"type": "http.response.body", "body": head, "more_body": True}):
                return False
        offset: int | None = first if first or index else None
        remaining = last - first + 1
        while remaining > 0:
            chunk = await file.read(offset, min(chunk_size, remaining))
            offset = None
            if not chunk:  # the file shrank since its stat: the promised length cannot be sent
                raise RuntimeError(f"File at path {path} is shorter than expected.")
            remaining -= len(chunk)
            more = remaining > 0 or not ends_with_data
            if not await _delivered(send, {"type": "http.response.body", "body": chunk, "more_body": more}):
                return False
        if framing is not None:  # the line break after a part's data is a message of its own, as in Starlette
            part_end: SendEvent = {"type": "http.response.body", "body": b"\r\n", "more_body": True}
            if not await _delivered(send, part_end):
                return False
    if ends_with_data:
        return True
    end = framing.tail if framing is not None else b""
    return await _delivered(send, {"type": "http.response.body", "body": end, "more_body": False})


async def send_file(
    send: Send,
    receive: Receive,
    start: HTTPResponseStartEvent,
    path: str | os.PathLike[str],
    ranges: list[ByteRange],
    framing: ByteRangesFraming | None,
    chunk_size: int,
) -> bool:
    """Send ``start``, then ``ranges`` of the file at ``path`` (as byteranges parts with ``framing``).

    Whether all of it was sent: False when the client left first. The file is
    opened before ``start`` is sent (a file gone since its stat is an error the
    app can still answer) and is closed when this returns, however it ends.
    """
    first, last = ranges[0]
    if framing is None and last - first < chunk_size:  # one chunk: one pool trip, nothing to watch meanwhile
        body = await run_in_threadpool(_read_whole, path, first, last - first + 1)
        if len(body) <= last - first:
            raise RuntimeError(f"File at path {path} is shorter than expected.")
        return await _delivered(send, start) and await _delivered(
            send, {"type": "http.response.body", "body": body, "more_body": False}
        )
    file = await _PooledFile.open(path)
    try:
        return await send_until_disconnect(_send_ranges(send, start, path, file, ranges, framing, chunk_size), receive)
    finally:
        await file.close()

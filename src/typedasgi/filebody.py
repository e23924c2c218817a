"""Sending a file's bytes as ASGI body messages, in chunks read off the event loop.

Blocking file calls go to the shared thread pool (no aiofiles: a plain install
serves files). The file is open only while its bytes are being sent.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from typedasgi.concurrency import run_in_threadpool
from typedasgi.ranges import ByteRange, ByteRangesFraming
from typedasgi.types import Send

__all__ = ["send_file_body"]


def _open_binary(path: str | os.PathLike[str]) -> BinaryIO:
    return open(path, "rb")


def _read_at(file: BinaryIO, offset: int | None, size: int) -> bytes:
    """Seek (when asked) and read, in one trip to the thread pool."""
    if offset is not None:
        file.seek(offset)
    return file.read(size)


async def send_file_body(
    send: Send,
    path: str | os.PathLike[str],
    ranges: list[ByteRange],
    framing: ByteRangesFraming | None,
    chunk_size: int,
) -> None:
    """Send ``ranges`` of the file at ``path`` in chunks; with ``framing``, as byteranges parts."""
    file = await run_in_threadpool(_open_binary, path)
    try:
        for index, (first, last) in enumerate(ranges):
            if framing is not None:
                head = framing.part_heads[index] if index == 0 else b"\r\n" + framing.part_heads[index]
                await send({"type": "http.response.body", "body": head, "more_body": True})
            offset: int | None = first if first or index else None
            remaining = last - first + 1
            while remaining > 0:
                chunk = await run_in_threadpool(_read_at, file, offset, min(chunk_size, remaining))
                offset = None
                if not chunk:  # the file shrank since its stat: the promised length cannot be sent
                    raise RuntimeError(f"File at path {path} is shorter than expected.")
                remaining -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        file.close()
    end = b"\r\n" + framing.tail if framing is not None else b""
    await send({"type": "http.response.body", "body": end, "more_body": False})

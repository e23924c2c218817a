"""Uploaded files and parsed forms; blocking file I/O of rolled-over uploads runs in the thread pool."""

from __future__ import annotations

import io
from typing import IO, Union

from typedasgi.concurrency import run_in_threadpool
from typedasgi.headers import Headers
from typedasgi.multidict import ImmutableMultiDict, MultiDictInput

__all__ = ["FormData", "UploadFile"]

class UploadFile:
    """An uploaded file with async methods; blocking disk I/O runs in the thread pool.

    ``size`` counts bytes written through :meth:`write` when it started as an int.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file = file
        self.size = size
        self.filename = filename
        self.headers: Headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def _in_memory(self) -> bool:
        # A SpooledTemporaryFile stays in memory until it rolls over to disk.
        file = self.file
        return isinstance(file, io.BytesIO) or getattr(file, "_rolled", True) is False

    def _stays_in_memory(self, more: int) -> bool:
        """Whether writing ``more`` bytes keeps the file in memory (no rollover to disk on the event loop)."""
        if not self._in_memory:
            return False
        max_size: int = getattr(self.file, "_max_size", 0)  # a SpooledTemporaryFile's rollover threshold
        return not max_size or self.file.tell() + more <= max_size

    async def write(self, data: bytes) -> None:
        """Write ``data``; once the file is (or is about to go) on disk, the write runs in the thread pool."""
        if self.size is not None:
            self.size += len(data)
        if self._stays_in_memory(len(data)):
            self.file.write(data)
        else:
            await run_in_threadpool(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        if self._in_memory:
            self.file.seek(offset)
        else:
            await run_in_threadpool(self.file.seek, offset)

    async def close(self) -> None:
        if self._in_memory:
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"


class FormData(ImmutableMultiDict[str, Union[UploadFile, str]]):
    """Parsed form fields; file fields are :class:`UploadFile`."""

    def __init__(
        self,
        arg: MultiDictInput[str, UploadFile | str] = (),
        /,
        **kwargs: UploadFile | str,
    ) -> None:
        super().__init__(arg, **kwargs)

    async def close(self) -> None:
        """Close every uploaded file (their temporary files go away)."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()

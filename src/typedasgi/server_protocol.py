"""uvicorn's protocols as ``typedasgi run`` serves with them: the request head bounded, every handshake answered.

llhttp (httptools) sets no limit on a request's head: uvicorn with it accepts a 20 MB
block of header lines and hands it to the app as one scope. uvicorn's h11 protocol
bounds the same head by ``h11_max_incomplete_event_size``; this protocol reads that
one setting too, so ``typedasgi run --max-head-size`` bounds both, and a head past it
gets a 431 and a closed connection before any app code runs. Nor does uvicorn time a head:
a connection that sends nothing, or a head a byte at a time, stays open for ever (a few
thousand such connections take a server's file descriptors). Here a head must arrive
within ``HEAD_TIMEOUT`` seconds of the connection (its first) or of its first byte (later
ones), else the client gets a 408 and the connection closes. Likewise a body: while the
server waits for more of it, ``BODY_TIMEOUT`` seconds may pass between reads (as nginx's
``client_body_timeout``), else 408 (if the app has not answered yet) and the connection
closes; the app's ``receive()`` then gets ``http.disconnect`` instead of waiting for ever.
The timing is typedasgi.server_timers', shared with the h11 protocol (typedasgi.server_h11).

uvicorn's default WebSocket protocol (websockets' sans-I/O one) never answers a handshake
whose request websockets cannot read - a header line over 8 KiB, over 128 header lines, or
a malformed line: the refusal websockets prepares is never written and the client waits.
``HandshakeAnsweringWebSocketsProtocol`` writes it (431, 414) or a 400, and closes. Nor does
that protocol count an app's denial response (``websocket.http.response``) as the handshake's
answer: every refusal the client got in full was logged as an error ("returned without
completing handshake"); here it is not.

Needs the ``standard`` extra (uvicorn with httptools and websockets); imported only by the CLI.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from uvicorn._types import ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from typedasgi.server_limits import DEFAULT_MAX_HEAD_SIZE
from typedasgi.server_timers import TimedProtocol, plain_answer

__all__ = ["HandshakeAnsweringWebSocketsProtocol", "HeadBoundedHttpToolsProtocol"]

class _HeadTooLarge(Exception):
    """Raised in a parser callback: httptools stops, and uvicorn answers through ``send_400_response``."""


class HeadBoundedHttpToolsProtocol(TimedProtocol, HttpToolsProtocol):
    """``HttpToolsProtocol`` with the request head bounded in size and time, and the body's pauses in time.

    431 for a head past ``config.h11_max_incomplete_event_size``, 408 for a head slower than
    ``HEAD_TIMEOUT`` or a body pausing longer than ``BODY_TIMEOUT`` (see the module).

    A head that arrives within one read smaller than the limit is within it: that, the
    usual case, costs one length check per read. A head still open after a read is
    counted by the reads it spans (httptools keeps an unfinished line's pieces, so one
    endless line is caught while it is gathered), and its exact size is checked when it
    ends. The head held in memory stays within the limit plus one read.
    """

    default_max_head_size = DEFAULT_MAX_HEAD_SIZE

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._check_at_end = False  # the head being read may be past the limit: measure it when it ends
        self._in_large_read = False  # inside a read past the limit: every head ending in it is measured
        self._counted: list[tuple[bytes, bytes]] | None = None  # the open head being counted (its header list)
        self._open_bytes = 0  # that head's bytes so far (its finished lines, then every later read)
        self._too_large = False
        self._refusal_due = False  # a 431 waiting for the answers to the requests pipelined before its head
        # The header list of the last head that ended; at first uvicorn's "none yet" (None, though typed as a list).
        self._ended: list[tuple[bytes, bytes]] = self.headers

    def data_received(self, data: bytes) -> None:
        size = len(data)
        if self._lingered is not None:  # refused: the rest of the head is dropped, within bounds
            self.drop_after_refusal(size)
            return
        if size > self.max_head_size:  # whole heads could begin and end inside this read, pipelined ones too
            self._in_large_read = True
            try:
                HttpToolsProtocol.data_received(self, data)
            finally:
                self._in_large_read = False
        else:
            HttpToolsProtocol.data_received(self, data)
        headers = self.headers
        if headers is self._ended:  # no head open after this read (the usual case)
            cycle = cast("RequestResponseCycle | None", self.cycle)  # typed as set; None before a head ends
            if cycle is not None and cycle.more_body:  # a body still to come: reads are timed
                self._timers.body_read(self)
            return
        if self.transport.is_closing():
            return
        if headers is self._counted:
            self._open_bytes += size  # the whole read was this head's
        else:  # a head that began in this read: what it has so far
            self._counted, self._open_bytes = headers, self._head_size()
        self._check_at_end = True
        self._timers.head_begun(self)  # a later head, arriving over several reads: timed from here
        if self._open_bytes > self.max_head_size:
            self.refuse_head()

    def on_headers_complete(self) -> None:
        self._ended = self.headers  # also for an upgrade, after which the WebSocket protocol owns the transport
        if self._timers.head is not None:
            self._timers.head_ended()
        if self._check_at_end or self._in_large_read:
            self._check_at_end = False
            if self._head_size() > self.max_head_size:
                self._too_large = True
                raise _HeadTooLarge  # before the app's task is made
        HttpToolsProtocol.on_headers_complete(self)

    def refuse_head(self) -> None:
        """431 now, or once the requests pipelined before this head are answered: HTTP/1.1 keeps answers in order."""
        cycle = cast("RequestResponseCycle | None", self.cycle)  # the latest request's; None before a head ends
        if cycle is None or cycle.response_complete:
            super().refuse_head()
            return
        self._refusal_due = True  # answered by on_response_complete, after the last request before this head
        self._lingered = 0  # what the client still sends is dropped, within bounds, as after any 431
        self._timers.head_ended()
        self.flow.pause_reading()  # until the earlier answers are out

    def on_response_complete(self) -> None:
        HttpToolsProtocol.on_response_complete(self)  # starts the next queued request, and resumes reading
        if self.pipeline:  # requests still queued: read on only once they are answered
            # uvicorn reads again after every answer: a client pipelining requests and never reading the
            # answers had them parsed and queued without bound (a gigabyte from 17 MiB sent in 15 s).
            self.flow.pause_reading()
        elif self._refusal_due and self.cycle.response_complete and not self.transport.is_closing():
            self._refusal_due = False
            super().refuse_head()

    def _head_size(self) -> int:
        """The open head's size as parsed so far: the target and each header line (name, ": ", value, CRLF)."""
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def send_400_response(self, msg: str) -> None:
        if self._too_large:  # the parser stopped at our callback's exception: say which limit
            self.refuse_head()
        else:
            super().send_400_response(msg)


_BAD_HANDSHAKE = b"Failed to open a WebSocket connection: the request could not be read.\n"


_INVALID_UTF8 = "Invalid UTF-8 sequence received from client."  # uvicorn's words, logged with a traceback


class ClientMistakeIsNoError(logging.Filter):
    """uvicorn logs a text message of invalid UTF-8 as an ERROR with a traceback, though it is the client's
    mistake, answered with close 1007: every such message would fill the error log and wake alerting.
    It is logged at INFO, in one line, like the other mistakes of clients."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _INVALID_UTF8:
            record.msg = "WebSocket text message of invalid UTF-8 from the client: closed with 1007"
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("uvicorn.error").addFilter(ClientMistakeIsNoError())


class HandshakeAnsweringWebSocketsProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol`` that answers a handshake request websockets could not read, then closes;
    and reads nothing more from a client that does not read what it is sent."""

    _reads_held = False  # reading paused because the client is not reading (see pause_writing)

    def pause_writing(self) -> None:
        # websockets answers each ping with a pong at once: a client sending pings and never reading
        # had the pongs buffered without bound (300 MiB of pings, 290 MiB of memory). Read on once it reads.
        super().pause_writing()
        if not self.transport.is_closing():
            self._reads_held = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._reads_held:
            self._reads_held = False
            if not self.read_paused:  # not also held for the app (a message it has not taken yet)
                self.transport.resume_reading()

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
            self.handshake_complete = True  # answered by the app's denial: its return is no error

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.handshake_initiated or self.conn.handshake_exc is None or self.transport.is_closing():
            return  # read (answered by the app or by websockets' checks), or not whole yet
        prepared = b"".join(self.conn.data_to_send())  # websockets' 431 or 414, or nothing (a malformed request)
        if not prepared:
            prepared = plain_answer(400, _BAD_HANDSHAKE, self.default_headers)
        self.logger.warning("WebSocket handshake request could not be read: %s", self.conn.handshake_exc)
        self.transport.write(prepared)
        self.transport.close()

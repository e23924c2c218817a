"""The request head and body timers of ``typedasgi run``'s HTTP protocols (httptools and h11), and their answers.

uvicorn times neither a head nor a body: a connection that sends nothing, a head a byte at a
time, or a body that stops coming stays open for ever (and the app's ``receive()`` with it).
Each protocol tells its connection's ``RequestTimers`` when a head begins and ends and when a
read of a body came; the timers answer 408 and close past ``HEAD_TIMEOUT`` or ``BODY_TIMEOUT``.
What the two protocols tell apart differently (their parsers) stays in them; the timing is here,
and so is the 431 both give a head past ``--max-head-size`` (``TimedProtocol.refuse_head``).

Needs the ``standard`` extra (uvicorn); imported only by the protocols.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Protocol, cast

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.server import ServerState

from typedasgi.server_limits import (
    BODY_TIMEOUT_ENV,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEAD_TIMEOUT,
    HEAD_TIMEOUT_ENV,
    seconds_from_env,
)

__all__ = [
    "BODY_TIMEOUT",
    "HEAD_TIMEOUT",
    "RequestCycle",
    "RequestTimers",
    "TimedConnection",
    "TimedProtocol",
    "plain_answer",
]

HEAD_TIMEOUT = seconds_from_env(HEAD_TIMEOUT_ENV, DEFAULT_HEAD_TIMEOUT)
"""Seconds a request head may take (``typedasgi run --timeout-head``)."""

BODY_TIMEOUT = seconds_from_env(BODY_TIMEOUT_ENV, DEFAULT_BODY_TIMEOUT)
"""Seconds between two reads of a request body the server is waiting for (``typedasgi run --timeout-body``)."""

_HEAD_TIMED_OUT = b"Request head not received in time"
_BODY_TIMED_OUT = b"Request body not received in time"
_HEAD_TOO_LARGE = b"Request header fields too large"

LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024
"""After a 431 the rest of what the client is sending is read and dropped, up to these bounds, before the
connection closes: closing on unread data makes the kernel reset it, and the client would see that, not the 431."""


class RequestCycle(Protocol):
    """What the timers read of a request's cycle; uvicorn's httptools and h11 cycles both have it."""

    more_body: bool
    disconnected: bool
    keep_alive: bool
    waiting_for_100_continue: bool
    response_started: bool
    response_complete: bool


class TimedConnection(Protocol):
    """What the timers read of a connection's protocol; uvicorn's httptools and h11 protocols both have it."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...
    @property
    def transport(self) -> asyncio.Transport: ...
    @property
    def flow(self) -> FlowControl: ...
    @property
    def logger(self) -> logging.Logger: ...
    @property
    def server_state(self) -> ServerState: ...
    @property
    def config(self) -> Config: ...
    @property
    def cycle(self) -> RequestCycle | None: ...  # None before the first head ends


class RequestTimers:
    """One connection's timers: at most one for the head being read, one for the body being awaited.

    A head is timed from the connection (the first) or from its first byte (later ones): a keep-alive
    connection's idle time is uvicorn's. A body's timer is one per connection, re-armed from the last
    read's time rather than per read; time the server holds the client back (reading paused for an app
    that has not read what came, a 100 Continue not yet sent) does not count. The connection is passed
    in, not kept: only a pending timer refers to it, so a closed connection is freed at once rather
    than left in a reference cycle for the garbage collector (2 us a connection, measured).
    """

    __slots__ = ("_body_held_back", "_body_read_at", "body", "head")

    def __init__(self) -> None:
        self.head: asyncio.TimerHandle | None = None
        self.body: asyncio.TimerHandle | None = None
        self._body_read_at = 0.0  # the loop's time of the last read while a body was awaited
        self._body_held_back = False  # the server held the client back at the timer's last check

    def head_begun(self, connection: TimedConnection) -> None:
        """A head is being read (or the connection's first awaited): time it, unless it is timed already."""
        if self.head is None:
            self.head = connection.loop.call_later(HEAD_TIMEOUT, self._head_timed_out, connection)

    def head_ended(self) -> None:
        if self.head is not None:
            self.head.cancel()
            self.head = None

    def body_read(self, connection: TimedConnection) -> None:
        """A read came while more of a body is awaited: the client's time runs from now."""
        loop = connection.loop
        self._body_read_at = loop.time()
        if self.body is None:
            self.body = loop.call_later(BODY_TIMEOUT, self._body_timed_out, connection)

    def stop(self) -> None:
        """The connection is lost: nothing is timed any more."""
        self.head_ended()
        if self.body is not None:
            self.body.cancel()
            self.body = None

    def _head_timed_out(self, connection: TimedConnection) -> None:
        self.head = None
        if connection.transport.is_closing():
            return
        cycle = connection.cycle
        if cycle is not None and not cycle.response_complete:  # a response under way (pipelining): let it finish
            cycle.keep_alive = False
            return
        connection.logger.warning("Request head not received within %s s: answered 408.", HEAD_TIMEOUT)
        connection.transport.write(plain_answer(408, _HEAD_TIMED_OUT, connection.server_state.default_headers))
        connection.transport.close()

    def _body_timed_out(self, connection: TimedConnection) -> None:
        """Close a connection whose body stalled for ``BODY_TIMEOUT`` seconds of the client's own time."""
        self.body = None
        cycle = connection.cycle
        if cycle is None or not cycle.more_body or cycle.disconnected or connection.transport.is_closing():
            return  # the body came, or the connection is done
        loop = connection.loop
        now = loop.time()
        held_back = connection.flow.read_paused or cycle.waiting_for_100_continue
        if held_back or self._body_held_back:
            # The server holds the client back (the app has not read what came, or not yet asked for the body
            # a 100-continue client waits to send), or did until lately: the client's time starts afresh.
            self._body_read_at = now
        self._body_held_back = held_back
        if now - self._body_read_at < BODY_TIMEOUT:  # a read came meanwhile, or held back: wait the rest
            self.body = loop.call_later(self._body_read_at + BODY_TIMEOUT - now, self._body_timed_out, connection)
            return
        connection.logger.warning("Request body stalled for %s s: connection closed.", BODY_TIMEOUT)
        if not cycle.response_started:
            connection.transport.write(plain_answer(408, _BODY_TIMED_OUT, connection.server_state.default_headers))
        connection.transport.close()


class TimedProtocol(asyncio.Protocol):
    """Mixed in before uvicorn's httptools or h11 protocol: the connection gets its timers, and loses them with it.

    It also answers a head past the size limit (``refuse_head``), the same way for both parsers.
    """

    _timers: RequestTimers
    default_max_head_size: int  # each protocol's own bound when ``--max-head-size`` is not given
    max_head_size: int  # the head's size bound for this connection
    _lingered: int | None = None  # bytes dropped since a 431, None before one

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # --max-head-size reaches uvicorn's config as h11_max_incomplete_event_size (see typedasgi.cli)
        self.max_head_size = cast("TimedConnection", self).config.h11_max_incomplete_event_size or self.default_max_head_size
        self._timers = RequestTimers()
        # Its first head, or nothing. Mixed into one of uvicorn's HTTP protocols, this is a TimedConnection.
        self._timers.head_begun(cast("TimedConnection", self))

    def refuse_head(self) -> None:
        """Answer 431, then read and drop what the client still sends (bounded) so that it can read the answer."""
        connection = cast("TimedConnection", self)
        connection.logger.warning("Request head over %d bytes: answered 431.", self.max_head_size)
        self._lingered = 0
        self._timers.head_ended()
        transport = connection.transport
        transport.write(plain_answer(431, _HEAD_TOO_LARGE, connection.server_state.default_headers))
        if transport.can_write_eof():
            transport.write_eof()  # the answer is whole: the client may stop sending and read it
        connection.flow.resume_reading()
        connection.loop.call_later(LINGER_SECONDS, transport.close)

    def drop_after_refusal(self, size: int) -> None:
        """A read after ``refuse_head`` (``_lingered`` is set): dropped, and past the allowance the connection closes."""
        lingered = self._lingered = (self._lingered or 0) + size
        if lingered > LINGER_BYTES:
            cast("TimedConnection", self).transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._timers.stop()
        super().connection_lost(exc)


def plain_answer(status: int, text: bytes, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole ``connection: close`` answer, written by a protocol before (or instead of) any app."""
    content = [b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode())]
    for name, value in default_headers:
        content += [name, b": ", value, b"\r\n"]
    content += [
        b"content-type: text/plain; charset=utf-8\r\n",
        b"content-length: %d\r\n" % len(text),
        b"connection: close\r\n\r\n",
        text,
    ]
    return b"".join(content)

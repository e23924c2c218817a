"""uvicorn's h11 protocol as ``typedasgi run`` serves with it: the request head and body timed.

``typedasgi run`` serves with h11 where httptools is not installed (it has no wheels on some
platforms) or with ``--http h11``. h11 bounds a head's size itself (``--max-head-size``), but
only while the head is unfinished: a longer one that arrives whole within a read (up to 256 KB)
is parsed and served, and one that h11 does refuse uvicorn answers as any unreadable request,
a 400. Here a head is measured in h11's buffer before h11 parses it, and past the bound gets the
431 the httptools protocol gives (``TimedProtocol.refuse_head``). Nor does uvicorn time a head or a
body with h11 any more than with httptools: here the same
timers as typedasgi.server_protocol's (typedasgi.server_timers) give a slow head or a stalled
body a 408 and a closed connection, and the app's ``receive()`` ``http.disconnect``.

Needs uvicorn (the ``standard`` extra) but not httptools; imported only by the CLI.
"""

from __future__ import annotations

import re
from typing import cast

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE  # the bound uvicorn gives h11 by default (not re-exported)
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from typedasgi.server_timers import TimedProtocol

__all__ = ["TimedH11Protocol"]

_HEAD_END = re.compile(rb"\n\r?\n")
"""The blank line that ends a head (h11 takes bare LF line ends as well as CRLF)."""


class TimedH11Protocol(TimedProtocol, H11Protocol):
    """``H11Protocol`` with a request head bounded in time, and a body's pauses (see typedasgi.server_timers).

    h11 reads a head into its buffer and reports it whole, so the state is read after each batch
    of events: bytes left unparsed while the peer is between requests are a head begun; a new
    request cycle, or the peer's state leaving the two between-requests states, is a head ended.
    """

    default_max_head_size = DEFAULT_MAX_INCOMPLETE_EVENT_SIZE  # the bound uvicorn gives h11 itself

    def handle_events(self) -> None:
        """uvicorn's, after a read or a response: then time what the client is (still) sending.

        A head to come whose end is not within the size bound is refused first, before h11 parses it.
        """
        if self.conn.their_state is h11.IDLE and self._lingered is None:
            pending = self.conn.trailing_data[0]
            limit = self.max_head_size
            if len(pending) > limit and _HEAD_END.search(pending, 0, limit) is None:
                self.refuse_head()
                return
        before = self.cycle
        super().handle_events()
        conn, timers = self.conn, self._timers
        state = conn.their_state
        between_requests = state is h11.IDLE or state is h11.DONE  # DONE: its request read, the answer not yet sent
        if self.cycle is not before or not between_requests:  # a head ended (a request, or an upgrade)
            timers.head_ended()
        if self.transport.is_closing():
            return
        cycle = cast("RequestResponseCycle | None", self.cycle)  # typed as set by uvicorn; None before a head ends
        if between_requests:
            if conn.trailing_data[0]:  # the next head has begun (pipelined behind an answer, or over several reads)
                timers.head_begun(self)
        elif cycle is not None and cycle.more_body:  # a body still to come: reads are timed
            timers.body_read(self)

    def data_received(self, data: bytes) -> None:
        if self._lingered is not None:  # after a 431: dropped, within bounds
            self.drop_after_refusal(len(data))
            return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to any request h11 refuses; a head past the size bound gets its own, 431."""
        if len(self.conn.trailing_data[0]) > self.max_head_size:  # h11's one refusal for size: its buffer past the bound
            self.refuse_head()
        else:
            super().send_400_response(msg)

"""uvicorn's h11 protocol as ``typedasgi run`` serves with it: the request head and body timed.

``typedasgi run`` serves with h11 where httptools is not installed (it has no wheels on some
platforms) or with ``--http h11``. h11 bounds a head's size itself (``--max-head-size``), but
uvicorn times neither a head nor a body with it any more than with httptools: here the same
timers as typedasgi.server_protocol's (typedasgi.server_timers) give a slow head or a stalled
body a 408 and a closed connection, and the app's ``receive()`` ``http.disconnect``.

Needs uvicorn (the ``standard`` extra) but not httptools; imported only by the CLI.
"""

from __future__ import annotations

from typing import cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from typedasgi.server_timers import TimedProtocol

__all__ = ["TimedH11Protocol"]


class TimedH11Protocol(TimedProtocol, H11Protocol):
    """``H11Protocol`` with a request head bounded in time, and a body's pauses (see typedasgi.server_timers).

    h11 reads a head into its buffer and reports it whole, so the state is read after each batch
    of events: bytes left unparsed while the peer is between requests are a head begun; a new
    request cycle, or the peer's state leaving the two between-requests states, is a head ended.
    """

    def handle_events(self) -> None:
        """uvicorn's, after a read or a response: then time what the client is (still) sending."""
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

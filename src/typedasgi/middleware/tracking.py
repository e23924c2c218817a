"""``TrackingSend``: a ``send`` that remembers whether the response has started.

The two error layers need to know that (an error after the start can no
longer become an error response). When nothing sits between them, the inner
one reuses the outer one's tracker instead of wrapping ``send`` a second time.
"""

from __future__ import annotations

from typedasgi.types import Send, SendEvent

__all__ = ["TrackingSend", "tracking"]


class TrackingSend:
    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: SendEvent) -> None:
        self.started = True
        await self.send(message)


def tracking(send: Send) -> TrackingSend:
    """``send`` itself when it already tracks, else a new tracker around it."""
    return send if type(send) is TrackingSend else TrackingSend(send)

"""``TrackingSend``: a ``send`` that remembers whether the response has started.

The two error layers need to know that (an error after the start can no
longer become an error response). When nothing sits between them, the inner
one reuses the outer one's tracker instead of wrapping ``send`` a second time.
"""

from __future__ import annotations

from collections.abc import Awaitable

from typedasgi.types import Send, SendEvent

__all__ = ["TrackingSend", "WebSocketTracking", "tracking"]


class TrackingSend:
    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send: Send = send
        self.started: bool = False

    def __call__(self, message: SendEvent) -> Awaitable[None]:
        # A plain function handing back the server's own awaitable: the caller's
        # ``await`` runs it directly, so tracking adds no coroutine per message.
        self.started = True
        return self.send(message)


class WebSocketTracking:
    """A WebSocket's ``send`` that remembers whether the app accepted and whether it closed (or denied)."""

    __slots__ = ("accepted", "closed", "send")

    def __init__(self, send: Send) -> None:
        self.send: Send = send
        self.accepted: bool = False
        self.closed: bool = False

    @property
    def started(self) -> bool:
        return self.accepted or self.closed

    def __call__(self, message: SendEvent) -> Awaitable[None]:
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted = True
        elif kind == "websocket.close" or kind == "websocket.http.response.start":
            self.closed = True
        return self.send(message)


def tracking(send: Send) -> TrackingSend:
    """``send``'s tracker when it already is one, or a tracker's bound ``__call__`` (what the error layer
    passes on: the app's ``await send(...)`` calls a bound method faster than an instance), else a new one."""
    if type(send) is TrackingSend:
        return send
    owner = getattr(send, "__self__", None)
    return owner if type(owner) is TrackingSend else TrackingSend(send)

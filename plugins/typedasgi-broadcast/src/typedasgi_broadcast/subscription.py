"""One subscriber's bounded queue of events, and what happens when it fills up.

A publisher never waits for a subscriber: delivery puts the event on every
subscriber's queue without awaiting. Each queue holds at most ``max_pending``
events, and one ``Event`` object is shared by all subscribers of a channel,
so memory stays flat however slow a subscriber is. When a queue is full, the
subscription's ``overflow`` policy decides (the backends yield to the event
loop after each message delivered, so a burst does not fill the queue of a
subscriber that keeps up):

* ``"disconnect"`` (the default): the subscriber is dropped; its pending
  events are discarded and iterating raises :class:`SlowSubscriberError`
  (a WebSocket handler closes the socket; the client reconnects and resyncs).
* ``"drop-oldest"``: the oldest pending event makes room for the new one; the
  subscriber keeps going and ``subscription.skipped`` counts what it missed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "DEFAULT_MAX_MESSAGE_LENGTH",
    "DEFAULT_MAX_PENDING",
    "BroadcastUnavailable",
    "Event",
    "MessageTooLong",
    "Overflow",
    "SlowSubscriberError",
    "Subscription",
]

Overflow: TypeAlias = Literal["disconnect", "drop-oldest"]
"""What a full subscriber queue does with the next event (see the module docstring)."""

DEFAULT_MAX_PENDING = 1000
"""Events one subscriber may have waiting before its overflow policy applies."""

DEFAULT_MAX_MESSAGE_LENGTH = 2**20
"""Characters one message may have (as websockets' default frame limit, 1 MiB), so the queues' bound in events
is a bound in memory too: at most ``max_pending`` messages of at most this length wait per channel."""


@dataclass(frozen=True, slots=True)
class Event:
    """A message published on a channel, as every subscriber of that channel receives it."""

    channel: str
    message: str


class SlowSubscriberError(Exception):
    """The subscriber fell ``max_pending`` events behind and was dropped (overflow ``"disconnect"``)."""


class MessageTooLong(ValueError):
    """``publish`` was given a message longer than the broadcast's ``max_message_length``; nothing was sent."""


class BroadcastUnavailable(ConnectionError):
    """The broker cannot be reached right now (or the broadcast is not connected); try again later."""


class Subscription:
    """``async for event in subscription``: the events of one channel, in publishing order.

    Iteration ends when the subscription is closed (leaving ``subscribe()``'s
    block, or the broadcast disconnecting at shut-down).
    """

    __slots__ = ("_closed", "_error", "_events", "_max_pending", "_overflow", "_waiter", "channel", "skipped")

    def __init__(self, channel: str, *, max_pending: int = DEFAULT_MAX_PENDING, overflow: Overflow = "disconnect") -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        if overflow not in ("disconnect", "drop-oldest"):
            raise ValueError(f"overflow must be 'disconnect' or 'drop-oldest', got {overflow!r}")
        self.channel = channel
        self.skipped = 0
        """Events discarded for this subscriber under ``"drop-oldest"``."""
        self._events: deque[Event] = deque()
        self._max_pending = max_pending
        self._overflow: Overflow = overflow
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._error: SlowSubscriberError | None = None

    @property
    def pending(self) -> int:
        """Events received and not yet read (never more than ``max_pending``)."""
        return len(self._events)

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, event: Event) -> bool:
        """Queue ``event`` without waiting; False when this subscriber was dropped for falling behind."""
        if self._closed:
            return False
        if len(self._events) >= self._max_pending:
            if self._overflow == "disconnect":
                self.close(SlowSubscriberError(f"subscriber of {self.channel!r} fell {self._max_pending} events behind"))
                return False
            self._events.popleft()
            self.skipped += 1
        self._events.append(event)
        self._wake()
        return True

    def close(self, error: SlowSubscriberError | None = None) -> None:
        """End the iteration: normally, or with ``error`` (pending events are then discarded)."""
        if self._closed:
            return
        self._closed = True
        if error is not None:
            self._error = error
            self._events.clear()
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        while not self._events:
            if self._error is not None:
                raise self._error
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.popleft()

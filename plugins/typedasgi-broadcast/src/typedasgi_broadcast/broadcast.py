"""``Broadcast``: publish to channels, subscribe to them; the backend is chosen by URL.

``memory://`` keeps everything in one process; ``redis://host:port/db`` (or
``rediss://`` for TLS) goes through Redis pub/sub so every worker and every
host sees every message. However many local subscribers a channel has, the
process holds one broker subscription for it and one copy of each message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from types import TracebackType
from urllib.parse import urlsplit

from typedasgi_broadcast.backends import Backend, MemoryBackend
from typedasgi_broadcast.redis_backend import RedisBackend
from typedasgi_broadcast.subscription import (
    DEFAULT_MAX_MESSAGE_LENGTH,
    DEFAULT_MAX_PENDING,
    BroadcastUnavailable,
    Event,
    MessageTooLong,
    Overflow,
    Subscription,
)

__all__ = ["Broadcast"]

SCHEMES = ("memory", "redis", "rediss")


class Broadcast:
    """Channels of text messages: ``await publish(channel, message)``, ``async with subscribe(channel) as events``.

    Connect it before use (``async with broadcast:``, or let ``BroadcastPlugin``
    do it in the app's lifespan). ``max_pending`` and ``overflow`` bound each
    subscriber's queue (see ``typedasgi_broadcast.subscription``);
    ``reconnect_delay`` is the Redis back-off range in seconds.
    ``max_message_length`` (characters) bounds what ``publish`` takes, so that
    queued events are bounded in memory, not only in number.
    """

    def __init__(
        self,
        url: str = "memory://",
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        overflow: Overflow = "disconnect",
        max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
        reconnect_delay: tuple[float, float] = (0.1, 5.0),
        connect_timeout: float = 5.0,
        subscribe_timeout: float = 5.0,
    ) -> None:
        Subscription("", max_pending=max_pending, overflow=overflow)  # the same checks, at construction
        if max_message_length < 1:
            raise ValueError(f"max_message_length must be at least 1, got {max_message_length}")
        scheme = urlsplit(url).scheme
        if scheme not in SCHEMES:
            raise ValueError(f"Broadcast URL {url!r}: use memory://, redis://host:port/db or rediss://...")
        self.url = url
        self.max_pending = max_pending
        self.overflow: Overflow = overflow
        self.max_message_length = max_message_length
        self.backend: Backend
        if scheme == "memory":
            self.backend = MemoryBackend(self._deliver)
        else:
            self.backend = RedisBackend(
                url,
                self._deliver,
                reconnect_delay=reconnect_delay,
                connect_timeout=connect_timeout,
                subscribe_timeout=subscribe_timeout,
            )
        self._subscribers: dict[str, set[Subscription]] = {}
        self._subscribed: dict[str, asyncio.Future[None]] = {}  # channel -> the backend's subscription, once made
        self._connections = 0

    # -- connecting -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connections > 0

    async def connect(self) -> None:
        """Reach the broker (counted: apps sharing one broadcast each connect and disconnect it)."""
        if self._connections == 0:
            await self.backend.connect()
        self._connections += 1

    async def disconnect(self) -> None:
        """The last disconnect ends every subscription's iteration and closes the broker connection."""
        if self._connections == 0:
            return
        self._connections -= 1
        if self._connections:
            return
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.close()
        await self.backend.disconnect()

    async def __aenter__(self) -> Broadcast:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.disconnect()

    # -- publishing and subscribing -------------------------------------------------------

    async def publish(self, channel: str, message: str) -> None:
        """Send ``message`` to every subscriber of ``channel``, in every process; never waits for them.

        Raises ``BroadcastUnavailable`` when not connected or the broker is down, and
        ``MessageTooLong`` (a ``ValueError``) past ``max_message_length`` characters.
        """
        if not self._connections:
            raise BroadcastUnavailable("the broadcast is not connected: publish inside the app's lifespan")
        if len(message) > self.max_message_length:
            raise MessageTooLong(
                f"a message of {len(message)} characters is over max_message_length ({self.max_message_length})"
            )
        await self.backend.publish(channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, channel: str, *, max_pending: int | None = None, overflow: Overflow | None = None
    ) -> AsyncGenerator[Subscription, None]:
        """The events of ``channel`` published from the moment this block is entered until it is left."""
        if not self._connections:
            raise BroadcastUnavailable("the broadcast is not connected: subscribe inside the app's lifespan")
        subscription = Subscription(
            channel,
            max_pending=self.max_pending if max_pending is None else max_pending,
            overflow=self.overflow if overflow is None else overflow,
        )
        subscribers = self._subscribers.setdefault(channel, set())
        subscribers.add(subscription)
        try:
            await asyncio.shield(self._channel_subscribed(channel))
            yield subscription
        finally:
            subscription.close()
            subscribers.discard(subscription)
            if not subscribers and self._subscribers.get(channel) is subscribers:
                del self._subscribers[channel]
                self._subscribed.pop(channel, None)
                if self._connections:
                    await self.backend.unsubscribe(channel)

    def _channel_subscribed(self, channel: str) -> asyncio.Future[None]:
        """The backend's subscription to ``channel``: made by its first subscriber, awaited by all."""
        made = self._subscribed.get(channel)
        if made is None or (made.done() and (made.cancelled() or made.exception() is not None)):
            made = self._subscribed[channel] = asyncio.ensure_future(self.backend.subscribe(channel))
        return made

    def subscribers(self, channel: str) -> int:
        """How many local subscriptions ``channel`` has."""
        return len(self._subscribers.get(channel, ()))

    def _deliver(self, channel: str, message: str) -> None:
        subscribers = self._subscribers.get(channel)
        if not subscribers:
            return
        event = Event(channel, message)  # one object for every subscriber
        dropped = [subscription for subscription in subscribers if not subscription.put(event)]
        for subscription in dropped:
            subscribers.discard(subscription)

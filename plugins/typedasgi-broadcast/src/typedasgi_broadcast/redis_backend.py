"""Redis pub/sub as the broker (``redis://`` and ``rediss://`` URLs), on redis-py's asyncio client.

Two connections per process, whatever the number of subscribers: one for
``PUBLISH`` and one that holds the ``SUBSCRIBE``\\ s, read by one task that
hands each message to the local fan-out. When Redis goes away (a restart, a
fail-over), that task reconnects with exponential back-off and jitter, from
``reconnect_delay[0]`` up to ``reconnect_delay[1]`` seconds, and subscribes
every channel that still has local subscribers again. Redis pub/sub is
at-most-once: what is published while a process is cut off from Redis does not
reach it, and a publish while Redis is down raises ``BroadcastUnavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Mapping
from typing import Protocol, cast
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from typedasgi_broadcast.backends import Deliver
from typedasgi_broadcast.subscription import BroadcastUnavailable

__all__ = ["RedisBackend", "redacted"]

logger = logging.getLogger("typedasgi.broadcast")

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class PubSub(Protocol):
    """The part of redis-py's asyncio ``PubSub`` used here, typed (redis-py leaves parts of it untyped)."""

    async def connect(self) -> None: ...

    async def subscribe(self, *channels: str) -> None: ...

    def unsubscribe(self, *channels: str) -> Awaitable[object]: ...

    async def get_message(
        self, ignore_subscribe_messages: bool = False, timeout: float | None = 0.0
    ) -> Mapping[str, object] | None: ...

    async def aclose(self) -> None: ...


class Client(Protocol):
    """The part of redis-py's asyncio ``Redis`` used here, typed."""

    def ping(self) -> Awaitable[object]: ...

    def publish(self, channel: str, message: bytes) -> Awaitable[int]: ...

    def pubsub(self) -> PubSub: ...

    async def aclose(self) -> None: ...


def redacted(url: str) -> str:
    """``url`` without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisBackend:
    """A :class:`~typedasgi_broadcast.backends.Backend` on Redis pub/sub."""

    def __init__(
        self,
        url: str,
        deliver: Deliver,
        *,
        reconnect_delay: tuple[float, float] = (0.1, 5.0),
        connect_timeout: float = 5.0,
        subscribe_timeout: float = 5.0,
    ) -> None:
        low, high = reconnect_delay
        if not 0 < low <= high:
            raise ValueError(f"reconnect_delay must be (low, high) with 0 < low <= high, got {reconnect_delay}")
        self.url = url
        self.reconnects = 0
        """How many times the subscriber connection came back after Redis went away."""
        self._deliver = deliver
        self._delays = (low, high)
        self._connect_timeout = connect_timeout
        self._subscribe_timeout = subscribe_timeout
        self._publisher: Client | None = None
        self._listener: Client | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._channels: dict[str, asyncio.Future[None]] = {}  # wanted channels, each done once Redis confirmed it

    def _client(self, retries: int) -> Client:
        client = Redis.from_url(  # pyright: ignore[reportUnknownMemberType]  # **kwargs untyped in redis-py
            self.url,
            retry=Retry(NoBackoff(), retries),
            socket_connect_timeout=self._connect_timeout,
            socket_keepalive=True,
        )
        return cast(Client, client)  # the one cast from redis-py: Client lists what this module uses

    async def connect(self) -> None:
        publisher = self._client(retries=1)  # one immediate retry: a pooled connection Redis closed meanwhile
        listener = self._client(retries=0)  # the reader task does the reconnecting, with back-off
        try:
            await publisher.ping()
            self._pubsub = await self._open(listener)
        except _DOWN as exc:
            await _close_quietly(publisher, listener)
            raise BroadcastUnavailable(f"cannot reach Redis at {redacted(self.url)}: {exc}") from exc
        self._publisher, self._listener = publisher, listener
        self._reader = asyncio.create_task(self._read(listener), name=f"typedasgi-broadcast {redacted(self.url)}")

    async def disconnect(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_DOWN):
                await pubsub.aclose()
        clients = [client for client in (self._publisher, self._listener) if client is not None]
        self._publisher = self._listener = None
        await _close_quietly(*clients)
        for future in self._channels.values():
            future.cancel()
        self._channels.clear()

    async def publish(self, channel: str, message: str) -> None:
        publisher = self._publisher
        if publisher is None:
            raise BroadcastUnavailable("the broadcast is not connected: publish inside the app's lifespan")
        try:
            await publisher.publish(channel, message.encode())
        except _DOWN as exc:
            raise BroadcastUnavailable(f"cannot publish to Redis at {redacted(self.url)}: {exc}") from exc

    async def subscribe(self, channel: str) -> None:
        confirmed = self._channels[channel] = asyncio.get_running_loop().create_future()
        pubsub = self._pubsub
        if pubsub is not None:
            with contextlib.suppress(*_DOWN):  # the reader reconnects and subscribes every wanted channel
                await pubsub.subscribe(channel)
        try:
            await asyncio.wait_for(asyncio.shield(confirmed), self._subscribe_timeout)
        except TimeoutError:
            raise BroadcastUnavailable(
                f"Redis at {redacted(self.url)} did not confirm the subscription to {channel!r}"
                f" within {self._subscribe_timeout}s"
            ) from None

    async def unsubscribe(self, channel: str) -> None:
        future = self._channels.pop(channel, None)
        if future is not None:
            future.cancel()
        pubsub = self._pubsub
        if pubsub is not None:
            with contextlib.suppress(*_DOWN):  # gone with the connection anyway
                await pubsub.unsubscribe(channel)

    async def _open(self, listener: Client) -> PubSub:
        pubsub = listener.pubsub()
        await pubsub.connect()
        if self._channels:
            await pubsub.subscribe(*self._channels)
        return pubsub

    async def _read(self, listener: Client) -> None:
        """Hand every message to the fan-out; on a lost connection, reconnect with back-off and resubscribe."""
        low, high = self._delays
        delay = low
        while True:
            pubsub = self._pubsub
            try:
                if pubsub is None:
                    pubsub = self._pubsub = await self._open(listener)
                    self.reconnects += 1
                    delay = low
                    logger.warning(
                        "Reconnected to Redis at %s; subscribed %d channel(s) again", redacted(self.url), len(self._channels)
                    )
                message = await pubsub.get_message(timeout=None)
            except Exception as exc:  # whatever it was, the reader must live on: reconnect
                if not isinstance(exc, _DOWN):
                    logger.error("Unexpected error reading from Redis at %s", redacted(self.url), exc_info=exc)
                if pubsub is not None:
                    logger.warning("Lost Redis at %s (%s); reconnecting", redacted(self.url), exc)
                    self._pubsub = None
                    with contextlib.suppress(*_DOWN):
                        await pubsub.aclose()
                await asyncio.sleep(random.uniform(delay / 2, delay))
                delay = min(delay * 2, high)
                continue
            if message is not None:
                self._handle(message)
                await asyncio.sleep(0)  # a burst read in one go: subscribers read between its messages

    def _handle(self, message: Mapping[str, object]) -> None:
        kind, channel, data = message.get("type"), message.get("channel"), message.get("data")
        if not isinstance(channel, bytes):
            return
        name = channel.decode(errors="replace")
        if kind == "message" and isinstance(data, bytes):
            self._deliver(name, data.decode(errors="replace"))
        elif kind == "subscribe":
            confirmed = self._channels.get(name)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)


async def _close_quietly(*clients: Client) -> None:
    for client in clients:
        with contextlib.suppress(*_DOWN):
            await client.aclose()

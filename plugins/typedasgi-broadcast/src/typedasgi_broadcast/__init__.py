"""typedasgi-broadcast: typed publish/subscribe channels for WebSocket fan-out across workers and hosts.

::

    from typedasgi_broadcast import Broadcast, BroadcastPlugin

    broadcast = Broadcast("redis://127.0.0.1:6379/0")      # or "memory://" for one process
    app = TypedASGI(plugins=[BroadcastPlugin(broadcast)])  # connects and disconnects it in the lifespan

    await broadcast.publish("chat", "hello")
    async with broadcast.subscribe("chat") as events:
        async for event in events:                         # Event(channel, message)
            ...

The plugin also puts the broadcast in the lifespan state (``request.state["broadcast"]``)
for code that has no module-level handle on it. It has no entry point: an app
names its broker, so it gives the plugin explicitly.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from typedasgi.hooks import PluginApp, hookimpl
from typedasgi_broadcast.broadcast import Broadcast
from typedasgi_broadcast.subscription import (
    DEFAULT_MAX_MESSAGE_LENGTH,
    DEFAULT_MAX_PENDING,
    BroadcastUnavailable,
    Event,
    MessageTooLong,
    Overflow,
    SlowSubscriberError,
    Subscription,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_LENGTH",
    "DEFAULT_MAX_PENDING",
    "Broadcast",
    "BroadcastPlugin",
    "BroadcastUnavailable",
    "Event",
    "MessageTooLong",
    "Overflow",
    "SlowSubscriberError",
    "Subscription",
]


class BroadcastPlugin:
    """Connects ``broadcast`` at the app's lifespan start-up, disconnects it at shut-down.

    A broker that cannot be reached at start-up fails the start-up, naming the
    URL (a worker that cannot fan out should not take traffic); once running,
    the Redis backend reconnects by itself.
    """

    plugin_name = "broadcast"

    def __init__(self, broadcast: Broadcast, *, state_key: str = "broadcast") -> None:
        self.broadcast = broadcast
        self.state_key = state_key

    @hookimpl.lifespan
    @contextlib.asynccontextmanager
    async def lifespan(self, app: PluginApp) -> AsyncGenerator[Mapping[str, Any] | None, None]:
        async with self.broadcast:
            yield {self.state_key: self.broadcast}

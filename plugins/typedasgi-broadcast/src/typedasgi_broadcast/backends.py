"""Backends carry messages between processes; :class:`Broadcast` fans them out to local subscribers.

A backend only knows channels, not subscribers: the broadcast asks it to
subscribe a channel when the channel's first local subscriber arrives and to
unsubscribe when the last one leaves, and the backend hands every message it
receives to ``deliver(channel, message)``, a plain function that never waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, TypeAlias

__all__ = ["Backend", "Deliver", "MemoryBackend"]

Deliver: TypeAlias = Callable[[str, str], None]
"""``deliver(channel, message)``: give a received message to the local subscribers (never waits)."""


class Backend(Protocol):
    """What :class:`Broadcast` needs from a broker."""

    async def connect(self) -> None:
        """Reach the broker; raise ``BroadcastUnavailable`` (naming it) when it cannot be reached."""
        ...

    async def disconnect(self) -> None: ...

    async def publish(self, channel: str, message: str) -> None:
        """Send ``message`` to every process subscribed to ``channel``; ``BroadcastUnavailable`` if the broker is down."""
        ...

    async def subscribe(self, channel: str) -> None:
        """Start receiving ``channel``; return once messages published from now on will be delivered."""
        ...

    async def unsubscribe(self, channel: str) -> None: ...


class MemoryBackend:
    """One process, no broker: a publish is delivered to the local subscribers at once."""

    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def publish(self, channel: str, message: str) -> None:
        self._deliver(channel, message)
        await asyncio.sleep(0)  # as a broker's round trip would: a publishing loop lets subscribers read

    async def subscribe(self, channel: str) -> None:
        return None

    async def unsubscribe(self, channel: str) -> None:
        return None

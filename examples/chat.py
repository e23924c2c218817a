"""A WebSocket chat served by several workers, its messages fanned out through Redis.

    CHAT_BROADCAST_URL=redis://127.0.0.1:6379/0 typedasgi run examples.chat:app --workers 2

Each worker holds its own clients; a message received by one worker is
published on the ``chat`` channel and every worker sends it to its clients.
Without ``CHAT_BROADCAST_URL`` the broker is ``memory://``: fine for one worker,
but then workers do not hear each other. Every frame the server sends is JSON:
``{"kind": "welcome", "worker": PID}`` once subscribed, then
``{"kind": "message", "worker": PID, "text": ...}`` for every message, or
``{"kind": "error", "text": ...}``.

A client may send ``BURST`` messages at once and ``RATE`` a second after that
(more get an error frame and go nowhere), so one client cannot flood the others
off: every subscriber is dropped when it falls ``max_pending`` messages behind.
A client that is dropped for being slow, or that joins while Redis is away,
is closed with 1013 (try again later).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

import msgspec

from typedasgi.applications import TypedASGI
from typedasgi.routing import WebSocketRoute
from typedasgi.websockets import WebSocket, WebSocketDecodeError, WebSocketDisconnect
from typedasgi_broadcast import Broadcast, BroadcastPlugin, BroadcastUnavailable, SlowSubscriberError, Subscription

CHANNEL = "chat"
MAX_TEXT = 4096
"""Longest message accepted, in characters; longer ones get an error frame."""
BURST = 200
RATE = 50.0
"""Messages one client may send at once, then per second (a token bucket): a burst well under a subscriber's
``max_pending`` (1000), so one client's flood cannot get readers that keep up dropped as slow."""
TRY_AGAIN_LATER = 1013  # WebSocket close code: the client may reconnect


class Frame(msgspec.Struct, omit_defaults=True):
    """What the server sends: a welcome, a chat message or an error."""

    kind: str
    worker: int = 0
    text: str = ""


class Allowance:
    """How many messages a client may send now: ``burst`` at most, refilled at ``rate`` per second."""

    def __init__(self, rate: float = RATE, burst: int = BURST) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.checked = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.checked) * self.rate)
        self.checked = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


_encode = msgspec.json.Encoder().encode
broadcast = Broadcast(os.environ.get("CHAT_BROADCAST_URL", "memory://"))


def frame(kind: str, *, worker: int = 0, text: str = "") -> str:
    return _encode(Frame(kind, worker, text)).decode()


async def forward(websocket: WebSocket, events: Subscription) -> None:
    """Every published message to this client; raises SlowSubscriberError once it falls too far behind."""
    async for event in events:
        await websocket.send_text(event.message)


async def publish(websocket: WebSocket) -> None:
    """Every text this client sends, to everyone (itself included), within its length and rate limits.

    Raises WebSocketDisconnect when the client leaves, which ends its session.
    """
    allowance = Allowance()
    while True:
        try:
            text = await websocket.receive_text()
        except WebSocketDecodeError:
            await websocket.send_text(frame("error", text="send text frames"))
            continue
        if len(text) > MAX_TEXT:
            await websocket.send_text(frame("error", text=f"longer than {MAX_TEXT} characters"))
        elif not allowance.take():
            await websocket.send_text(frame("error", text="too many messages, slow down"))
        else:
            try:
                await broadcast.publish(CHANNEL, frame("message", worker=os.getpid(), text=text))
            except BroadcastUnavailable:
                await websocket.send_text(frame("error", text="chat unavailable, try again"))


async def chat(websocket: WebSocket) -> None:
    """Subscribe, then forward and publish side by side until either ends the session."""
    await websocket.accept()
    try:
        async with broadcast.subscribe(CHANNEL) as events:
            await websocket.send_text(frame("welcome", worker=os.getpid()))
            async with asyncio.TaskGroup() as session:  # the first to fail cancels the other
                session.create_task(forward(websocket, events))
                session.create_task(publish(websocket))
    except* WebSocketDisconnect:
        pass  # the client left
    except* SlowSubscriberError:
        await close_unless_gone(websocket, "too slow to keep up")
    except* BroadcastUnavailable:  # Redis is away and this worker had no subscription to the channel yet
        await close_unless_gone(websocket, "chat unavailable, try again")


async def close_unless_gone(websocket: WebSocket, reason: str) -> None:
    """Close 1013 (try again later); a client that already left needs no close frame."""
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.close(TRY_AGAIN_LATER, reason)


app = TypedASGI(routes=[WebSocketRoute("/chat", chat)], plugins=[BroadcastPlugin(broadcast)])

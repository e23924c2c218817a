"""A WebSocket chat served by several workers, its messages fanned out through Redis.

    CHAT_BROADCAST_URL=redis://127.0.0.1:6379/0 typedasgi run examples.chat:app --workers 2

Each worker holds its own clients; a message received by one worker is
published on the ``chat`` channel and every worker sends it to its clients.
Without ``CHAT_BROADCAST_URL`` the broker is ``memory://``: fine for one worker,
but then workers do not hear each other. Every frame the server sends is JSON:
``{"kind": "welcome", "worker": PID}`` once subscribed, then
``{"kind": "message", "worker": PID, "text": ...}`` for every message, or
``{"kind": "error", "text": ...}``.
"""

from __future__ import annotations

import asyncio
import os

import msgspec

from typedasgi.applications import TypedASGI
from typedasgi.routing import WebSocketRoute
from typedasgi.websockets import WebSocket, WebSocketDisconnect
from typedasgi_broadcast import Broadcast, BroadcastPlugin, BroadcastUnavailable, SlowSubscriberError, Subscription

CHANNEL = "chat"
MAX_TEXT = 4096
"""Longest message accepted, in characters; longer ones get an error frame."""
TRY_AGAIN_LATER = 1013  # WebSocket close code: the client may reconnect


class Frame(msgspec.Struct, omit_defaults=True):
    """What the server sends: a welcome, a chat message or an error."""

    kind: str
    worker: int = 0
    text: str = ""


_encode = msgspec.json.Encoder().encode
broadcast = Broadcast(os.environ.get("CHAT_BROADCAST_URL", "memory://"))


def frame(kind: str, *, worker: int = 0, text: str = "") -> str:
    return _encode(Frame(kind, worker, text)).decode()


async def forward(websocket: WebSocket, events: Subscription) -> None:
    """Every published message to this client; a client too slow to keep up is closed (it may reconnect)."""
    try:
        async for event in events:
            await websocket.send_text(event.message)
    except SlowSubscriberError:
        await websocket.close(TRY_AGAIN_LATER, "too slow to keep up")


async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    async with broadcast.subscribe(CHANNEL) as events:
        await websocket.send_text(frame("welcome", worker=os.getpid()))
        sending = asyncio.create_task(forward(websocket, events))
        try:
            while True:
                text = await websocket.receive_text()
                if len(text) > MAX_TEXT:
                    await websocket.send_text(frame("error", text=f"longer than {MAX_TEXT} characters"))
                    continue
                try:
                    await broadcast.publish(CHANNEL, frame("message", worker=os.getpid(), text=text))
                except BroadcastUnavailable:
                    await websocket.send_text(frame("error", text="chat unavailable, try again"))
        except WebSocketDisconnect:
            pass
        finally:
            sending.cancel()


app = TypedASGI(routes=[WebSocketRoute("/chat", chat)], plugins=[BroadcastPlugin(broadcast)])

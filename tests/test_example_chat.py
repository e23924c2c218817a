"""examples/chat.py served by ``typedasgi run --workers 2`` with a real redis-server: every message reaches every client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator

import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect

from examples import chat
from examples.chat import MAX_TEXT, Frame
from tests.support import ServerFactory, ServerURL, websocket_scope
from typedasgi.types import ReceiveEvent, SendEvent
from typedasgi.websockets import WebSocket
from typedasgi_broadcast import Broadcast
from typedasgi_broadcast.testing import RedisServer, running_redis

MAX_BATCHES = 50
BATCH = 10
"""Clients are opened in concurrent batches until two workers answered (the kernel spreads accepts between them)."""


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def wait_for_workers(base: ServerURL, count: int, timeout: float = 60) -> None:
    """Until ``count`` workers have finished their lifespan start-up (uvicorn logs each at info)."""
    deadline = time.monotonic() + timeout
    while base.log().count("Application startup complete") < count:
        assert time.monotonic() < deadline, f"{count} workers did not start:\n{base.log()}"
        time.sleep(0.05)


async def receive(ws: ClientConnection) -> Frame:
    return msgspec.json.decode(await ws.recv(), type=Frame)


async def join(url: str, max_queue: int | None = 16) -> tuple[ClientConnection, int]:
    """A client, subscribed; and the pid of the worker serving it."""
    ws = await connect(url, max_queue=max_queue)
    welcome = await receive(ws)
    assert welcome.kind == "welcome"
    return ws, welcome.worker


def test_every_message_reaches_clients_on_both_workers(
    serve: ServerFactory, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_BROADCAST_URL", redis.url)

    async def run(url: str) -> None:
        clients: list[tuple[ClientConnection, int]] = []
        try:
            for _ in range(MAX_BATCHES):
                for ws, worker in await asyncio.gather(*(join(url) for _ in range(BATCH))):
                    if sum(1 for _, seen in clients if seen == worker) < 3:
                        clients.append((ws, worker))
                    else:
                        await ws.close()  # enough clients on that worker
                if len({worker for _, worker in clients}) == 2:
                    break
            assert len({worker for _, worker in clients}) == 2, "every client landed on the same worker"
            senders = {worker: ws for ws, worker in clients}  # one client on each worker speaks
            for worker, ws in senders.items():
                await ws.send(f"hello from a client of {worker}")
            expected = {(worker, f"hello from a client of {worker}") for worker in senders}
            for ws, _ in clients:
                frames = [await receive(ws) for _ in expected]
                assert {(frame.worker, frame.text) for frame in frames} == expected
                assert all(frame.kind == "message" for frame in frames)
            ws, _ = clients[0]
            await ws.send("x" * (MAX_TEXT + 1))
            assert await receive(ws) == Frame("error", text=f"longer than {MAX_TEXT} characters")
        finally:
            await asyncio.gather(*(ws.close() for ws, _ in clients))

    with serve("examples.chat:app", args=("--workers", "2"), timeout=60) as base:
        wait_for_workers(base, 2)
        asyncio.run(asyncio.wait_for(run(base.replace("http://", "ws://") + "/chat"), timeout=60))
        log = base.log()
        assert "Traceback" not in log, log[-4000:]  # the whole traceback when it fails


def test_a_flooding_client_is_held_to_its_allowance_and_the_others_stay(
    serve: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHAT_BROADCAST_URL", raising=False)  # one worker, memory://

    async def run(url: str) -> None:
        (reader, _), (other, _) = [await join(url) for _ in range(2)]
        flooder, _ = await join(url, max_queue=None)  # its library reads on: the refusals cannot block the server
        try:
            for n in range(5000):  # as fast as the socket takes them; never reading
                await flooder.send(f"flood {n}")
            await other.send("marker")
            texts: list[str] = []
            while not texts or texts[-1] != "marker":
                received = await receive(reader)  # before the allowance: closed 1013 as too slow
                assert received.kind == "message"
                texts.append(received.text)
            assert len(texts) - 1 < 5000 / 2  # the burst, and what the rate refilled meanwhile
            first_error = await receive(flooder)
            while first_error.kind == "message":  # its own messages that went out, then the refusals
                first_error = await receive(flooder)
            assert first_error == Frame("error", text="too many messages, slow down")
        finally:
            await asyncio.gather(reader.close(), flooder.close(), other.close())

    with serve("examples.chat:app", timeout=30) as base:
        asyncio.run(asyncio.wait_for(run(base.replace("http://", "ws://") + "/chat"), timeout=60))
        log = base.log()
        assert "Traceback" not in log, log[-4000:]  # the whole traceback when it fails


class ScriptedClient:
    """A WebSocket client driven in the app's own loop: ``receive`` gives the app its messages, ``send`` records."""

    def __init__(self, talks: bool) -> None:
        self.talks = talks
        self.sent: list[SendEvent] = []
        self.connected = False
        self.closed = asyncio.Event()

    async def receive(self) -> ReceiveEvent:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        if not self.talks:
            await self.closed.wait()
            return {"type": "websocket.disconnect", "code": 1006}
        await asyncio.sleep(0)
        return {"type": "websocket.receive", "text": "x" * (MAX_TEXT + 1)}  # talks on, even past the close

    async def send(self, message: SendEvent) -> None:
        self.sent.append(message)
        if message["type"] == "websocket.close":
            self.closed.set()

    def close_codes(self) -> list[object]:
        return [message.get("code") for message in self.sent if message["type"] == "websocket.close"]


def scripted_chat(client: ScriptedClient) -> Coroutine[None, None, None]:
    return chat.chat(WebSocket(websocket_scope("/chat"), client.receive, client.send))


def test_a_client_dropped_as_too_slow_is_closed_1013_and_the_handler_ends_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    broadcast = Broadcast("memory://", max_pending=1)
    monkeypatch.setattr(chat, "broadcast", broadcast)

    async def main() -> None:
        async with broadcast:
            client = ScriptedClient(talks=True)  # a client that keeps sending while it falls behind
            handler = asyncio.create_task(scripted_chat(client))
            while broadcast.subscribers(chat.CHANNEL) == 0:
                await asyncio.sleep(0)
            await broadcast.publish(chat.CHANNEL, "one")
            await broadcast.publish(chat.CHANNEL, "two")  # its queue of 1 overflows before it reads
            await handler  # before: WebSocketDisconnected from its next receive_text, logged as a server error
            assert client.close_codes() == [chat.TRY_AGAIN_LATER]

    asyncio.run(asyncio.wait_for(main(), timeout=10))


def test_joining_while_redis_is_away_is_a_1013_close_not_a_server_error(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    broadcast = Broadcast(redis.url, subscribe_timeout=0.5, reconnect_delay=(0.05, 0.2))
    monkeypatch.setattr(chat, "broadcast", broadcast)

    async def main() -> None:
        async with broadcast:
            await asyncio.to_thread(redis.stop)
            client = ScriptedClient(talks=False)
            await scripted_chat(client)  # before: BroadcastUnavailable, a traceback per client while Redis is away
            assert client.close_codes() == [chat.TRY_AGAIN_LATER]
            assert client.sent[0]["type"] == "websocket.accept"

    asyncio.run(asyncio.wait_for(main(), timeout=30))

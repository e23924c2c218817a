"""examples/chat.py served by ``typedasgi run --workers 2`` with a real redis-server: every message reaches every client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect

from examples.chat import MAX_TEXT, Frame
from tests.support import ServerFactory, ServerURL
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


async def join(url: str) -> tuple[ClientConnection, int]:
    """A client, subscribed; and the pid of the worker serving it."""
    ws = await connect(url)
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
        assert "Traceback" not in base.log()

"""WebSockets through a real uvicorn on 127.0.0.1 with the ``websockets`` client library."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.asyncio.client import ClientConnection, connect

from tests.support import ServerFactory, http_get

CONNECTIONS = 500


def live_sessions(base: str) -> int:
    status, _, body = http_get(base + "/stats")
    assert status == 200
    count: int = json.loads(body)["live_sessions"]
    return count


def test_echo_text_binary_and_json(serve: ServerFactory) -> None:
    async def run(ws_base: str) -> None:
        async with connect(ws_base + "/echo") as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send(b"\x00\x01binary")
            assert await ws.recv() == b"\x00\x01binary"
        async with connect(ws_base + "/echo?mode=json") as ws:
            await ws.send(json.dumps({"n": [1, 2]}))
            assert json.loads(await ws.recv()) == {"echo": {"n": [1, 2]}}

    with serve("examples.echo:app") as base:
        asyncio.run(asyncio.wait_for(run(base.replace("http://", "ws://")), timeout=30))
        assert "Traceback" not in base.log()


def test_500_concurrent_connections_echo_and_close_cleanly(serve: ServerFactory) -> None:
    async def run(ws_base: str, base: str) -> None:
        sockets: list[ClientConnection] = []
        try:
            for start in range(0, CONNECTIONS, 100):  # open in batches to keep the accept queue short
                sockets += await asyncio.gather(*(connect(ws_base + "/echo") for _ in range(start, start + 100)))
            assert await asyncio.to_thread(live_sessions, base) == CONNECTIONS  # all held at once

            async def echo(index: int, ws: ClientConnection) -> None:
                await ws.send(f"msg {index}")
                assert await ws.recv() == f"msg {index}"

            await asyncio.gather(*(echo(i, ws) for i, ws in enumerate(sockets)))
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))

    with serve("examples.echo:app", args=("--log-level", "warning")) as base:
        asyncio.run(asyncio.wait_for(run(base.replace("http://", "ws://"), base), timeout=90))
        deadline = time.monotonic() + 15
        while live_sessions(base) and time.monotonic() < deadline:  # every handler has returned
            time.sleep(0.05)
        assert live_sessions(base) == 0
        log = base.log()
        assert "Traceback" not in log and "ERROR" not in log, log[-2000:]

"""WebSocket echo through each framework's own API (``receive_text`` / ``send_text``).

In process, one connection echoes N text messages fed by a fake server: messages
per CPU-second, the WebSocket counterpart of the HTTP rows. Through uvicorn,
many client connections echo at once: a check that nothing is slow under load
(the Python client is usually the bottleneck there, not the server).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import time
from typing import Any

from typedasgi.applications import TypedASGI
from typedasgi.routing import WebSocketRoute
from typedasgi.types import ASGIApp, Receive, Scope, Send
from typedasgi.websockets import WebSocket, WebSocketDisconnect


async def raw_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """The floor: accept, then send back every text message as it comes."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        await send({"type": "websocket.send", "text": message.get("text")})


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        return


def raw_ws() -> ASGIApp:
    return raw_echo


def typedasgi_ws() -> TypedASGI:
    return TypedASGI(routes=[WebSocketRoute("/ws", echo)], autoload_plugins=False)


def starlette_ws() -> Any:
    Starlette = importlib.import_module("starlette.applications").Starlette
    SRoute = importlib.import_module("starlette.routing").WebSocketRoute
    SDisconnect = importlib.import_module("starlette.websockets").WebSocketDisconnect

    async def s_echo(websocket: Any) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except SDisconnect:
            return

    return Starlette(routes=[SRoute("/ws", s_echo)])


WS_APPS = {"raw": raw_ws, "typedasgi": typedasgi_ws, "starlette": starlette_ws}
"""Factories (``uvicorn --factory bench.ws:<name>_ws`` calls them too)."""


def ws_scope() -> dict[str, Any]:
    return {
        "type": "websocket", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "scheme": "ws", "path": "/ws", "raw_path": b"/ws", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 5000), "server": ("bench", 80),
        "subprotocols": [], "extensions": {}, "state": {},
    }


async def echo_rate(app: Any, messages: int) -> float:
    """Messages per CPU-second over one connection; every echo is checked to have been sent."""
    incoming = iter(
        [{"type": "websocket.connect"}]
        + [{"type": "websocket.receive", "text": "hello"}] * messages
        + [{"type": "websocket.disconnect", "code": 1000}]
    )
    sent = 0

    async def receive() -> Any:
        return next(incoming)

    async def send(message: Any) -> None:
        nonlocal sent
        sent += 1

    start = time.process_time()
    await app(ws_scope(), receive, send)
    elapsed = time.process_time() - start
    if sent != messages + 1:  # the accept, then one echo per message
        raise SystemExit(f"websocket echo sent {sent} messages for {messages}")
    return messages / elapsed


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _client(port: int, messages: int, ready: asyncio.Event) -> None:
    connect = importlib.import_module("websockets.asyncio.client").connect
    async with connect(f"ws://127.0.0.1:{port}/ws") as connection:
        await ready.wait()
        for _ in range(messages):
            await connection.send("hello")
            if await connection.recv() != "hello":
                raise SystemExit("wrong echo through uvicorn")


async def _through_uvicorn(port: int, connections: int, messages: int) -> float:
    ready = asyncio.Event()
    clients = [asyncio.create_task(_client(port, messages, ready)) for _ in range(connections)]
    await asyncio.sleep(0.5)  # let every connection open before the clock starts
    start = time.perf_counter()
    ready.set()
    await asyncio.wait_for(asyncio.gather(*clients), timeout=120)
    return connections * messages / (time.perf_counter() - start)


def uvicorn_rate(name: str, port: int, connections: int, messages: int) -> tuple[float, float]:
    """(messages per second, messages per server CPU-second) for ``connections`` clients echoing at once."""
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", f"bench.ws:{name}_ws", "--factory", "--port", str(port),
         "--host", "127.0.0.1", "--no-access-log", "--log-level", "warning", "--lifespan", "off",
         "--loop", "uvloop", "--http", "httptools", "--ws", "auto"],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        deadline = time.monotonic() + 15
        while True:  # wait until it listens
            try:
                with open(os.devnull, "w"):
                    asyncio.run(_through_uvicorn(port, 1, 1))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        cpu_before = _cpu_seconds(server.pid)
        rate = asyncio.run(_through_uvicorn(port, connections, messages))
        cpu = _cpu_seconds(server.pid) - cpu_before
        return rate, connections * messages / cpu if cpu else 0.0
    finally:
        server.terminate()
        server.wait(timeout=10)

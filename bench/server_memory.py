"""Memory through uvicorn: server RSS per idle WebSocket, per in-flight request, and over rounds of connections.

    python3 dev.py bench --server-memory 1000

Each framework's app runs in its own uvicorn process (uvloop, httptools, websockets),
and the server's resident set size is read from /proc between steps:

* per idle WebSocket: RSS with N accepted connections open, less RSS before, over N;
* per in-flight request: N requests whose body never comes (each waits inside the
  endpoint), over N;
* rounds: N connections at once echo ten messages each and leave; RSS after each
  round. The first round warms up (the allocator's arenas, caches); after it the
  figures should stay flat.

Both deltas hold the server's own per-connection state (uvicorn's protocol objects,
the websockets library's buffers) besides the framework's: compare the frameworks
with each other. The client asks for no compression: permessage-deflate's zlib
contexts live in the C heap, whose fragmentation grows the RSS of any server (raw
ASGI too) by tens of MiB over the first rounds and hides what the app holds. The
client runs in this process; everything is on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import time
from typing import Any

from bench.ws import raw_echo, starlette_ws, typedasgi_ws
from typedasgi.responses import PlainTextResponse
from typedasgi.types import ASGIApp, Receive, Scope, Send

PAGE = os.sysconf("SC_PAGE_SIZE")
MESSAGES = 10  # per connection and round
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_entered = 0  # requests inside the waiting endpoint (one server process per framework)


# ----------------------------------------------------------------------------- the apps (uvicorn --factory)


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The floor: the raw WebSocket echo, a waiting endpoint and the count of waiting requests."""
    global _entered
    if scope["type"] == "websocket":
        await raw_echo(scope, receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["path"] == "/wait":
        _entered += 1
        while (await receive())["type"] != "http.disconnect":
            pass
        _entered -= 1
        return
    body = str(_entered).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _entered_count(request: Any) -> Any:  # a Request of either framework
    return PlainTextResponse(str(_entered))


async def _wait(request: Any) -> Any:  # a Request of either framework: waits for a body that never comes
    global _entered
    _entered += 1
    try:
        await request.body()
    except Exception:  # the framework's ClientDisconnect: the client went, as expected
        pass
    finally:
        _entered -= 1
    return PlainTextResponse("gone")


def raw_server() -> ASGIApp:
    return raw_app


def typedasgi_server() -> ASGIApp:
    app = typedasgi_ws()
    app.add_route("/wait", _wait, methods=["POST"])
    app.add_route("/entered", _entered_count)
    return app


def starlette_server() -> Any:  # optional, untyped: imported by name
    app = starlette_ws()
    app.add_route("/wait", _wait, methods=["POST"])  # typedasgi's PlainTextResponse is an ASGI app Starlette sends
    app.add_route("/entered", _entered_count)
    return app


SERVERS = {"raw": raw_server, "typedasgi": typedasgi_server, "starlette": starlette_server}


# ----------------------------------------------------------------------------- the client side


def server_rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


async def _entered_now(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /entered HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), timeout=30)
    writer.close()
    return int(answer.rpartition(b"\r\n\r\n")[2])


async def _settle(pid: int) -> int:
    """The server's RSS once it stopped moving (the server frees and allocates on its own time)."""
    previous = -1
    for _ in range(20):
        await asyncio.sleep(0.2)
        current = server_rss(pid)
        if current == previous:
            return current
        previous = current
    return previous


async def idle_websockets(pid: int, port: int, n: int) -> float:
    """Bytes of server RSS per open, idle WebSocket."""
    connect = importlib.import_module("websockets.asyncio.client").connect
    before = await _settle(pid)
    connections = [await connect(f"ws://127.0.0.1:{port}/ws", compression=None) for _ in range(n)]
    for connection in connections:  # every session is inside the app: accepted and echoing
        await connection.send("hello")
        await connection.recv()
    after = await _settle(pid)
    await asyncio.gather(*(connection.close() for connection in connections))
    return (after - before) / n


async def in_flight_requests(pid: int, port: int, n: int) -> float:
    """Bytes of server RSS per request waiting inside the endpoint for a body that never comes."""
    before = await _settle(pid)
    streams = []
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /wait HTTP/1.1\r\nhost: bench\r\ncontent-length: 10\r\n\r\n")
        streams.append((reader, writer))
    deadline = time.monotonic() + 60
    while await _entered_now(port) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {await _entered_now(port)} of {n} requests reached the endpoint")
        await asyncio.sleep(0.2)
    after = await _settle(pid)
    for _, writer in streams:
        writer.close()
    return (after - before) / n


async def _session(port: int) -> None:
    connect = importlib.import_module("websockets.asyncio.client").connect
    async with connect(f"ws://127.0.0.1:{port}/ws", compression=None) as connection:
        for _ in range(MESSAGES):
            await connection.send("hello")
            if await connection.recv() != "hello":
                raise SystemExit("wrong echo through uvicorn")


async def rounds_of_sessions(pid: int, port: int, n: int, rounds: int) -> list[int]:
    """Server RSS after each round of ``n`` concurrent sessions that echo and leave."""
    sizes = []
    for _ in range(rounds):
        await asyncio.wait_for(asyncio.gather(*(_session(port) for _ in range(n))), timeout=300)
        sizes.append(await _settle(pid))
    return sizes


def _serve(name: str, port: int, n: int) -> subprocess.Popen[bytes]:
    """A fresh uvicorn process serving ``name``'s app, once it answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", f"bench.server_memory:{name}_server", "--factory", "--port", str(port),
         "--host", "127.0.0.1", "--no-access-log", "--log-level", "warning", "--lifespan", "off",
         "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio", "--backlog", str(2 * n)],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            asyncio.run(_entered_now(port))
            return server
        except OSError:
            if time.monotonic() > deadline:
                server.terminate()
                raise
            time.sleep(0.2)


def measure(name: str, port: int, n: int, rounds: int = 5) -> tuple[list[int], float, float]:
    """(RSS after each round, bytes per idle WebSocket, bytes per in-flight request) of ``name``'s server.

    Each figure comes from a fresh server (after a few warm-up sessions): memory freed
    by one step would otherwise be reused by the next and hide its cost.
    """
    sizes: list[int] = []
    per: list[float] = []
    for step in ("rounds", "websockets", "requests"):
        server = _serve(name, port, n)
        try:
            asyncio.run(rounds_of_sessions(server.pid, port, 10, 1))  # warm-up: imports, first allocations
            if step == "rounds":
                sizes = asyncio.run(rounds_of_sessions(server.pid, port, n, rounds))
            elif step == "websockets":
                per.append(asyncio.run(idle_websockets(server.pid, port, n)))
            else:
                per.append(asyncio.run(in_flight_requests(server.pid, port, n)))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return sizes, per[0], per[1]


def report(n: int) -> list[str]:
    """The table's lines (Markdown)."""
    lines = [f"Memory through uvicorn (server RSS; {n} connections at once)",
             "| framework | per idle WebSocket | per in-flight request | RSS after rounds of sessions (first: warm-up) |",
             "|---|---:|---:|---|"]
    for index, name in enumerate(SERVERS):
        try:
            SERVERS[name]()  # optional frameworks: skipped when missing
        except ImportError as error:
            print(f"skipping {name}: {error}", file=sys.stderr)
            continue
        sizes, per_websocket, per_request = measure(name, 8800 + index, n)
        trail = " / ".join(f"{size / 2**20:.1f}" for size in sizes)
        lines.append(f"| {name} | {per_websocket / 1024:.1f} KiB | {per_request / 1024:.1f} KiB | {trail} MiB |")
    return lines

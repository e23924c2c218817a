"""Memory: what one idle WebSocket and one in-flight request hold, and whether many sessions leak.

Measured in process before and after opening N sessions or requests that stay
open (each waits on an event), after a garbage collection: the resident set size
(RSS, which moves in pages and reuses memory freed earlier in the run) and the
bytes Python objects hold (tracemalloc, exact). The leak check runs rounds of 1,000 WebSocket sessions
(connect, echo, disconnect) and reads RSS after each: after the first round
(warm-up: caches, the allocator's arenas) it should stay flat.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.apps import ORIGIN
from bench.ws import WS_APPS, ws_scope
from typedasgi.applications import TypedASGI
from typedasgi.exceptions import ClientDisconnect
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def _settled_rss() -> int:
    gc.collect()
    return rss()


def _held() -> tuple[int, int]:
    """(RSS, bytes Python objects hold per tracemalloc): RSS moves in pages and reuses freed memory."""
    gc.collect()
    return rss(), tracemalloc.get_traced_memory()[0]


def _per(before: tuple[int, int], after: tuple[int, int], n: int) -> tuple[float, float]:
    return (after[0] - before[0]) / n, (after[1] - before[1]) / n


async def _open_sessions(app: Any, n: int, release: asyncio.Event) -> list[asyncio.Task[None]]:
    """``n`` accepted WebSocket sessions, each waiting (inside the app) for its next message."""
    accepted = 0
    all_accepted = asyncio.Event()

    def session() -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        connected = False

        async def receive() -> Any:
            nonlocal connected
            if not connected:
                connected = True
                return {"type": "websocket.connect"}
            await release.wait()
            return {"type": "websocket.disconnect", "code": 1000}

        async def send(message: Any) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept":
                accepted += 1
                if accepted == n:
                    all_accepted.set()

        return receive, send

    tasks = []
    for _ in range(n):
        receive, send = session()
        tasks.append(asyncio.create_task(app(ws_scope(), receive, send)))
    await asyncio.wait_for(all_accepted.wait(), timeout=60)
    return tasks


async def idle_websocket_bytes(app: Any, n: int = 1000) -> tuple[float, float]:
    release = asyncio.Event()
    warm = await _open_sessions(app, 10, release)  # first use: imports, caches
    tracemalloc.start()
    before = _held()
    tasks = await _open_sessions(app, n, release)
    after = _held()
    tracemalloc.stop()
    release.set()
    await asyncio.gather(*warm, *tasks)
    return _per(before, after, n)


def _request_scope(path: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"bench"), (b"origin", ORIGIN.encode())],
        "client": ("127.0.0.1", 5000), "server": ("bench", 80), "extensions": {}, "state": {},
    }


async def in_flight_request_bytes(
    app: Any, path: str, entered: asyncio.Semaphore, n: int = 1000
) -> tuple[float, float]:
    """RSS per request held inside the endpoint (``path`` waits until ``entered`` is released by the caller)."""
    release = asyncio.Event()

    async def receive() -> Any:
        await release.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        pass

    async def one() -> None:
        await app(_request_scope(path), receive, send)

    tracemalloc.start()
    before = _held()
    tasks = [asyncio.create_task(one()) for _ in range(n)]
    for _ in range(n):
        await asyncio.wait_for(entered.acquire(), timeout=60)
    after = _held()
    tracemalloc.stop()
    release.set()
    await asyncio.gather(*tasks)
    return _per(before, after, n)


async def leak_rounds(app: Any, rounds: int = 5, n: int = 1000, messages: int = 10) -> list[int]:
    """RSS (bytes) after each round of ``n`` concurrent sessions that echo ``messages`` and disconnect."""

    async def session() -> None:
        incoming = iter(
            [{"type": "websocket.connect"}]
            + [{"type": "websocket.receive", "text": "hello"}] * messages
            + [{"type": "websocket.disconnect", "code": 1000}]
        )

        async def receive() -> Any:
            await asyncio.sleep(0)  # interleave the sessions, as a server would
            return next(incoming)

        async def send(message: Any) -> None:
            pass

        await app(ws_scope(), receive, send)

    sizes = []
    for _ in range(rounds):
        await asyncio.gather(*(session() for _ in range(n)))
        sizes.append(_settled_rss())
    return sizes


def waiting_apps(entered: asyncio.Semaphore) -> dict[str, Any]:
    """One endpoint per framework that signals ``entered``, then waits until the client goes."""

    async def wait(request: Request) -> Response:
        entered.release()
        try:
            await request.body()  # waits: the body never comes, the client goes
        except ClientDisconnect:
            pass
        return PlainTextResponse("gone")

    apps: dict[str, Any] = {"typedasgi": TypedASGI(routes=[Route("/wait", wait)], autoload_plugins=False)}
    try:
        Starlette = importlib.import_module("starlette.applications").Starlette
        SRoute = importlib.import_module("starlette.routing").Route
        SText = importlib.import_module("starlette.responses").PlainTextResponse
    except ImportError:
        return apps

    async def s_wait(request: Any) -> Any:
        entered.release()
        try:
            await request.body()
        except Exception:  # Starlette's ClientDisconnect: the client went, as expected
            pass
        return SText("gone")

    apps["starlette"] = Starlette(routes=[SRoute("/wait", s_wait)])
    return apps


def _kib(pair: tuple[float, float]) -> str:
    return f"{pair[0] / 1024:.1f} / {pair[1] / 1024:.1f} KiB"


async def report(frameworks: list[str]) -> list[str]:
    """The memory table's rows (Markdown)."""
    entered = asyncio.Semaphore(0)
    lines = ["| framework | per idle WebSocket: RSS / traced | per in-flight request: RSS / traced "
             "| RSS after rounds of 1,000 WebSockets |",
             "|---|---:|---:|---|"]
    waiting = waiting_apps(entered)
    for name in frameworks:
        if name not in WS_APPS:
            continue
        try:
            app = WS_APPS[name]()
        except ImportError:
            continue
        per_ws = _kib(await idle_websocket_bytes(app))
        per_request = _kib(await in_flight_request_bytes(waiting[name], "/wait", entered)) if name in waiting else "-"
        rounds = await leak_rounds(WS_APPS[name]())
        trail = " / ".join(f"{size / 2**20:.1f}" for size in rounds)
        lines.append(f"| {name} | {per_ws} | {per_request} | {trail} MiB |")
    return lines

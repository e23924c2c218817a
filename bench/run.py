"""In-process benchmark: requests per CPU-second, typedasgi beside raw ASGI and Starlette.

    python3 dev.py bench            # or: .venv/bin/python -m bench.run --rounds 5
    python3 dev.py bench --ws-server 1000       # the WebSocket echo through uvicorn instead
    python3 dev.py bench --server-memory 1000   # memory through uvicorn instead (bench/server_memory.py)

Every framework answers the same requests in the same process, round after
round in rotating order; the table shows the median over rounds and the median of
the per-round ratios to raw ASGI. Answers are checked before timing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import memory, server_memory, ws
from bench.apps import ORIGIN, fastapi_app, litestar_app, order_body, raw_app, starlette_app, typedasgi_app
from bench.ws import WS_APPS

ENDPOINTS: dict[str, tuple[str, str, bytes]] = {
    "plaintext": ("GET", "/", b""),
    "json": ("GET", "/json", b""),
    "params": ("GET", "/users/123", b""),
    "routing": ("GET", "/r49/hello", b""),
    "routing-500": ("GET", "/r499/hello", b""),
    "echo": ("POST", "/echo", order_body()),
    "plain-params": ("GET", "/plain/users/123?limit=25", b""),
    "typed-params": ("GET", "/typed/users/123?limit=25", b""),
    "typed-echo": ("POST", "/typed/echo", order_body()),
}


TWINS = [("typed-params", "plain-params"), ("typed-echo", "echo")]
"""Typed endpoints and the plain endpoints that do the same work by hand."""


def machine_line() -> str:
    """The date and the machine, the table's first line (README pastes it as it is)."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.partition(":")[2].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", load average {:.1f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else ""
    return (f"{datetime.date.today().isoformat()}, Python {platform.python_version()}, {os.cpu_count()} vCPUs "
            f"({model}){load}; command: python3 dev.py bench {' '.join(sys.argv[1:])}")


def make_scope(method: str, target: str, body: bytes) -> dict[str, Any]:
    path, _, query = target.partition("?")
    headers = [(b"host", b"bench"), (b"user-agent", b"bench"), (b"origin", ORIGIN.encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000), "server": ("bench", 80),
        "extensions": {}, "state": {},
    }


async def one_request(app: Any, template: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = dict(template)
    scope["state"] = {}
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def timed_batch(app: Any, template: dict[str, Any], body: bytes, n: int) -> float:
    async def receive_factory() -> Any:
        return None

    delivered_body = {"type": "http.request", "body": body, "more_body": False}
    disconnect = {"type": "http.disconnect"}

    async def noop_send(message: Any) -> None:
        pass

    start = time.process_time()
    for _ in range(n):
        state = [False]

        async def receive(state: list[bool] = state) -> Any:
            if state[0]:
                return disconnect
            state[0] = True
            return delivered_body

        scope = template.copy()
        scope["state"] = {}
        await app(scope, receive, noop_send)
    return time.process_time() - start


def ratio_to_raw(results: dict[tuple[str, str], list[float]], name: str, endpoint: str) -> float:
    """The median of the per-round ratios to raw ASGI (1.0 without a raw row).

    Within a round the frameworks answer the endpoint back to back, so a round's ratio compares
    figures taken a fraction of a second apart: a slow stretch of a shared machine moves both,
    where a ratio of medians over the whole run would compare figures taken seconds apart.
    """
    raw = results.get(("raw", endpoint))
    if raw is None:
        return 1.0
    return statistics.median(value / floor for value, floor in zip(results[(name, endpoint)], raw))


def build_apps(names: list[str]) -> dict[str, Any]:
    factories: dict[str, Callable[[], Any]] = {
        "raw": lambda: raw_app, "typedasgi": typedasgi_app, "starlette": starlette_app,
        "litestar": litestar_app, "fastapi": fastapi_app,
        "typedasgi+stack": lambda: typedasgi_app(stack=True), "starlette+stack": lambda: starlette_app(stack=True),
    }
    apps = {}
    for name in names:
        try:
            apps[name] = factories[name]()
        except ImportError as error:
            print(f"skipping {name}: {error}", file=sys.stderr)
    return apps


async def main_async(args: argparse.Namespace) -> int:
    apps = build_apps(args.frameworks.split(","))
    endpoints = args.endpoints.split(",")
    for name, app in apps.items():  # check every answer first
        for endpoint in endpoints:
            method, path, body = ENDPOINTS[endpoint]
            status, content = await one_request(app, make_scope(method, path, body), body)
            if status != 200:
                raise SystemExit(f"{name} {endpoint}: status {status} {content[:200]!r}")
    results: dict[tuple[str, str], list[float]] = {}
    names = list(apps)
    for round_ in range(args.rounds):
        order = names[round_ % len(names):] + names[: round_ % len(names)]
        for endpoint in endpoints:
            method, path, body = ENDPOINTS[endpoint]
            template = make_scope(method, path, body)
            for name in order:
                await timed_batch(apps[name], template, body, args.requests // 10)  # warm-up
                elapsed = await timed_batch(apps[name], template, body, args.requests)
                results.setdefault((name, endpoint), []).append(args.requests / elapsed)
    print(machine_line())
    print(f"HTTP in process: requests per CPU-second, median of {args.rounds} rounds x {args.requests} requests "
          "(median per-round ratio to raw); +stack: behind CORS, GZip and one pure ASGI middleware")
    print("| framework | " + " | ".join(endpoints) + " |")
    print("|" + "---|" * (len(endpoints) + 1))
    for name in names:
        cells = []
        for endpoint in endpoints:
            value = statistics.median(results[(name, endpoint)])
            cells.append(f"{value / 1000:.0f}k ({ratio_to_raw(results, name, endpoint):.2f})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("noise (min / median / max over rounds):")
    for (name, endpoint), values in results.items():
        print(f"  {name:16s} {endpoint:12s} {min(values) / 1000:7.0f}k / {statistics.median(values) / 1000:7.0f}k"
              f" / {max(values) / 1000:7.0f}k")
    twins = [(typed, plain) for typed, plain in TWINS if ("typedasgi", typed) in results and ("typedasgi", plain) in results]
    if twins:
        print("typed handlers beside their plain twins (typedasgi, same run; 1.00 = as fast): " + ", ".join(
            f"{typed} / {plain} {statistics.median(results[('typedasgi', typed)]) / statistics.median(results[('typedasgi', plain)]):.2f}"
            for typed, plain in twins))
    if args.ws_messages:
        await websocket_table(args)
    if args.memory:
        print()
        print("Memory (in process, RSS deltas over 1,000 open sessions or requests)")
        print("\n".join(await memory.report(list(WS_APPS))))
    return 0


async def websocket_table(args: argparse.Namespace) -> None:
    """WebSocket text echo on one connection, in process: messages per CPU-second and ratio to raw."""
    apps = {}
    for name, factory in WS_APPS.items():
        try:
            apps[name] = factory()
        except ImportError as error:
            print(f"skipping {name}: {error}", file=sys.stderr)
    rates: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(args.rounds):
        for name, app in apps.items():
            rates[name].append(await ws.echo_rate(app, args.ws_messages))
    raw = statistics.median(rates["raw"])
    print()
    print(f"WebSocket echo in process (receive_text/send_text), messages per CPU-second, median of {args.rounds}"
          f" rounds x {args.ws_messages} messages (ratio to raw)")
    print("| framework | messages/s | noise (min / max) |")
    print("|---|---:|---|")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"| {name} | {median / 1000:.0f}k ({median / raw:.2f}) | {min(values) / 1000:.0f}k / {max(values) / 1000:.0f}k |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "-f", "--frameworks", default="raw,typedasgi,starlette,typedasgi+stack,starlette+stack,litestar,fastapi"
    )
    parser.add_argument("-e", "--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("-r", "--rounds", type=int, default=5)
    parser.add_argument("-n", "--requests", type=int, default=20000)
    parser.add_argument("--ws-messages", type=int, default=50000, help="WebSocket echo table (0: skip)")
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True, help="the memory table")
    parser.add_argument("--ws-server", metavar="CONNECTIONS", type=int, default=0,
                        help="only the WebSocket echo through uvicorn with this many connections")
    parser.add_argument("--server-memory", metavar="CONNECTIONS", type=int, default=0,
                        help="only the memory table through uvicorn with this many connections at once")
    args = parser.parse_args()
    if args.server_memory:
        print(machine_line())
        print("\n".join(server_memory.report(args.server_memory)))
        return 0
    if args.ws_server:
        return websocket_server_table(args)
    return asyncio.run(main_async(args))


def websocket_server_table(args: argparse.Namespace) -> int:
    """The echo through uvicorn (uvloop, httptools, websockets), ``--ws-server`` connections at once."""
    messages = 200
    print(machine_line())
    print(f"WebSocket echo through uvicorn: {args.ws_server} connections x {messages} messages each")
    print("| framework | messages/s | per server CPU-second |")
    print("|---|---:|---:|")
    for index, name in enumerate(WS_APPS):
        try:
            rate, per_cpu = ws.uvicorn_rate(name, 8700 + index, args.ws_server, messages)
        except ImportError as error:
            print(f"skipping {name}: {error}", file=sys.stderr)
            continue
        print(f"| {name} | {rate / 1000:.1f}k | {per_cpu / 1000:.1f}k |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

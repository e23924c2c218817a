"""WebSocket fan-out through Redis: examples/chat.py under ``typedasgi run --workers N``, run by hand.

    .venv/bin/python -m bench.fanout                       # 1 and 2 workers, 200 clients
    .venv/bin/python -m bench.fanout --workers 2 --clients 500 --messages 200

Starts a redis-server and the chat on free 127.0.0.1 ports, connects
``--clients`` WebSocket clients (spread over the workers by the kernel), then
one of them publishes:

* a burst of ``--messages`` messages as fast as it can: *delivered/s* is every
  client's every message over the time from the first send to the last receipt;
* ``--messages`` messages paced at ``--rate`` per second: *p50/p99* latency,
  from the send to each client's receipt.

The clients run in this one process, so on a small machine they compete with
the server for CPU: the figures are a floor, useful to compare runs on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from examples.chat import BURST, Frame
from typedasgi_broadcast.testing import free_port, running_redis

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def chat_server(redis_url: str, workers: int) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "typedasgi", "run", "examples.chat:app", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "info"]
    env = dict(os.environ, CHAT_BROADCAST_URL=redis_url, TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD="1")
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while _started(log) < workers:  # every worker's lifespan start-up is done
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the chat server did not start")
                time.sleep(0.05)
            yield f"ws://127.0.0.1:{port}/chat"
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=15)


def _started(log: IO[bytes]) -> int:
    log.seek(0)
    return log.read().count(b"Application startup complete")


async def join(url: str) -> tuple[ClientConnection, int]:
    ws = await connect(url, max_queue=None)
    welcome = msgspec.json.decode(await ws.recv(), type=Frame)
    return ws, welcome.worker


async def collect(ws: ClientConnection, count: int, received: list[tuple[int, int]]) -> None:
    """(sequence number, receipt time in ns) for ``count`` messages."""
    for _ in range(count):
        frame = msgspec.json.decode(await ws.recv(), type=Frame)
        received.append((int(frame.text.split()[0]), time.perf_counter_ns()))


async def publish(ws: ClientConnection, count: int, rate: float, sent: dict[int, int]) -> None:
    start = time.perf_counter()
    for seq in range(count):
        if rate:
            await asyncio.sleep(max(0.0, start + seq / rate - time.perf_counter()))
        sent[seq] = time.perf_counter_ns()
        await ws.send(f"{seq} bench")


async def round_trip(clients: Sequence[ClientConnection], count: int, rate: float) -> tuple[float, list[float]]:
    """Messages delivered per second and every delivery's latency in ms."""
    sent: dict[int, int] = {}
    received: list[list[tuple[int, int]]] = [[] for _ in clients]
    first = time.perf_counter_ns()
    await asyncio.gather(
        publish(clients[0], count, rate, sent), *(collect(ws, count, got) for ws, got in zip(clients, received))
    )
    last = max(at for got in received for _, at in got)
    latencies = [(at - sent[seq]) / 1e6 for got in received for seq, at in got]
    return len(latencies) / ((last - first) / 1e9), latencies


async def bench(url: str, clients_wanted: int, count: int, rate: float) -> dict[str, object]:
    clients: list[tuple[ClientConnection, int]] = []
    for start in range(0, clients_wanted, 50):
        clients += await asyncio.gather(*(join(url) for _ in range(start, min(start + 50, clients_wanted))))
    sockets = [ws for ws, _ in clients]
    try:
        per_worker = collections.Counter(worker for _, worker in clients)
        delivered_per_s, _ = await round_trip(sockets, count, 0.0)
        _, latencies = await round_trip(sockets, count, rate)
        quantiles = statistics.quantiles(latencies, n=100)
        return {
            "clients per worker": sorted(per_worker.values()),
            "burst delivered/s": round(delivered_per_s),
            f"p50 ms at {rate:g} msg/s": round(quantiles[49], 2),
            f"p99 ms at {rate:g} msg/s": round(quantiles[98], 2),
        }
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--messages", type=int, default=BURST, help=f"at most {BURST}: the chat's burst per client")
    parser.add_argument("--rate", type=float, default=20.0, help="paced messages per second for the latency run")
    args = parser.parse_args(argv)
    if not 0 < args.messages <= BURST:  # past it the chat answers the sender with error frames: the burst never ends
        parser.error(f"--messages must be 1-{BURST}: examples/chat.py lets one client send {BURST} at once")
    with running_redis() as redis:
        for workers in args.workers:
            with chat_server(redis.url, workers) as url:
                result = asyncio.run(bench(url, args.clients, args.messages, args.rate))
            print(f"workers={workers} clients={args.clients} messages={args.messages}: {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

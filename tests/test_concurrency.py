from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Iterator

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.concurrency import (
    DEFAULT_THREADPOOL_SIZE,
    get_threadpool_size,
    iterate_in_threadpool,
    run_in_threadpool,
    set_threadpool_size,
)
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse
from typedasgi.routing import Route
from typedasgi.testclient import TestClient

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


@pytest.fixture
def restore_pool_size() -> Iterator[None]:
    yield
    set_threadpool_size(DEFAULT_THREADPOOL_SIZE)


def test_default_size_is_40() -> None:
    assert DEFAULT_THREADPOOL_SIZE == 40
    assert get_threadpool_size() == 40


def test_runs_in_a_worker_thread_with_args_and_kwargs() -> None:
    def work(a: int, b: int, *, scale: int) -> tuple[int, str]:
        return (a + b) * scale, threading.current_thread().name

    result, thread_name = asyncio.run(run_in_threadpool(work, 1, 2, scale=10))
    assert result == 30
    assert thread_name != threading.current_thread().name
    assert thread_name.startswith("typedasgi-worker")


def test_exceptions_propagate() -> None:
    def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        asyncio.run(run_in_threadpool(fail))


def test_contextvars_are_copied_into_the_worker() -> None:
    async def main() -> tuple[str, str]:
        request_id.set("abc")

        def read_and_write() -> str:
            seen = request_id.get()
            request_id.set("changed in thread")  # must not leak back to the caller
            return seen

        seen = await run_in_threadpool(read_and_write)
        return seen, request_id.get()

    assert asyncio.run(main()) == ("abc", "abc")


@pytest.mark.usefixtures("restore_pool_size")
def test_pool_is_bounded_and_resizable() -> None:
    set_threadpool_size(2)
    assert get_threadpool_size() == 2
    lock = threading.Lock()
    running = 0
    peak = 0

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.03)
        with lock:
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(run_in_threadpool(work) for _ in range(6)))

    asyncio.run(main())
    assert peak == 2


@pytest.mark.parametrize("size", [0, -3])
def test_pool_size_must_be_positive(size: int) -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        set_threadpool_size(size)


def test_iterate_in_threadpool_yields_everything_from_worker_threads() -> None:
    caller = threading.current_thread().name
    threads: list[str] = []

    def numbers() -> Iterator[int]:
        for n in range(5):
            threads.append(threading.current_thread().name)
            yield n

    async def main() -> list[int]:
        return [n async for n in iterate_in_threadpool(numbers())]

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    assert threads and caller not in threads


def test_iterate_in_threadpool_accepts_plain_iterables_and_stops_cleanly() -> None:
    async def main() -> list[str]:
        return [item async for item in iterate_in_threadpool(["a", "b"])]

    assert asyncio.run(main()) == ["a", "b"]


def test_iterate_in_threadpool_propagates_errors() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    async def main() -> list[int]:
        return [n async for n in iterate_in_threadpool(broken())]

    with pytest.raises(OSError, match="disk gone"):
        asyncio.run(main())


def test_iterate_in_threadpool_closes_the_iterator_when_stopped_early() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    async def main() -> tuple[list[int], bool]:
        seen: list[int] = []
        source = endless()  # kept referenced: only an explicit close can run its finally
        iterator = iterate_in_threadpool(source)
        async for n in iterator:
            seen.append(n)
            if n == 2:
                break
        await iterator.aclose()
        return seen, closed.is_set()

    assert asyncio.run(main()) == ([0, 1, 2], True)


def test_a_stop_iteration_in_the_pool_is_a_runtime_error_not_a_hang() -> None:
    # asyncio cannot put a StopIteration into a Future: the awaiting task was never woken.
    def first(items: list[int]) -> int:
        return next(iter(items))

    async def main() -> None:
        with pytest.raises(RuntimeError, match="StopIteration.*first") as info:
            await asyncio.wait_for(run_in_threadpool(first, []), timeout=5)
        assert isinstance(info.value.__cause__, StopIteration)
        assert await run_in_threadpool(first, [7]) == 7

    asyncio.run(main())


def test_a_sync_endpoint_raising_stop_iteration_gets_a_500() -> None:
    def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(next(iter([]))))

    with TestClient(TypedASGI(routes=[Route("/", endpoint)]), raise_server_exceptions=False, timeout=10) as client:
        assert client.get("/").status_code == 500


def test_an_iterator_stopped_during_a_next_is_closed_before_the_consumer_goes_on() -> None:
    # A running generator cannot be closed: close() was skipped and its finally waited for garbage
    # collection, after the response's background task (which may remove what the generator still uses).
    events: list[str] = []
    started = threading.Event()

    def chunks() -> Iterator[bytes]:
        try:
            yield b"first"
            started.set()
            time.sleep(0.3)  # the next chunk takes a while
            yield b"second"
        finally:
            events.append("generator closed")

    async def main() -> None:
        async def consume() -> None:
            async for _ in iterate_in_threadpool(chunks()):
                pass

        task = asyncio.create_task(consume())
        await asyncio.get_running_loop().run_in_executor(None, started.wait)
        task.cancel()  # the client left while the second chunk was being made
        with pytest.raises(asyncio.CancelledError):
            await task
        events.append("consumer went on")

    asyncio.run(main())
    assert events == ["generator closed", "consumer went on"]

"""Run blocking code off the event loop, in one bounded thread pool.

Sync endpoints, sync background tasks and sync iterators all share this pool,
so the number of threads a process can start is capped (40 by default, like
the pools of other ASGI frameworks) instead of growing with the load. The pool
is created on first use, not at import, so importing typedasgi starts no
threads. Context variables are copied into the worker, so code in the thread
sees the same request-scoped values (tracing ids, ...) as the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import functools
import inspect
import threading
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from typing_extensions import ParamSpec

from typedasgi.exceptions import TypedASGIDeprecationWarning

__all__ = [
    "DEFAULT_THREADPOOL_SIZE",
    "iterate_in_threadpool",
    "is_async_callable",
    "run_in_threadpool",
    "run_until_first_complete",
    "set_threadpool_size",
    "submit_to_threadpool",
    "unwrap_partial",
]

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_THREADPOOL_SIZE = 40
"""Threads in the shared pool unless :func:`set_threadpool_size` says otherwise."""

_size = DEFAULT_THREADPOOL_SIZE
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def set_threadpool_size(size: int) -> None:
    """Set how many threads the shared pool may use.

    Work already submitted finishes on the old pool; new work goes to a pool of
    the new size, created on its first use.
    """
    global _executor, _size
    if size < 1:
        raise ValueError(f"The thread pool needs at least one thread, got {size}")
    with _lock:
        old, _executor, _size = _executor, None, size
    if old is not None:
        old.shutdown(wait=False)


def get_threadpool_size() -> int:
    """How many threads the shared pool may use."""
    return _size


def _get_executor() -> ThreadPoolExecutor:
    executor = _executor
    if executor is not None:
        return executor
    return _create_executor()


def _create_executor() -> ThreadPoolExecutor:
    global _executor
    with _lock:  # two threads (two event loops) may ask at once: create only one pool
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=_size, thread_name_prefix="typedasgi-worker")
        return _executor


def unwrap_partial(func: object) -> object:
    """The callable below any ``functools.partial`` layers: what decides how ``func`` is called and named."""
    while isinstance(func, functools.partial):
        func = func.func
    return func


def is_async_callable(func: object) -> bool:
    """Whether calling ``func`` gives a coroutine: an ``async def`` function, or an object with ``async def __call__``."""
    target = unwrap_partial(func)
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(getattr(target, "__call__", None))


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func(*args, **kwargs)`` in the shared pool and await its result.

    Cancelling the awaiting task does not stop the thread (Python cannot); its
    result is dropped.
    """
    return await asyncio.get_running_loop().run_in_executor(_get_executor(), _in_context(func, *args, **kwargs))


def _in_context(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Callable[[], T]:
    """``func(*args, **kwargs)`` to run in a worker, in a copy of this context, a StopIteration made a RuntimeError.

    asyncio refuses to put a StopIteration into a Future (it would end a generator), so the
    awaiting task was never woken: a sync endpoint calling ``next()`` on an empty iterator hung.
    """
    context = contextvars.copy_context()
    call = functools.partial(func, *args, **kwargs)

    def run() -> T:
        try:
            return context.run(call)
        except StopIteration as exc:
            raise RuntimeError(f"{exc!r} raised in the thread pool, by {getattr(func, '__qualname__', func)!r}") from exc

    return run


def submit_to_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
    """Start ``func(*args, **kwargs)`` in the shared pool; await it with ``asyncio.wrap_future``.

    For a caller that must know when the thread is done even after it stopped
    waiting (it was cancelled): a file is closed only once no read of it runs.
    """
    return _get_executor().submit(_in_context(func, *args, **kwargs))


class _End(enum.Enum):
    END = enum.auto()


def _next(iterator: Iterator[T]) -> T | Literal[_End.END]:
    # StopIteration cannot travel through a Future (asyncio turns it into a
    # TypeError), so the end of the iterator is reported as a value.
    return next(iterator, _End.END)


CLOSE_WAIT_SECONDS = 10.0
"""How long an iterator stopped part-way may take to finish the ``next()`` running in a thread before it is closed."""


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncGenerator[T, None]:
    """Iterate a blocking iterable from async code, one ``next()`` per pool call.

    If the consumer stops early, the iterator is closed (in the pool) so a
    generator's ``finally`` blocks release their resources now, not at garbage
    collection - also when it stopped during a ``next()``: that one is let finish
    first (for up to ``CLOSE_WAIT_SECONDS``), as a running generator cannot be closed.
    """
    iterator = iter(iterable)
    finished = False
    running: Future[T | Literal[_End.END]] | None = None
    try:
        while True:
            running = submit_to_threadpool(_next, iterator)
            item = await asyncio.wrap_future(running)
            running = None
            if item is _End.END:
                finished = True
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if not finished and callable(close):
            if running is not None and not running.done():  # stopped mid-next(): the generator runs in a thread
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(running)), CLOSE_WAIT_SECONDS)
            try:
                await run_in_threadpool(close)
            except ValueError:  # still running in its thread, past the wait: closed when it is collected
                pass


async def run_until_first_complete(*calls: tuple[Callable[..., Awaitable[object]], Mapping[str, Any]]) -> None:
    """Deprecated: run each ``func(**kwargs)`` at once; the first to finish (or fail) cancels the others.

    Kept so Starlette code runs unchanged; an ``asyncio.TaskGroup`` says the same
    thing more plainly. The others are cancelled synchronously by the one that
    finished, so none of them runs another step after it.
    """
    warnings.warn(
        "run_until_first_complete is deprecated and will be removed in a future version.",
        TypedASGIDeprecationWarning,
        stacklevel=2,
    )
    tasks: list[asyncio.Task[None]] = []

    async def run_then_cancel_others(func: Callable[..., Awaitable[object]], kwargs: Mapping[str, Any]) -> None:
        try:
            await func(**kwargs)
        finally:
            for task in tasks:
                if task is not asyncio.current_task():
                    task.cancel()

    tasks.extend(asyncio.ensure_future(run_then_cancel_others(func, kwargs)) for func, kwargs in calls)
    if not tasks:
        return
    try:
        await asyncio.wait(tasks)
    finally:
        for task in tasks:
            task.cancel()
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error

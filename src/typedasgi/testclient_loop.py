"""The synchronous TestClient's event loop: one asyncio loop in a daemon thread, started on first use."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Literal, TypeVar

from typedasgi.testclient_app import DEFAULT_TIMEOUT, app_failure

__all__ = ["Backend", "LoopFactory", "LoopProvider", "LoopThread", "loop_factory"]

T = TypeVar("T")

Backend = Literal["asyncio", "trio"]
"""Starlette's ``backend`` choice; typedasgi is asyncio-native, so only ``"asyncio"`` runs."""
LoopFactory = Callable[[], asyncio.AbstractEventLoop]

try:
    from uvloop import new_event_loop as _new_uvloop

    _uvloop_factory: LoopFactory | None = _new_uvloop
except ImportError:  # pragma: no cover - uvloop comes with the standard extra
    _uvloop_factory = None


def loop_factory(backend: str, options: Mapping[str, Any] | None) -> LoopFactory:
    """The loop maker for Starlette-style ``backend``/``backend_options`` (anyio's asyncio option names).

    Checked when the client is made, so a wrong option fails the test at once, not at the first request.
    """
    if backend != "asyncio":
        raise ValueError(f"typedasgi's TestClient runs on asyncio only, not {backend!r}")
    options = dict(options or {})
    debug = bool(options.pop("debug", False))
    factory: LoopFactory = options.pop("loop_factory", None) or asyncio.new_event_loop
    if options.pop("use_uvloop", False):
        if _uvloop_factory is None:
            raise ImportError("backend_options={'use_uvloop': True} needs uvloop: pip install uvloop")
        factory = _uvloop_factory
    if options:
        raise TypeError(f"Unknown asyncio backend_options: {', '.join(sorted(options))}")

    def make() -> asyncio.AbstractEventLoop:
        loop = factory()
        loop.set_debug(debug)
        return loop

    return make


class _Raised:
    """An app's BaseException (SystemExit, its own CancelledError) on its way out of the client's loop."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


async def _carried(coroutine: Coroutine[Any, Any, T]) -> T | _Raised:
    """``coroutine``'s result; an app's BaseException comes back as a value, to be raised in the test's thread.

    Raised inside the loop, a SystemExit would stop the loop's thread (asyncio lets it through), and a
    CancelledError would read as a cancelled call.
    """
    try:
        return await coroutine
    except Exception:
        raise
    except BaseException as error:
        if not app_failure(error):
            raise
        return _Raised(error)


class LoopThread:
    """One asyncio loop in a daemon thread; the test's thread submits coroutines to it."""

    def __init__(self, new_loop: LoopFactory = asyncio.new_event_loop) -> None:
        self.loop: asyncio.AbstractEventLoop = new_loop()
        self.thread: threading.Thread = threading.Thread(target=self._serve, name="typedasgi-testclient", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.wait(tasks, timeout=DEFAULT_TIMEOUT))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coroutine.close()
            raise RuntimeError("A TestClient cannot be called from inside the app it is testing")
        future = asyncio.run_coroutine_threadsafe(_carried(coroutine), self.loop)
        try:
            outcome = future.result()
        except BaseException:
            future.cancel()  # a KeyboardInterrupt in the test stops the app too
            raise
        if isinstance(outcome, _Raised):
            raise outcome.error  # here, in the test's thread
        return outcome

    @staticmethod
    def stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        """Stop the loop and wait for its thread (static: a finalizer must not hold the client)."""
        if loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # closed meanwhile
            return
        if threading.current_thread() is not thread:
            thread.join(DEFAULT_TIMEOUT + 5)


class LoopProvider:
    """Starts the loop thread on first use; stops it on demand or when its owner is collected."""

    def __init__(self, new_loop: LoopFactory = asyncio.new_event_loop) -> None:
        self._new_loop = new_loop
        self._thread: LoopThread | None = None
        self._finalizer: weakref.finalize[[asyncio.AbstractEventLoop, threading.Thread], LoopProvider] | None = None
        self._lock = threading.Lock()

    def get(self) -> LoopThread:
        with self._lock:
            if self._thread is None:
                thread = LoopThread(self._new_loop)
                self._thread = thread
                self._finalizer = weakref.finalize(self, LoopThread.stop, thread.loop, thread.thread)
            return self._thread

    def stop(self) -> None:
        with self._lock:
            finalizer, self._finalizer, self._thread = self._finalizer, None, None
        if finalizer is not None:
            finalizer()

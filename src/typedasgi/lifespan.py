"""Running lifespans: the router's own, and those of the apps mounted below it.

Starlette ignores the lifespan of a mounted app, which surprises people who
mount a sub-application that opens a database pool. typedasgi drives it:
after the parent's own start-up code, every mounted app (``Mount`` and
``Host``) gets the ASGI lifespan protocol in mount order, sharing the parent's
``state`` dict; at shut-down they stop in reverse order, before the parent's
own shut-down code. An app that does not speak the lifespan protocol (it
raises or returns before answering start-up) is skipped, as uvicorn does.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import traceback
import warnings
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any, TypeVar, cast

from typedasgi.concurrency import run_in_threadpool
from typedasgi.exceptions import TypedASGIDeprecationWarning
from typedasgi.types import ASGIApp, LifespanScope, LifespanSendEvent, ReceiveEvent, SendEvent, framework_keys

__all__ = ["LifespanError", "MountedLifespans", "failure_message", "lifespan_context"]

logger: logging.Logger = logging.getLogger("typedasgi.lifespan")

_LifespanT = TypeVar("_LifespanT", bound="Callable[..., object] | None")


def _warn_deprecated(message: str) -> None:
    """Warn at the line that passed the lifespan, filterable as Starlette's warning is (module ``typedasgi.routing``).

    Starlette attributes it to ``starlette.routing``, so filters written for it name that module; after the
    rename they name ``typedasgi.routing`` and must keep matching. The place shown is still the caller's.
    """
    frame = inspect.currentframe()
    for _ in range(3):  # this function, lifespan_context, the app's or router's __init__: then whoever passed it
        frame = frame.f_back if frame is not None else None
    if frame is None:  # pragma: no cover - only on interpreters without frame introspection
        warnings.warn(message, TypedASGIDeprecationWarning, stacklevel=4)
        return
    warnings.warn_explicit(
        message,
        TypedASGIDeprecationWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module="typedasgi.routing",
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
        module_globals=frame.f_globals,
    )


def lifespan_context(lifespan: _LifespanT) -> _LifespanT:
    """``lifespan`` as an async context manager factory; plain (async) generator functions still work, deprecated.

    Starlette once took generator functions and warns about them; so does typedasgi, with the same words
    (the types admit only the context manager factory: untyped callers may still pass a generator).
    """
    if inspect.isasyncgenfunction(lifespan):
        _warn_deprecated(
            "async generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead"
        )
        return cast("_LifespanT", contextlib.asynccontextmanager(lifespan))
    if inspect.isgeneratorfunction(lifespan):
        _warn_deprecated(
            "generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead"
        )
        sync_context = contextlib.contextmanager(lifespan)

        @contextlib.asynccontextmanager
        async def in_threads(app: Any) -> AsyncGenerator[Any]:  # blocking start-up code stays off the loop
            context = sync_context(app)
            value = await run_in_threadpool(context.__enter__)
            try:
                yield value
            except BaseException as exc:
                if not await run_in_threadpool(context.__exit__, type(exc), exc, exc.__traceback__):
                    raise
            else:
                await run_in_threadpool(context.__exit__, None, None, None)

        return cast("_LifespanT", in_threads)
    return lifespan


def failure_message(exc: BaseException) -> str:
    """The ``message`` of ``lifespan.startup.failed``/``shutdown.failed``: the whole traceback.

    The server prints the message and nothing more (uvicorn logs no traceback of an app
    that reported its failure), so the message is where the failing line must be.
    """
    return "".join(traceback.format_exception(exc)).rstrip("\n")


class LifespanError(RuntimeError):
    """A mounted app reported ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``."""


class _Driven:
    """One mounted app, driven through the lifespan protocol in a task of its own."""

    def __init__(self, app: ASGIApp, state: dict[str, Any], parent: object | None = None) -> None:
        self.app = app
        self.inbox: asyncio.Queue[ReceiveEvent] = asyncio.Queue()
        self.outbox: asyncio.Queue[LifespanSendEvent] = asyncio.Queue()
        scope: LifespanScope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}
        if parent is not None:
            framework_keys(scope)["app"] = parent  # as in a request's scope: the app it is mounted in
        self.task = asyncio.ensure_future(self.app(scope, self.inbox.get, self._send))

    async def _send(self, message: SendEvent) -> None:
        if message["type"].startswith("lifespan."):
            await self.outbox.put(message)  # type: ignore[arg-type]  # narrowed by the prefix

    async def _answer(self) -> LifespanSendEvent | None:
        """The app's next answer, or None when it ended without one (no lifespan support)."""
        answer = asyncio.ensure_future(self.outbox.get())
        await asyncio.wait({answer, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if answer.done():
            return answer.result()
        answer.cancel()
        if not self.task.cancelled() and self.task.exception() is not None:  # also marks it retrieved
            logger.debug("%r does not support the lifespan protocol: %r", self.app, self.task.exception())
        return None

    async def startup(self) -> bool:
        await self.inbox.put({"type": "lifespan.startup"})
        answer = await self._answer()
        if answer is None:
            return False
        if answer["type"] == "lifespan.startup.failed":
            await self._finish()
            raise LifespanError(f"Mounted app {self.app!r} failed to start: {answer.get('message', '')}")
        return True

    async def _finish(self) -> None:
        """Let the app's task end; its error was already reported through a message."""
        if not self.task.done():
            await asyncio.wait({self.task}, timeout=5)
        if self.task.done() and not self.task.cancelled():
            self.task.exception()  # retrieved: reported by the failed message
        else:
            self.task.cancel()

    async def shutdown(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        answer = await self._answer()
        await self._finish()
        if answer is not None and answer["type"] == "lifespan.shutdown.failed":
            raise LifespanError(f"Mounted app {self.app!r} failed to shut down: {answer.get('message', '')}")


class MountedLifespans:
    """Start the mounted apps' lifespans in order and stop them in reverse."""

    def __init__(self, apps: Iterable[ASGIApp], state: dict[str, Any], *, parent: object | None = None) -> None:
        self.apps: list[ASGIApp] = list(apps)
        self.state = state
        self.parent = parent
        self.running: list[_Driven] = []

    async def __aenter__(self) -> None:
        for app in self.apps:
            driven = _Driven(app, self.state, self.parent)
            try:
                supported = await driven.startup()
            except BaseException:
                await self.__aexit__()
                raise
            if supported:
                self.running.append(driven)

    async def __aexit__(self, *exc_info: object) -> None:
        errors: list[LifespanError] = []
        while self.running:
            try:
                await self.running.pop().shutdown()
            except LifespanError as error:
                errors.append(error)
        if errors:
            raise errors[0]

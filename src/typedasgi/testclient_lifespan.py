"""The test clients' side of the ASGI lifespan protocol: startup before the tests, shutdown after."""

from __future__ import annotations

import asyncio
from typing import cast

from typedasgi.testclient_app import AppConfig, app_failure, wait_within
from typedasgi.testing import ASGIContractError
from typedasgi.types import LifespanReceiveEvent, LifespanScope, LifespanSendEvent, SendEvent

__all__ = ["LifespanRunner"]

class LifespanRunner:
    """Drives the app's lifespan protocol in the current loop: startup before the tests, shutdown after."""

    def __init__(self, config: AppConfig) -> None:
        self._config = config
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._to_app: asyncio.Queue[LifespanReceiveEvent] | None = None
        self._from_app: asyncio.Queue[LifespanSendEvent | None] | None = None  # None: the app returned

    async def _run(self, scope: LifespanScope, to_app: asyncio.Queue[LifespanReceiveEvent]) -> None:
        from_app = self._from_app
        assert from_app is not None

        async def receive() -> LifespanReceiveEvent:
            return await to_app.get()

        async def send(message: SendEvent) -> None:
            if not message["type"].startswith("lifespan."):
                raise RuntimeError(f"The app sent {message['type']!r} during the lifespan")
            from_app.put_nowait(cast(LifespanSendEvent, message))

        try:
            await self._config.app(scope, receive, send)
        except BaseException as error:
            if not app_failure(error):
                raise
            self._error = error
        finally:
            from_app.put_nowait(None)

    async def _next(self, phase: str) -> LifespanSendEvent | None:
        assert self._from_app is not None
        return await wait_within(self._from_app.get(), self._config.timeout, f"Lifespan {phase}")

    async def _finish(self, task: asyncio.Task[None] | None) -> None:
        """Give the app's lifespan coroutine the timeout to return, then cancel it."""
        if task is None or task.done():
            return
        await asyncio.wait({task}, timeout=self._config.timeout)
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)

    def _failure(self, phase: str, message: str) -> BaseException:
        # The app's own exception, when it raised one, names the real cause.
        return self._error if self._error is not None else RuntimeError(f"Lifespan {phase} failed: {message}")

    async def startup(self) -> None:
        self._config.state = {}
        scope: LifespanScope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self._config.state,
        }
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        self._to_app.put_nowait({"type": "lifespan.startup"})
        self._task = asyncio.create_task(self._run(scope, self._to_app))
        message = await self._next("startup")
        if message is None:
            # The app returned or raised before answering: it does not do lifespan. Go on without it,
            # as uvicorn does - unless the contract checker caught it breaking the protocol, or the app
            # is one that always speaks lifespan (then its error is a fault, e.g. in a middleware).
            self._task = None
            error = self._error
            if isinstance(error, ASGIContractError) or (error is not None and self._config.speaks_lifespan):
                raise error
            return
        if message["type"] == "lifespan.startup.complete":
            return
        if message["type"] == "lifespan.startup.failed":
            task, self._task = self._task, None
            await self._finish(task)
            raise self._failure("startup", message.get("message", ""))
        raise RuntimeError(f"The app sent {message['type']!r} in answer to 'lifespan.startup'")

    async def shutdown(self) -> None:
        task, self._task = self._task, None
        if task is None or self._to_app is None:
            return
        if task.done():
            if self._error is not None:
                raise self._error
            return
        self._to_app.put_nowait({"type": "lifespan.shutdown"})
        message = await self._next("shutdown")
        await self._finish(task)
        if message is None:
            if self._error is not None:
                raise self._error
            return
        if message["type"] == "lifespan.shutdown.complete":
            return
        if message["type"] == "lifespan.shutdown.failed":
            raise self._failure("shutdown", message.get("message", ""))
        raise RuntimeError(f"The app sent {message['type']!r} in answer to 'lifespan.shutdown'")

"""Work that runs after the response has been sent.

By the time a background task runs, the client already has its answer: an
exception can no longer become an error response, and letting it escape would
only make the server log a confusing "exception after response". So a failing
task is logged once, with the name of the function that failed and the request
it followed, and the next task still runs.

A test wants to see the failure instead: while :data:`raise_task_errors` is
true (the ``TestClient`` sets it unless ``raise_server_exceptions=False``), a
failing task raises, after the tasks queued behind it ran as they would in
production. :func:`report_after_response` is that choice, for typed handlers'
dependency teardowns (which run after the tasks) too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import cast

from typing_extensions import ParamSpec

from typedasgi.concurrency import is_async_callable, run_in_threadpool, unwrap_partial
from typedasgi.log_names import request_line
from typedasgi.types import Scope

__all__ = ["BackgroundTask", "BackgroundTasks", "raise_task_errors", "report_after_response", "run_after_response"]

P = ParamSpec("P")

logger: logging.Logger = logging.getLogger("typedasgi.background")

raise_task_errors: ContextVar[bool] = ContextVar("typedasgi.background.raise_task_errors", default=False)
"""True where a task's error should be raised to the caller rather than logged (set by the TestClient)."""


_after_response_to: ContextVar[Scope | None] = ContextVar("typedasgi.background.after_response_to", default=None)
"""The scope of the request whose response the tasks now running followed, named in a failure's log line."""


def report_after_response(what: str, error: Exception) -> None:
    """Log ``error`` once as "``what`` failed": the client has its answer, nothing can change it now.

    Where :data:`raise_task_errors` is set it is raised instead, for the test to see.
    """
    if raise_task_errors.get():
        raise error
    scope = _after_response_to.get()
    if scope is not None and (scope["type"] == "http" or scope["type"] == "websocket"):
        logger.error("%s failed after %s", what, request_line(scope), exc_info=error)
    else:
        logger.error("%s failed", what, exc_info=error)


async def run_after_response(task: BackgroundTask, scope: Scope) -> None:
    """Run a response's ``task`` once the response is sent: a failure's log line names the request it followed."""
    token = _after_response_to.set(scope)
    try:
        await task()
    finally:
        _after_response_to.reset(token)


def _qualified_name(func: object) -> str:
    func = unwrap_partial(func)
    name = getattr(func, "__qualname__", None)
    if not isinstance(name, str):  # a callable object: name its class
        name = type(func).__qualname__
    module = getattr(func, "__module__", None)
    return f"{module}.{name}" if isinstance(module, str) else name


class BackgroundTask:
    """``func(*args, **kwargs)``, to run after the response: sync in the thread pool, async awaited."""

    __slots__ = ("func", "args", "kwargs", "is_async")

    def __init__(self, func: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        self.func: Callable[..., object] = func
        self.args: tuple[object, ...] = args
        self.kwargs: dict[str, object] = kwargs
        self.is_async: bool = is_async_callable(func)  # decided once, not per call

    @property
    def name(self) -> str:
        """The task function's qualified name, as it appears in log records."""
        return _qualified_name(self.func)

    async def __call__(self) -> None:
        """Run the task; an ``Exception`` it raises is logged, not raised (unless :data:`raise_task_errors`)."""
        try:
            if self.is_async:
                await cast(Awaitable[object], self.func(*self.args, **self.kwargs))
            else:
                await run_in_threadpool(self.func, *self.args, **self.kwargs)
        except Exception as error:
            report_after_response(f"Background task {self.name}", error)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class BackgroundTasks(BackgroundTask):
    """Several tasks run one after the other; one failing does not stop the rest."""

    __slots__ = ("tasks",)

    def __init__(self, tasks: Sequence[BackgroundTask] | None = None) -> None:
        # No func of its own: the attributes of a single task describe this group.
        super().__init__(self._run_all)
        self.tasks: list[BackgroundTask] = list(tasks) if tasks else []

    def add_task(self, func: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue ``func(*args, **kwargs)`` after the tasks already added."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def _run_all(self) -> None:
        errors: list[Exception] = []
        for task in self.tasks:
            try:
                await task()  # raises only where raise_task_errors is set; otherwise the task logged it
            except Exception as error:
                errors.append(error)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ExceptionGroup(f"{len(errors)} background tasks failed", errors)

    async def __call__(self) -> None:
        await self._run_all()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.tasks!r})"

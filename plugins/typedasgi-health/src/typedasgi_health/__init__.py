"""typedasgi-health: ``/health/live`` and ``/health/ready`` for every typedasgi app.

Installed, it adds itself to every typedasgi app (entry point ``health``):

* ``GET /health/live``: 200 while the process serves requests at all;
* ``GET /health/ready``: 200 when every readiness check passes, else 503 with
  each check's outcome; also 503 once the app is shutting down. Overlapping
  requests share each check's run (:class:`CheckRun`), so probes cannot pile
  calls onto a dependency, and each waits at most the check's ``timeout``.

Other plugins contribute readiness checks through this plugin's own hook,
``typedasgi_health_checks`` (added with pluggy's ``add_hookspecs``), typed like
typedasgi's hooks::

    from typedasgi_health import ReadinessCheck, health_hookimpl

    class DatabasePlugin:
        @health_hookimpl.checks
        def checks(self, app: PluginApp) -> Sequence[ReadinessCheck]:
            return [ReadinessCheck("database", self.ping)]

The implementation is optional for pluggy: the plugin works whether or not
typedasgi-health is installed. An app adds its own checks, or moves the
endpoints, with its own instance: ``TypedASGI(plugins=[HealthPlugin(path="/healthz",
checks=[...])])``.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import pluggy

from typedasgi.hooks import HookImplDecorator, PluginApp, hookimpl
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, Response
from typedasgi.routing import BaseRoute, Mount, Route
from typedasgi_health import hookspecs
from typedasgi_health.hookspecs import ReadinessCheck

__all__ = ["CheckRun", "HealthEndpoints", "HealthHookImpls", "HealthPlugin", "ReadinessCheck", "health_hookimpl", "plugin"]


class HealthHookImpls:
    """Typed decorators for this plugin's hooks: ``@health_hookimpl.checks``."""

    def __init__(self) -> None:
        self.checks = HookImplDecorator(hookspecs.typedasgi_health_checks, optionalhook=True)


health_hookimpl = HealthHookImpls()


class CheckRun:
    """One readiness check's run, shared by the requests that arrive while it is in flight.

    However many ``/ready`` requests come at once, each dependency is asked once
    at a time; and a check that hangs, even one that ignores its cancellation,
    is never started again while it still runs: each request waits at most the
    check's ``timeout`` and answers ``timeout``.
    """

    __slots__ = ("_abandoned", "_task", "check")

    def __init__(self, check: ReadinessCheck) -> None:
        self.check = check
        self._task: asyncio.Task[str] | None = None
        self._abandoned: asyncio.Task[str] | None = None  # the run cancelled at its timeout

    async def outcome(self) -> str:
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._task = asyncio.create_task(self._run(self.check))
        done, _ = await asyncio.wait((task,), timeout=self.check.timeout)
        if not done:
            task.cancel()  # not awaited: a check slow to stop does not hold the answer
            self._abandoned = task
            return "timeout"
        if task.cancelled():
            return "timeout" if task is self._abandoned else "error: CancelledError"
        return task.result()

    @staticmethod
    async def _run(check: ReadinessCheck) -> str:
        try:
            passed = await check.check()
        except Exception as exc:  # a failing dependency is an answer here, not a server error
            return f"error: {type(exc).__name__}"
        return "ok" if passed else "failed"


class HealthEndpoints:
    """The two endpoints of one app, with its checks and whether it is shutting down."""

    def __init__(self, checks: Sequence[ReadinessCheck]) -> None:
        self.checks = tuple(checks)
        self.runs = tuple(CheckRun(check) for check in self.checks)
        self.stopping = False

    async def live(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(self, request: Request) -> Response:
        if self.stopping:
            return JSONResponse({"status": "shutting down", "checks": {}}, status_code=503)
        outcomes = await asyncio.gather(*(run.outcome() for run in self.runs))
        results = {check.name: outcome for check, outcome in zip(self.checks, outcomes)}
        ok = all(outcome == "ok" for outcome in outcomes)
        body = {"status": "ok" if ok else "unavailable", "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)


class HealthPlugin:
    """The plugin: the endpoints under ``path``, its hook for other plugins, and a lifespan flag."""

    plugin_name = "health"

    def __init__(self, path: str = "/health", checks: Sequence[ReadinessCheck] = ()) -> None:
        self.path = path.rstrip("/")
        self.checks = tuple(checks)
        self._endpoints: weakref.WeakKeyDictionary[PluginApp, HealthEndpoints] = weakref.WeakKeyDictionary()

    @hookimpl.add_hookspecs
    def add_hookspecs(self, pluginmanager: pluggy.PluginManager) -> None:
        pluginmanager.add_hookspecs(hookspecs)

    @hookimpl.routes
    def routes(self, app: PluginApp) -> Sequence[BaseRoute]:
        contributed = [check for checks in app.plugins.call(hookspecs.typedasgi_health_checks, app=app) for check in checks]
        endpoints = self._endpoints[app] = HealthEndpoints([*self.checks, *contributed])
        inner = [
            Route("/live", endpoints.live, methods=["GET"], name="live", include_in_schema=False),
            Route("/ready", endpoints.ready, methods=["GET"], name="ready", include_in_schema=False),
        ]
        return [Mount(self.path, routes=inner, name="health")]

    @hookimpl.lifespan
    @contextlib.asynccontextmanager
    async def lifespan(self, app: PluginApp) -> AsyncIterator[Mapping[str, Any] | None]:
        endpoints = self._endpoints.get(app)
        if endpoints is not None:
            endpoints.stopping = False
        try:
            yield None
        finally:
            if endpoints is not None:
                endpoints.stopping = True  # from here on: not ready, let the load balancer drain us


plugin = HealthPlugin()
"""The instance the entry point loads."""

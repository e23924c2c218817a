"""typedasgi-health: the endpoints, readiness checks from the app and from other plugins, shut-down."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import typedasgi_health
from typedasgi.applications import TypedASGI
from typedasgi.hooks import PluginApp
from typedasgi.testclient import TestClient
from typedasgi.types import HTTPRequestEvent, HTTPScope, SendEvent
from typedasgi_health import HealthPlugin, ReadinessCheck, health_hookimpl


async def passes() -> bool:
    return True


async def fails() -> bool:
    return False


async def hangs() -> bool:
    await asyncio.sleep(10)
    return True


async def raises() -> bool:
    raise ConnectionRefusedError("db down")


def test_live_and_ready_without_checks() -> None:
    client = TestClient(TypedASGI(plugins=[HealthPlugin()], autoload_plugins=False))
    assert client.get("/health/live").json() == {"status": "ok"}
    assert client.get("/health/ready").json() == {"status": "ok", "checks": {}}
    assert client.head("/health/live").status_code == 200
    assert client.post("/health/live").status_code == 405


def test_ready_reports_every_check_and_is_503_when_one_is_not_ok() -> None:
    checks = [
        ReadinessCheck("db", passes),
        ReadinessCheck("cache", fails),
        ReadinessCheck("queue", hangs, timeout=0.05),
        ReadinessCheck("search", raises),
    ]
    client = TestClient(TypedASGI(plugins=[HealthPlugin(path="/healthz/", checks=checks)], autoload_plugins=False))
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"db": "ok", "cache": "failed", "queue": "timeout", "search": "error: ConnectionRefusedError"},
    }
    assert client.get("/health/ready").status_code == 404


class Database:
    """Another plugin, contributing a check through typedasgi-health's own hook."""

    plugin_name = "database"

    def __init__(self, up: bool) -> None:
        self.up = up

    async def ping(self) -> bool:
        return self.up

    @health_hookimpl.checks
    def checks(self, app: PluginApp) -> Sequence[ReadinessCheck]:
        return [ReadinessCheck("database", self.ping)]


def test_other_plugins_add_checks_through_the_health_hook() -> None:
    database = Database(up=True)
    app = TypedASGI(plugins=[database, HealthPlugin(checks=[ReadinessCheck("own", passes)])], autoload_plugins=False)
    client = TestClient(app)
    assert client.get("/health/ready").json() == {"status": "ok", "checks": {"own": "ok", "database": "ok"}}
    database.up = False
    assert client.get("/health/ready").status_code == 503
    assert app.plugins.pluginmanager.hook.typedasgi_health_checks.has_spec()


def test_a_plugin_implementing_the_health_hook_loads_without_health() -> None:
    app = TypedASGI(plugins=[Database(up=True)], autoload_plugins=False)
    assert app.plugins.names == ("database",)
    assert TestClient(app).get("/health/ready").status_code == 404


def test_not_ready_once_shut_down_and_ready_again_after_a_restart() -> None:
    app = TypedASGI(plugins=[HealthPlugin()], autoload_plugins=False)
    with TestClient(app) as client:
        assert client.get("/health/ready").status_code == 200
    after = TestClient(app).get("/health/ready")
    assert (after.status_code, after.json()["status"]) == (503, "shutting down")
    assert TestClient(app).get("/health/live").status_code == 200
    with TestClient(app) as client:
        assert client.get("/health/ready").status_code == 200


def test_installed_it_is_found_through_its_entry_point() -> None:
    app = TypedASGI(autoload_plugins=True)
    assert app.plugins.get("health") is typedasgi_health.plugin
    assert TestClient(app).get("/health/live").status_code == 200


async def status_of(app: TypedASGI, path: str) -> int:
    """One GET straight through the ASGI interface (many can run at once, unlike TestClient's)."""
    sent: list[int] = []

    async def receive() -> HTTPRequestEvent:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: SendEvent) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    scope: HTTPScope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return sent[0]


def test_concurrent_readiness_requests_share_one_run_of_each_check() -> None:
    started = 0
    release = asyncio.Event()

    async def slow_database() -> bool:
        nonlocal started
        started += 1
        await release.wait()
        return True

    app = TypedASGI(plugins=[HealthPlugin(checks=[ReadinessCheck("db", slow_database)])], autoload_plugins=False)

    async def main() -> list[int]:
        requests = [asyncio.create_task(status_of(app, "/health/ready")) for _ in range(50)]
        for _ in range(100):  # no I/O on the way: every request reaches the check meanwhile
            await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(*requests)

    assert asyncio.run(asyncio.wait_for(main(), 10)) == [200] * 50
    assert started == 1  # not one database call per request: a burst of probes cannot pile onto a dependency


def test_a_check_that_ignores_its_cancellation_is_bounded_and_not_started_again() -> None:
    started = 0
    stop = asyncio.Event()

    async def stubborn() -> bool:
        nonlocal started
        started += 1
        while not stop.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await stop.wait()
        return True

    async def cancelled_inside() -> bool:
        raise asyncio.CancelledError  # e.g. a client library's own task cancelled under it

    checks = [ReadinessCheck("stubborn", stubborn, timeout=0.05), ReadinessCheck("odd", cancelled_inside)]
    app = TypedASGI(plugins=[HealthPlugin(checks=checks)], autoload_plugins=False)

    async def main() -> tuple[list[int], bool]:
        asyncio.get_running_loop().call_later(10, stop.set)  # the test's bound: a request that waits on the check ends
        statuses = [await status_of(app, "/health/ready") for _ in range(3)]
        answered_while_it_hung = not stop.is_set()
        stop.set()
        return statuses, answered_while_it_hung

    assert asyncio.run(main()) == ([503, 503, 503], True)
    assert started == 1
    response = TestClient(app).get("/health/ready")
    assert response.json()["checks"] == {"stubborn": "ok", "odd": "error: CancelledError"}

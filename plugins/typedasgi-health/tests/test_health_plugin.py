"""typedasgi-health: the endpoints, readiness checks from the app and from other plugins, shut-down."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import typedasgi_health
from typedasgi.applications import TypedASGI
from typedasgi.hooks import PluginApp
from typedasgi.testclient import TestClient
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

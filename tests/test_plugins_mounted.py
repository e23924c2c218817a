"""Installed plugins apply once per served app: not again in mounted typedasgi apps; the start-up log lists them."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from tests.support import ServerFactory, http_get
from typedasgi.applications import TypedASGI
from typedasgi.plugins import DISABLE_AUTOLOAD_ENV
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse
from typedasgi.routing import Mount, Route, Router
from typedasgi.testclient import TestClient
from typedasgi_health import HealthPlugin


async def ping(request: Request) -> PlainTextResponse:
    return PlainTextResponse("pong")


@pytest.fixture
def autoload_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed first-party plugins load, as in a served app (the test session switches autoload off)."""
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)


def inner_app(**options: object) -> TypedASGI:
    return TypedASGI(routes=[Route("/ping", ping)], **options)  # type: ignore[arg-type]  # test-only pass-through


@pytest.mark.parametrize("lifespan", [True, False], ids=["lifespan-first", "request-first"])
def test_installed_plugins_apply_to_the_outer_app_only(autoload_on: None, lifespan: bool) -> None:
    inner = inner_app()
    outer = TypedASGI(routes=[Mount("/inner", inner), Mount("/deeper", Router([Mount("/inner", inner_app())]))])
    assert "health" in outer.plugins and "health" in inner.plugins  # both found them when created
    client = TestClient(outer)
    with client if lifespan else TestClient(TypedASGI(autoload_plugins=False)):
        assert client.get("/health/live").status_code == 200
        assert client.get("/inner/ping").text == "pong"
        assert client.get("/inner/health/live").status_code == 404
        assert client.get("/deeper/inner/health/live").status_code == 404
        assert client.get("/deeper/inner/ping").text == "pong"
        response = client.get("/inner/ping")
        assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]  # one, from outer
    assert inner.plugins.names == ()
    assert "health" in outer.plugins


def test_an_inner_app_keeps_plugins_it_names_or_asks_for(autoload_on: None) -> None:
    explicit = inner_app(plugins=[HealthPlugin(path="/status")])
    asked = inner_app(autoload_plugins=True)
    outer = TypedASGI(routes=[Mount("/explicit", explicit), Mount("/asked", asked)])
    with TestClient(outer) as client:
        assert client.get("/explicit/status/live").status_code == 200
        assert client.get("/explicit/health/live").status_code == 404  # the installed health: outer only
        assert client.get("/asked/health/live").status_code == 200
    assert explicit.plugins.names == ("health",)


def test_an_inner_app_created_plugin_free_stays_so(autoload_on: None) -> None:
    inner = inner_app(autoload_plugins=False)
    with TestClient(TypedASGI(routes=[Mount("/inner", inner)])) as client:
        assert client.get("/inner/health/live").status_code == 404
    assert inner.plugins.names == ()


def test_the_start_up_log_lists_each_active_plugin_and_what_it_added(
    autoload_on: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="typedasgi.plugins")
    outer = TypedASGI(title="shop", routes=[Mount("/inner", inner_app())])
    with TestClient(outer) as client:
        client.get("/inner/ping")
    reports = [record.getMessage() for record in caplog.records if record.getMessage().startswith("Plugins active")]
    assert len(reports) == 1  # the mounted app has none: it reports nothing
    lines = reports[0].splitlines()
    assert lines[0] == "Plugins active in app 'shop':"
    assert "  health (typedasgi-health 0.1.0): route Mount /health; lifespan" in lines
    assert "  msgpack (typedasgi-msgpack 0.1.0): renderer application/msgpack; body decoder application/msgpack, application/x-msgpack" in lines
    assert "  requestid (typedasgi-requestid 0.1.0): middleware RequestIdMiddleware (outer, order -100)" in lines


SERVED = """
from typedasgi.applications import TypedASGI
from typedasgi.routing import Mount

inner = TypedASGI()
app = TypedASGI(title="served", routes=[Mount("/inner", inner)])
"""


def test_the_server_log_shows_the_report_once(autoload_on: None, serve: ServerFactory, tmp_path: Path) -> None:
    (tmp_path / "served_app.py").write_text(textwrap.dedent(SERVED))
    with serve("served_app:app", app_dir=tmp_path) as base:
        assert http_get(base + "/health/live")[0] == 200
        assert http_get(base + "/inner/health/live")[0] == 404
        log = base.log()
    assert log.count("Plugins active in app") == 1
    assert "Plugins active in app 'served':" in log and "health (typedasgi-health 0.1.0): route Mount /health" in log

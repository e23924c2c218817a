"""typedasgi-requestid: the header, the context variable, the log filter, discovery."""

from __future__ import annotations

import logging
import re

import pytest

import typedasgi_requestid
from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTask
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.testclient import TestClient
from typedasgi.types import Receive, Scope, Send
from typedasgi_requestid import RequestIdFilter, RequestIdMiddleware, RequestIdPlugin, request_id

HEX32 = re.compile(r"[0-9a-f]{32}")


async def echo(request: Request) -> Response:
    return PlainTextResponse(request_id.get() or "none")


def make_app(plugin: RequestIdPlugin | None = None) -> TypedASGI:
    app = TypedASGI(plugins=[plugin or RequestIdPlugin()], autoload_plugins=False)
    app.add_route("/", echo)
    return app


def test_each_request_gets_a_new_id_in_the_header_and_the_context_variable() -> None:
    client = TestClient(make_app())
    first, second = client.get("/"), client.get("/")
    assert HEX32.fullmatch(first.headers["x-request-id"])
    assert first.text == first.headers["x-request-id"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert request_id.get() is None  # reset after the request


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [("abc-123.X:y_z", True), ("x" * 128, True), ("x" * 129, False), ("bad id", False), ("<script>", False)],
)
def test_a_plausible_incoming_id_is_kept_anything_else_replaced(incoming: str, kept: bool) -> None:
    response = TestClient(make_app()).get("/", headers={"X-Request-ID": incoming})
    assert (response.headers["x-request-id"] == incoming) is kept
    assert response.text == response.headers["x-request-id"]


def test_configured_header_and_untrusted_incoming_ids() -> None:
    client = TestClient(make_app(RequestIdPlugin(header="X-Correlation-ID", trust_incoming=False)))
    response = client.get("/", headers={"x-correlation-id": "from-client"})
    assert response.headers["x-correlation-id"] != "from-client"
    assert HEX32.fullmatch(response.headers["x-correlation-id"])
    assert "x-request-id" not in response.headers


def test_the_log_filter_puts_the_id_on_records_also_in_background_tasks() -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("test.requestid")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def later() -> None:
        logger.info("in the background")

    async def logs(request: Request) -> Response:
        logger.info("handling")
        return PlainTextResponse("ok", background=BackgroundTask(later))

    app = make_app()
    app.add_route("/logs", logs)
    try:
        response = TestClient(app).get("/logs")
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    ids = [getattr(record, "request_id") for record in records]
    assert ids == [response.headers["x-request-id"]] * 2 + ["-"]


def test_an_id_the_app_set_itself_is_not_duplicated() -> None:
    async def own(request: Request) -> Response:
        return PlainTextResponse("own", headers={"X-Request-ID": "set-by-app"})

    app = make_app()
    app.add_route("/own", own)
    response = TestClient(app).get("/own")
    assert response.headers.get_list("x-request-id") == ["set-by-app"]


def test_the_middleware_works_alone_around_any_asgi_app() -> None:
    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(request_id.get() or "none")(scope, receive, send)

    response = TestClient(RequestIdMiddleware(raw, header="x-trace")).get("/")
    assert response.text == response.headers["x-trace"]


def test_installed_it_is_found_through_its_entry_point() -> None:
    app = TypedASGI(autoload_plugins=True)
    assert app.plugins.get("requestid") is typedasgi_requestid.plugin
    assert HEX32.fullmatch(TestClient(app).get("/nothing-here").headers["x-request-id"])  # on a 404 too

"""OpenTelemetryMiddleware: one server span per HTTP request, named by the matched route."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.middleware.opentelemetry import OpenTelemetryMiddleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Mount, Route
from typedasgi.testclient import TestClient


async def user(request: Request) -> Response:
    return PlainTextResponse(request.path_params["name"])


async def broken(request: Request) -> Response:
    return PlainTextResponse("no", status_code=503)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def client(exporter: InMemorySpanExporter) -> TestClient:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = TypedASGI(
        routes=[Mount("/api", routes=[Route("/users/{name}", user)]), Route("/broken", broken)],
        middleware=[Middleware(OpenTelemetryMiddleware, tracer_provider=provider, excluded_urls="/health$")],
    )
    return TestClient(app)


def test_a_routed_request_gets_a_span_named_by_its_route_below_the_mount(exporter: InMemorySpanExporter) -> None:
    response = client(exporter).get("/api/users/ann?x=1", headers={"user-agent": "probe"})
    assert response.text == "ann"
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /api/users/{name}"
    assert span.kind is SpanKind.SERVER
    attributes = dict(span.attributes or {})
    assert attributes["http.route"] == "/api/users/{name}"
    assert attributes["http.response.status_code"] == 200
    assert attributes["url.query"] == "x=1"
    assert attributes["user_agent.original"] == "probe"


def test_a_5xx_marks_the_span_as_an_error_and_unmatched_paths_keep_the_method_name(
    exporter: InMemorySpanExporter,
) -> None:
    http = client(exporter)
    http.get("/broken")
    http.get("/nowhere")
    http.get("/health")  # excluded: no span
    broken_span, unmatched_span = exporter.get_finished_spans()
    assert broken_span.status.status_code is StatusCode.ERROR
    assert unmatched_span.name == "GET"
    assert "http.route" not in dict(unmatched_span.attributes or {})


def test_a_method_of_the_clients_own_is_other_and_names_no_span(exporter: InMemorySpanExporter) -> None:
    # A method is any token the client likes: as a span name (by which tracing backends group spans)
    # it would be a new name per request. The HTTP conventions: _OTHER, the span named HTTP.
    http = client(exporter)
    http.request("XCHECKOUT-4F2A", "/api/users/ann")
    http.request("BREW", "/nowhere")
    http.request("PATCH", "/api/users/ann")
    routed, unmatched, known = exporter.get_finished_spans()
    assert routed.name == "HTTP /api/users/{name}"
    assert unmatched.name == "HTTP"
    assert dict(routed.attributes or {})["http.request.method"] == "_OTHER"
    assert dict(routed.attributes or {})["http.request.method_original"] == "XCHECKOUT-4F2A"
    assert dict(unmatched.attributes or {})["http.request.method_original"] == "BREW"
    assert known.name == "PATCH /api/users/{name}"
    assert dict(known.attributes or {})["http.request.method"] == "PATCH"
    assert "http.request.method_original" not in dict(known.attributes or {})

"""Instrumentation written for Starlette (Sentry's is the model) patches its patch points; typedasgi keeps them.

Each test patches as such a library does, through pytest's monkeypatch so the patch is undone after it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import typedasgi.routing as routing_module
from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException
from typedasgi.middleware import Middleware
from typedasgi.middleware.errors import ServerErrorMiddleware
from typedasgi.middleware.exceptions import ExceptionMiddleware
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Route
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Receive, Scope, Send


async def hello(request: Request) -> Response:
    return PlainTextResponse("hello")


async def teapot(request: Request) -> Response:
    raise HTTPException(418)


class Passing:
    """A user's middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def test_a_swapped_request_response_wraps_every_plain_route_built_after(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original = routing_module.request_response

    def instrumented(func: Any) -> Any:
        async def observed(request: Request) -> Response:
            seen.append(request.url.path)
            response: Response = await func(request)
            return response

        return original(observed)

    monkeypatch.setattr(routing_module, "request_response", instrumented)
    client = TestClient(TypedASGI(routes=[Route("/", hello), Route("/also", hello)]))
    assert client.get("/").text == "hello" and client.get("/also").text == "hello"
    assert seen == ["/", "/also"]

    monkeypatch.undo()  # restored: routes built now are called inline again, unobserved
    assert TestClient(TypedASGI(routes=[Route("/", hello)])).get("/").text == "hello"
    assert seen == ["/", "/also"]


@pytest.mark.parametrize("user_middleware", [False, True], ids=["alone", "with-user-middleware"])
def test_layers_patched_through_middleware_all_run(monkeypatch: pytest.MonkeyPatch, user_middleware: bool) -> None:
    """Patching ``Middleware.__init__`` to wrap each layer's class: the built-in layers are built through it too."""
    entered: list[str] = []
    reported: list[int] = []
    original_init = Middleware.__init__

    def wrap_class(cls: Any) -> None:
        old_call = cls.__call__

        async def call(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                entered.append(cls.__name__)
            await old_call(self, scope, receive, send)

        monkeypatch.setattr(cls, "__call__", call)

    def patched_init(self: Middleware, cls: Any, *args: Any, **kwargs: Any) -> None:
        wrap_class(cls)
        original_init(self, cls, *args, **kwargs)
        if cls is ExceptionMiddleware:  # and wrap its handlers, as Sentry does to report 5xx answers
            old_exception_init = cls.__init__

            def exception_init(layer: Any, *a: Any, **kw: Any) -> None:
                old_exception_init(layer, *a, **kw)
                for key, handler in layer._exception_handlers.items():
                    def reporting(request: Any, exc: Any, handler: Any = handler) -> Any:
                        reported.append(exc.status_code)
                        return handler(request, exc)

                    layer._exception_handlers[key] = reporting

            monkeypatch.setattr(cls, "__init__", exception_init)

    monkeypatch.setattr(Middleware, "__init__", patched_init)
    middleware = [Middleware(Passing)] if user_middleware else None
    client = TestClient(TypedASGI(routes=[Route("/", hello), Route("/teapot", teapot)], middleware=middleware))
    assert client.get("/").text == "hello"
    user = ["Passing"] if user_middleware else []
    assert entered == ["ServerErrorMiddleware", *user, "ExceptionMiddleware"]
    assert client.get("/teapot").status_code == 418
    assert reported == [418]

    monkeypatch.undo()  # no instrumentation: a new app takes its own inline path again, the layers uncalled
    entered.clear()
    assert TestClient(TypedASGI(routes=[Route("/", hello)])).get("/").text == "hello"
    assert entered == []
    assert (ServerErrorMiddleware.__call__.__name__, ExceptionMiddleware.__call__.__name__) == ("__call__", "__call__")


def test_request_json_as_starlette_code_reads_it() -> None:
    """``except json.JSONDecodeError`` around ``request.json()``, and ``request._json`` once it was decoded."""

    async def endpoint(request: Request) -> Response:
        assert not hasattr(request, "_json")
        try:
            value = await request.json()
        except json.JSONDecodeError:
            return JSONResponse({"error": "send JSON"}, status_code=400)
        assert request._json is value and await request.json() is value  # decoded once, kept
        return JSONResponse(value)

    client = TestClient(TypedASGI(routes=[Route("/", endpoint, methods=["POST"])]))
    assert client.post("/", content=b'{"a": 1}').json() == {"a": 1}
    refused = client.post("/", content=b"{nope")
    assert (refused.status_code, refused.json()) == (400, {"error": "send JSON"})
    assert client.post("/", content=b"[" * 10_000 + b"]" * 10_000).json() == {"error": "send JSON"}

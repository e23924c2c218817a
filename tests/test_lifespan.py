from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Iterator

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import TypedASGIDeprecationWarning
from typedasgi.middleware import Middleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Mount, Route, Router
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, LifespanScope, Receive, ReceiveEvent, Scope, Send, SendEvent


def recorder(events: list[str], name: str, state: dict[str, object] | None = None):  # type: ignore[no-untyped-def]  # test factory
    @contextlib.asynccontextmanager
    async def lifespan(app: TypedASGI) -> AsyncIterator[dict[str, object] | None]:
        events.append(f"{name} start")
        try:
            yield state
        finally:
            events.append(f"{name} stop")

    return lifespan


async def show_state(request: Request) -> Response:
    return PlainTextResponse(f"{request.state.outer}-{request.state.inner}")


def test_mounted_app_lifespans_run_in_order_and_share_state() -> None:
    events: list[str] = []
    inner = TypedASGI(routes=[Route("/", show_state)], lifespan=recorder(events, "inner", {"inner": "i"}))
    outer = TypedASGI(
        routes=[Route("/", show_state), Mount("/sub", app=inner)],
        lifespan=recorder(events, "outer", {"outer": "o"}),
    )
    with TestClient(outer) as client:
        assert events == ["outer start", "inner start"]
        assert client.get("/").text == "o-i"
        assert client.get("/sub/").text == "o-i"
    assert events == ["outer start", "inner start", "inner stop", "outer stop"]


def test_mounted_app_without_lifespan_support_is_skipped() -> None:
    async def plain(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http", "no lifespan here"
        await PlainTextResponse("plain")(scope, receive, send)

    events: list[str] = []
    app = TypedASGI(routes=[Mount("/plain", app=plain)], lifespan=recorder(events, "app"))
    with TestClient(app) as client:
        assert client.get("/plain/x").text == "plain"
    assert events == ["app start", "app stop"]


def test_mounted_startup_failure_fails_the_parent_and_stops_what_started() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def broken(app: TypedASGI) -> AsyncIterator[None]:
        if not app.debug:  # always here: a generator that fails before it yields
            raise RuntimeError("inner cannot start")
        yield

    app = TypedASGI(
        routes=[Mount("/bad", app=TypedASGI(lifespan=broken))],
        lifespan=recorder(events, "outer"),
    )
    with pytest.raises(Exception, match="inner cannot start"):
        with TestClient(app):
            pass
    assert events == ["outer start", "outer stop"]


def test_shutdown_failure_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def failing_stop(app: TypedASGI) -> AsyncIterator[None]:
        yield
        raise RuntimeError("cannot close pool")

    with pytest.raises(Exception, match="cannot close pool"):
        with TestClient(TypedASGI(lifespan=failing_stop)):
            pass


def test_generator_function_lifespans_still_run_with_starlettes_deprecation_warning() -> None:
    log: list[str] = []

    def sync_lifespan(app: object) -> Iterator[None]:
        log.append("sync start")
        yield
        log.append("sync stop")

    async def async_lifespan(app: object) -> AsyncIterator[None]:
        log.append("async start")
        yield
        log.append("async stop")

    for lifespan, words in ((sync_lifespan, "generator function lifespans are deprecated"),
                            (async_lifespan, "async generator function lifespans are deprecated")):
        with pytest.warns(TypedASGIDeprecationWarning, match=words):
            app = TypedASGI(lifespan=lifespan)  # type: ignore[arg-type]  # the deprecated spelling, on purpose
        with TestClient(app):
            pass
    assert log == ["sync start", "sync stop", "async start", "async stop"]


def test_the_generator_lifespan_warning_points_at_the_line_that_passed_it() -> None:
    async def async_lifespan(app: object) -> AsyncIterator[None]:
        yield

    with pytest.warns(TypedASGIDeprecationWarning) as from_app:
        TypedASGI(lifespan=async_lifespan)  # type: ignore[arg-type]  # the deprecated spelling, on purpose
    with pytest.warns(TypedASGIDeprecationWarning) as from_router:
        Router(lifespan=async_lifespan)  # type: ignore[arg-type]  # the deprecated spelling, on purpose
    assert [warning.filename for warning in [*from_app, *from_router]] == [__file__, __file__]


def test_the_generator_lifespan_warning_obeys_filters_on_typedasgi_routing_as_starlettes_on_starlette_routing() -> None:
    async def async_lifespan(app: object) -> AsyncIterator[None]:
        yield

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "async generator function lifespans", TypedASGIDeprecationWarning,
                                module=r"typedasgi\.routing")
        TypedASGI(lifespan=async_lifespan)  # type: ignore[arg-type]  # the deprecated spelling, on purpose
        Router(lifespan=async_lifespan)  # type: ignore[arg-type]  # the deprecated spelling, on purpose


class RefusesOptions:
    """A middleware whose options are wrong: the stack cannot be built, so start-up fails."""

    def __init__(self, app: ASGIApp, level: int = 0) -> None:
        if level < 1:
            raise ValueError("level must be at least 1")
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)  # pragma: no cover - never built


async def _startup_failure_message(app: TypedASGI) -> str:
    """Drive the lifespan as a server would; the message of the ``lifespan.startup.failed`` the app sends."""
    sent: list[SendEvent] = []
    asked = False

    async def receive() -> ReceiveEvent:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "lifespan.startup"}
        await asyncio.Event().wait()  # never set: the app fails before it asks again
        raise AssertionError("the app asked for shutdown after a failed start-up")

    async def send(message: SendEvent) -> None:
        sent.append(message)

    scope: LifespanScope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    with contextlib.suppress(Exception):  # the app raises the failure again after reporting it
        await asyncio.wait_for(app(scope, receive, send), 10)
    last = sent[-1]
    assert last["type"] == "lifespan.startup.failed", sent
    return last.get("message", "")


def test_a_failed_startup_tells_the_server_the_whole_traceback() -> None:
    """uvicorn prints the message alone (no traceback of its own for a reported failure): it must hold the failing line."""
    @contextlib.asynccontextmanager
    async def database_down(app: TypedASGI) -> AsyncIterator[None]:
        if not app.debug:  # always here: a generator that fails before it yields
            raise ConnectionError("db down")
        yield

    message = asyncio.run(_startup_failure_message(TypedASGI(lifespan=database_down)))
    assert message.startswith("Traceback (most recent call last):")
    assert 'raise ConnectionError("db down")' in message and message.endswith("ConnectionError: db down")

    refused = TypedASGI(middleware=[Middleware(RefusesOptions, level=0)])
    message = asyncio.run(_startup_failure_message(refused))
    assert message.startswith("Traceback") and message.endswith("ValueError: level must be at least 1")

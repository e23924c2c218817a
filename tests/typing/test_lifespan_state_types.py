"""The lifespan's state reaches handlers with its declared type.

An app declares its state once, as a ``TypedDict`` (item access) or as a class
of attributes, yields it from the lifespan, and annotates handlers with
``Request[ThatState]``: the type checker follows every read.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Protocol, TypedDict

from typing_extensions import assert_type

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import State
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route
from typedasgi.testclient import TestClient
from typedasgi.websockets import WebSocket


class Pool:
    def name(self) -> str:
        return "pool-1"


class AppState(TypedDict):
    pool: Pool
    greeting: str


class AttrState(Protocol):
    pool: Pool


@contextlib.asynccontextmanager
async def lifespan(app: TypedASGI) -> AsyncGenerator[AppState, None]:
    yield {"pool": Pool(), "greeting": "hi"}


async def by_item(request: Request[AppState]) -> Response:
    assert_type(request.state, AppState)
    assert_type(request.state["pool"], Pool)
    return PlainTextResponse(request.state["pool"].name() + request.state["greeting"])


async def by_attribute(request: Request[AttrState]) -> Response:
    assert_type(request.state.pool, Pool)
    return PlainTextResponse(request.state.pool.name())


async def untyped_default(request: Request) -> Response:
    assert_type(request.state, State)
    return PlainTextResponse("ok")


async def websocket_state(websocket: WebSocket[AppState]) -> None:
    assert_type(websocket.state["pool"], Pool)
    await websocket.accept()
    await websocket.send_text(websocket.state["pool"].name())
    await websocket.close()


app = TypedASGI(
    routes=[Route("/item", by_item), Route("/attr", by_attribute), Route("/default", untyped_default)],
    lifespan=lifespan,
)
app.add_websocket_route("/ws", websocket_state)


def test_typed_state_at_run_time() -> None:
    with TestClient(app) as client:
        assert client.get("/item").text == "pool-1hi"
        assert client.get("/attr").text == "pool-1"
        assert client.get("/default").text == "ok"
        with client.websocket_connect("/ws") as session:
            assert session.receive_text() == "pool-1"

"""On a server that runs no lifespan, a missing lifespan value says so instead of a bare KeyError."""

from __future__ import annotations

import contextlib
import textwrap
import time
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ServerFactory, http_get
from typedasgi.applications import TypedASGI
from typedasgi.datastructures import State, StateKeyError
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route, Router
from typedasgi.testclient import TestClient


@contextlib.asynccontextmanager
async def lifespan(app: TypedASGI) -> AsyncGenerator[dict[str, str], None]:
    yield {"db": "connected"}


async def attribute(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(request.state.db))


async def item(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(request.state["db"]))


async def lenient(request: Request) -> PlainTextResponse:
    state = request.state
    return PlainTextResponse(f"{getattr(state, 'db', '-')} {state.get('db', '-')} {hasattr(state, 'db')}")


def make_app() -> TypedASGI:
    return TypedASGI(lifespan=lifespan, routes=[Route("/attr", attribute), Route("/item", item), Route("/lenient", lenient)])


@pytest.mark.parametrize("path", ["/attr", "/item"])
def test_without_a_lifespan_the_error_says_no_lifespan_ran(path: str) -> None:
    client = TestClient(make_app(), raise_server_exceptions=True)  # no `with`: no lifespan
    with pytest.raises(StateKeyError, match=r"request.state has no 'db': no lifespan ran for this app") as error:
        client.get(path)
    caught: Exception = error.value
    assert isinstance(caught, KeyError)
    assert isinstance(caught, AttributeError)
    assert "daphne" in str(error.value)


def test_with_the_lifespan_the_values_are_there_and_a_missing_one_is_a_plain_miss() -> None:
    app = make_app()
    with TestClient(app) as client:
        assert client.get("/attr").text == "connected"
        assert client.get("/item").text == "connected"
    own = app.state  # the app's own State: nothing about lifespans there
    with pytest.raises(AttributeError, match="nothing stored it yet"):
        own.missing  # the read is the test


def test_defaults_and_membership_still_work_without_a_lifespan() -> None:
    assert TestClient(make_app()).get("/lenient").text == "- - False"


SERVED = """
import contextlib
from typedasgi.applications import TypedASGI
from typedasgi.responses import PlainTextResponse

@contextlib.asynccontextmanager
async def lifespan(app):
    yield {"db": "connected"}

app = TypedASGI(lifespan=lifespan)

@app.route("/")
async def read(request):
    return PlainTextResponse(request.state.db)
"""


@pytest.mark.parametrize("lifespan_option", ["on", "off"])
def test_a_real_server_with_the_lifespan_off(serve: ServerFactory, tmp_path: Path, lifespan_option: str) -> None:
    (tmp_path / "stateapp.py").write_text(textwrap.dedent(SERVED))
    with serve("stateapp:app", app_dir=tmp_path, args=("--lifespan", lifespan_option)) as base:
        status, _, body = http_get(base + "/")
        expected = "request.state has no 'db': no lifespan ran for this app"
        deadline = time.monotonic() + 10
        while lifespan_option == "off" and expected not in base.log() and time.monotonic() < deadline:
            time.sleep(0.05)  # the error is logged once the 500 has gone out
        log = base.log()
    if lifespan_option == "on":
        assert (status, body) == (200, b"connected")
    else:
        assert status == 500
        assert expected in log


def test_a_lifespan_state_key_named_like_a_mapping_method_reads_as_the_value() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[dict[str, Any]]:
        state: dict[str, Any] = {"items": [], "count": 0}
        yield state
        assert state == {"items": [1, 1], "count": 0}  # the list is shared, the count per request

    async def add(request: Request) -> Response:
        items: list[int] = getattr(request.state, "items")  # state.items, typed: the mapping's method statically
        items.append(1)
        request.state.count += 1
        return PlainTextResponse(str(len(items)))

    with TestClient(Router([Route("/", add)], lifespan=lifespan)) as client:
        assert client.get("/").text == "1"
        assert client.get("/").text == "2"
    assert sorted(State({"a": 1}).keys()) == ["a"]  # with no such key, still the mapping's methods

"""Lifespan state declared once as a TypedDict and read with its type in handlers."""

import contextlib
from collections.abc import AsyncGenerator
from typing import TypedDict

from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route


class Counter:
    def __init__(self) -> None:
        self.value = 0


class State(TypedDict):
    counter: Counter
    name: str


@contextlib.asynccontextmanager
async def lifespan(app: TypedASGI) -> AsyncGenerator[State]:
    yield {"counter": Counter(), "name": "probe"}


async def count(request: Request[State]) -> Response:
    request.state["counter"].value += 1
    return PlainTextResponse(f'{request.state["name"]}: {request.state["counter"].value}')


app = TypedASGI(routes=[Route("/", count)], lifespan=lifespan)

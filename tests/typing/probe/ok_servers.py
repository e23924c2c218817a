"""A TypedASGI app handed to uvicorn, hypercorn, granian and asgiref's typed entry points."""

import uvicorn
from asgiref.typing import ASGI3Application
from granian.constants import Interfaces
from granian.server.embed import Server
from hypercorn.asyncio import serve  # pyright: ignore[reportUnknownVariableType]  # hypercorn's WSGI type is partly unknown
from hypercorn.config import Config

from typedasgi.applications import TypedASGI

app = TypedASGI()
as_asgiref: ASGI3Application = app


async def with_hypercorn() -> None:
    await serve(app, Config())


def with_uvicorn() -> None:
    uvicorn.run(app, host="127.0.0.1", port=8000)


def with_granian() -> Server:
    return Server(app, interface=Interfaces.ASGI)

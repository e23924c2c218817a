"""Middleware whose ``app`` parameter another framework's way types: accepted, whatever the three arguments' types."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware

Message = MutableMapping[str, Any]
StarletteStyleApp = Callable[[Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class TakesAny:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]) -> None:
        await self.app(scope, receive, send)


class TakesStarlettesAppType:
    def __init__(self, app: StarletteStyleApp, *, header: str = "x") -> None:
        self.app = app
        self.header = header

    async def __call__(self, scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]) -> None:
        await self.app(scope, receive, send)


class TakesAnyCallable:
    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]) -> None:
        await self.app(scope, receive, send)


app = TypedASGI(
    middleware=[Middleware(TakesAny), Middleware(TakesStarlettesAppType, header="y"), Middleware(TakesAnyCallable)]
)
app.add_middleware(TakesStarlettesAppType, header="z")

"""Starlette's pure-ASGI middleware idiom after ``sed s/starlette/typedasgi/``."""

from typedasgi.datastructures import MutableHeaders
from typedasgi.types import ASGIApp, Message, Receive, Scope, Send


class CustomHeaderMiddleware:
    def __init__(self, app: ASGIApp, header_value: str = "Example") -> None:
        self.app = app
        self.header_value = header_value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("X-Custom-Header", self.header_value)
                if message["status"] == 404:
                    message["status"] = 410
            await send(message)

        await self.app(scope, receive, send_wrapper)

"""Headers read from what the spec types as an iterable (Starlette's docs build them this way), and trailers edited."""

from typedasgi.datastructures import Headers, MutableHeaders
from typedasgi.types import ASGIApp, HTTPScope, Receive, Send, SendEvent


class ReadsResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        request_headers = Headers(raw=scope["headers"])
        _ = request_headers.get("accept")

        async def send_wrapper(message: SendEvent) -> None:
            if message["type"] == "http.response.start":
                _ = Headers(raw=message.get("headers", [])).get("content-type")
            elif message["type"] == "http.response.trailers":
                MutableHeaders(scope=message)["x-checksum"] = "0"
            await send(message)

        await self.app(scope, receive, send_wrapper)

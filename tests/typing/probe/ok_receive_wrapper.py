"""A middleware that counts request bytes by wrapping ``receive``."""

from typedasgi.types import ASGIApp, Receive, ReceiveEvent, Scope, Send


class BodySize:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.total = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting_receive() -> ReceiveEvent:
            message = await receive()
            if message["type"] == "http.request":
                self.total += len(message.get("body", b""))
            return message

        await self.app(scope, counting_receive, send)

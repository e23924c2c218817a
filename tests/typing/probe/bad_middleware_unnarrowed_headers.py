"""Editing headers of a message not yet narrowed to one that has them."""

from typedasgi.datastructures import MutableHeaders
from typedasgi.types import ASGIApp, Message, Receive, Scope, Send


class AddHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_wrapper(message: Message) -> None:
            MutableHeaders(scope=message).append("x-a", "1")  # E: arg-type: Argument "scope" to "MutableHeaders" ## reportArgumentType: parameter "scope"
            await send(message)

        await self.app(scope, receive, send_wrapper)

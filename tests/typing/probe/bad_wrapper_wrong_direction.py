"""A receive wrapper that returns a message meant for send."""

from typedasgi.types import ASGIApp, Message, Receive, Scope, Send


class Replay:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def replay() -> Message:
            return {"type": "http.response.body", "body": b"cached"}

        await self.app(scope, replay, send)  # E: arg-type: Argument 2 to "__call__" of "ASGIApp" ## reportArgumentType: parameter "receive" of type "Receive"

"""Replacing the status with a string inside a send wrapper."""

from typedasgi.types import ASGIApp, Message, Receive, Scope, Send


class Gone:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["status"] = "410"  # E: typeddict-item: Value of "status" has incompatible type "str"; expected "int" ## reportGeneralTypeIssues: is not assignable to "int"
            await send(message)

        await self.app(scope, receive, send_wrapper)

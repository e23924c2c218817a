"""A misspelt type in a comparison: the branch can never run."""

from typedasgi.types import ASGIApp, Message, Receive, Scope, Send


class Logger:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.strat": print("started")  # E: comparison-overlap: Non-overlapping equality check ## reportUnnecessaryComparison: will always evaluate to False
            await send(message)

        await self.app(scope, receive, send_wrapper)

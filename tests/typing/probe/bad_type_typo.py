"""A misspelt message type."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.begin", "status": 200})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: parameter "message"

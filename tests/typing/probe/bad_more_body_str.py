"""more_body as a string."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"", "more_body": "no"})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: parameter "message"

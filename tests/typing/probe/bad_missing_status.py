"""http.response.start without its status."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "headers": []})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: parameter "message"
    await send({"type": "http.response.body"})

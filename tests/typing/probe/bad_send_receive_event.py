"""Sending a message that only a server sends (http.request)."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.request", "body": b""})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: parameter "message"

"""Bytes in the text slot of websocket.send."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": b"hello"})  # E: typeddict-item: TypedDict item "text" has type "str | None" ## reportArgumentType: parameter "message"

"""A WebSocket close code as a string."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": "1000"})  # E: typeddict-item: TypedDict item "code" has type "int" ## reportArgumentType: parameter "message"

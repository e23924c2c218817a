"""A WebSocket close reason as an int."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "websocket.close", "code": 1000, "reason": 4})  # E: typeddict-item: TypedDict item "reason" has type "str | None" ## reportArgumentType: parameter "message"

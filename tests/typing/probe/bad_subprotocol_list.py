"""Accepting with a list of subprotocols instead of one."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept", "subprotocol": list(scope.get("subprotocols", []))})  # E: typeddict-item: TypedDict item "subprotocol" has type "str | None" ## reportArgumentType: list[str]

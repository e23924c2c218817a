"""A denial response's status as a string."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "websocket.http.response.start", "status": "403"})  # E: arg-type: incompatible type "dict[str, str]" ## reportArgumentType: parameter "message"
    await send({"type": "websocket.http.response.body", "body": b"no"})

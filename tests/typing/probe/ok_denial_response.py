"""Refusing a WebSocket handshake with an HTTP answer (the denial response extension)."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 401, "headers": [(b"www-authenticate", b"Basic")]})
        await send({"type": "websocket.http.response.body", "body": b"log in first"})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": "log in first"})
